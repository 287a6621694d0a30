"""What a login hears about its own account: every role granted to it or taken from it."""

from django.utils.translation import gettext_lazy as _

from shishi.notifications.services import Notice

from .models import RoleKind

ROLE_GRANTED = "orgs.role_granted"
ROLE_REVOKED = "orgs.role_revoked"


def _role(params: dict) -> dict:
    """The role's code as its label in the reader's language."""
    kind = params.get("role", "")
    label = RoleKind(kind).label if kind in RoleKind.values else kind
    return {**params, "role": label}


NOTICES = {
    ROLE_GRANTED: Notice(_("You were granted the role %(role)s on %(org)s by %(by)s."), _role),
    ROLE_REVOKED: Notice(_("Your role %(role)s on %(org)s was revoked by %(by)s."), _role),
}
