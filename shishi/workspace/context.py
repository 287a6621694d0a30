from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from shishi.orgs import access

from .models import Notification


def shell(request):
    """The navigation of the signed-in workspace: only the entries the user's roles allow, and
    the count of unread notifications (one query per page, on the bell's index)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"nav": []}
    nav = [(reverse("workspace:home"), _("Workspace"), "home")]
    if access.has_perm(user, access.VIEW_COMMITMENTS):
        nav.append((reverse("commitments:home"), _("Commitments"), "commitments"))
        nav.append((reverse("commitments:programmes"), _("Lists"), "programmes"))
        nav.append((reverse("commitments:adjustments"), _("Adjustments"), "adjustments"))
    if access.has_perm(user, access.VIEW_ORGS):
        nav.append((reverse("orgs:tree"), _("Organisations"), "orgs"))
    if access.has_perm(user, access.VIEW_AUDIT):
        nav.append((reverse("audit:list"), _("Audit log"), "audit"))
    if access.has_perm(user, access.MANAGE_SETTINGS):
        nav.append((reverse("workdays:calendar"), _("Calendar"), "calendar"))
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    label = (
        ngettext("Notifications (%(n)d unread)", "Notifications (%(n)d unread)", unread)
        % {"n": unread}
        if unread
        else gettext("Notifications")
    )
    nav.append((reverse("workspace:notifications"), label, "notifications"))
    return {"nav": nav, "unread_notifications": unread}
