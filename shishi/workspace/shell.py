"""The shell's own entries: the workspace home and the audit log."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shishi.extensions import MenuEntry
from shishi.orgs import access


def menu(user) -> list[MenuEntry]:
    entries = [MenuEntry(reverse("workspace:home"), _("Workspace"), "home", 0)]
    if access.has_perm(user, access.VIEW_AUDIT):
        entries.append(MenuEntry(reverse("workspace:audit"), _("Audit log"), "audit", 70))
    return entries
