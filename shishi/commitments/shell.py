"""What commitments show in the workspace shell: menu entries and a panel on the home page."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shishi.extensions import MenuEntry, Panel
from shishi.orgs import access

from . import access as caccess
from .lights import due_soon_cutoff
from .models import OPEN, Programme, ProgressReport


def menu(user) -> list[MenuEntry]:
    if not access.has_perm(user, caccess.VIEW_COMMITMENTS):
        return []
    return [
        MenuEntry(reverse("commitments:home"), _("Commitments"), "commitments", 10),
        MenuEntry(reverse("commitments:programmes"), _("Lists"), "programmes", 11),
        MenuEntry(reverse("commitments:adjustments"), _("Adjustments"), "adjustments", 12),
    ]


def desk(request) -> list[Panel]:
    """The counts that say what waits in commitments, each linking to the page where it is
    handled: overdue and due soon in scope, reports to review, adjustments to decide. A few
    counting queries; the lists themselves are on the commitments desk."""
    user = request.user
    if not access.has_perm(user, caccess.VIEW_COMMITMENTS):
        return []
    today = timezone.localdate()
    cutoff = due_soon_cutoff(today)
    counts = (
        caccess.commitments_for(user)
        .filter(status__in=OPEN, programme__status=Programme.Status.PUBLISHED)
        .aggregate(
            overdue=Count("id", filter=Q(deadline__lt=today)),
            due_soon=Count("id", filter=Q(deadline__gte=today, deadline__lt=cutoff)),
        )
    )
    home = reverse("commitments:home")
    rows = [
        (counts["overdue"], _("overdue"), f"{home}#h-overdue", "overdue"),
        (counts["due_soon"], _("due soon"), f"{home}#h-due-soon", "due_soon"),
    ]
    if access.has_perm(user, caccess.REVIEW_PROGRESS):
        waiting = (
            caccess.reports_for(user, caccess.REVIEW_PROGRESS)
            .filter(state=ProgressReport.State.SUBMITTED)
            .exclude(submitted_by=user)
            .count()
        )
        rows.append((waiting, _("progress reports to review"), f"{home}#h-review", "review"))
    if caccess.can_decide_any(user):
        waiting = caccess.awaiting_decision(user).count()
        rows.append(
            (waiting, _("adjustments to decide"), reverse("commitments:adjustments"), "approve")
        )
    return [
        Panel(
            _("Commitments"),
            "commitments/_desk_panel.html",
            {"rows": rows, "desk": home},
            order=10,
        )
    ]
