from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shishi.orgs import access


def shell(request):
    """The navigation of the signed-in workspace: only the entries the user's roles allow."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"nav": []}
    nav = [(reverse("workspace:home"), _("Workspace"), "home")]
    if access.has_perm(user, access.VIEW_ORGS):
        nav.append((reverse("orgs:tree"), _("Organisations"), "orgs"))
    if access.has_perm(user, access.VIEW_AUDIT):
        nav.append((reverse("audit:list"), _("Audit log"), "audit"))
    return {"nav": nav}
