"""The notifications' own kind: a message whose text is given, not rendered (an operator's word,
and the notifications sent before they had kinds, which keep their text as it was written)."""

from .services import Notice

TEXT = "notifications.text"

NOTICES = {TEXT: Notice("%(text)s")}
