"""What each app contributes to the shared parts, named on its AppConfig.

The shared parts (the workspace shell, the access helpers, the notifications) must work for
mechanisms they do not know by name. So an app says what it brings with dotted paths on its
``AppConfig``, and the shared part asks for every app's contribution here:

    class Config(AppConfig):
        name = "shishi.commitments"
        role_permissions = "shishi.commitments.access.ROLE_PERMISSIONS"   # {role kind: {perm}}
        notices = "shishi.commitments.notices.NOTICES"                    # {kind: Notice}
        menu = "shishi.commitments.shell.menu"                            # (user) -> [MenuEntry]
        desk = "shishi.commitments.shell.desk"                            # (request) -> [Panel]

No registry and no signals: the list is ``INSTALLED_APPS``, read once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string


@functools.cache
def contributions(attribute: str) -> tuple[tuple[str, Any], ...]:
    """``(app label, object)`` for every installed app whose config names ``attribute``, in the
    order of ``INSTALLED_APPS``."""
    found = []
    for config in apps.get_app_configs():
        path = getattr(config, attribute, None)
        if path:
            found.append((config.label, import_string(path)))
    return tuple(found)


@dataclass(frozen=True)
class MenuEntry:
    """One link in the workspace's navigation. ``key`` names it for tests and styles; entries are
    shown by ``order``, then in the order of ``INSTALLED_APPS``."""

    url: str
    label: Any
    key: str
    order: int = 50


@dataclass
class Panel:
    """One panel on the workspace's home page (the desk): a title, a template and its context.

    A panel says what waits for the user in one mechanism, with counts and links to the pages
    where the work is done; it costs a few counting queries, never a list of rows.
    """

    title: Any
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50
