"""Who may do what with commitments, and the access helpers every view and endpoint uses.

The permissions are this mechanism's own; ``ROLE_PERMISSIONS`` grants them to the roles of the
organisation tree (``orgs.access.permissions()`` merges every mechanism's table). A commitment is
within a user's scope for a permission when the user holds it on the commitment's county (county
roles), on its responsible unit, or — for reading — on one of its co-units.
"""

from __future__ import annotations

from django.db.models import QuerySet

from shishi.orgs import access
from shishi.orgs.access import deny, orgs_under, scope_paths, scoped, union_of
from shishi.orgs.models import OrgKind, RoleKind

from .models import Adjustment, Commitment, Programme, ProgressReport

VIEW_COMMITMENTS = "commitments.view"
REPORT_PROGRESS = "commitments.report"
REVIEW_PROGRESS = "commitments.review"
MANAGE_COMMITMENTS = "commitments.manage"
# Hears of the deadlines of its unit's commitments (the daily reminders).
REMINDED = "commitments.reminded"
PROPOSE_ADJUSTMENT = "adjustments.propose"
APPROVE_ADJUSTMENT = "adjustments.approve"
APPROVE_ADJUSTMENT_FINAL = "adjustments.approve_final"

R = RoleKind
ROLE_PERMISSIONS: dict[str, set[str]] = {
    R.COUNTY_ADMIN: {
        VIEW_COMMITMENTS,
        REPORT_PROGRESS,
        REVIEW_PROGRESS,
        MANAGE_COMMITMENTS,
        PROPOSE_ADJUSTMENT,
        APPROVE_ADJUSTMENT,
    },
    # A county leader (县领导) gives the second approval where a programme asks for two.
    R.LEADER: {VIEW_COMMITMENTS, APPROVE_ADJUSTMENT_FINAL},
    R.TOWN_ADMIN: {VIEW_COMMITMENTS, REPORT_PROGRESS, PROPOSE_ADJUSTMENT},
    R.UNIT_OFFICER: {VIEW_COMMITMENTS, REPORT_PROGRESS, PROPOSE_ADJUSTMENT, REMINDED},
    R.BRANCH_SECRETARY: {VIEW_COMMITMENTS},
    R.CADRE: {VIEW_COMMITMENTS},
    R.SUPERVISOR: {VIEW_COMMITMENTS},
    R.AUDITOR: {VIEW_COMMITMENTS},
}

# The organisation fields through which a commitment belongs to an organisation, with the kind
# of organisation each can point at (a commitment's county is a county).
_VIA = {"county": OrgKind.COUNTY, "responsible_unit": None}
_VIA_READING = {**_VIA, "co_units": None}


def commitments_for(user, perm: str = VIEW_COMMITMENTS) -> QuerySet[Commitment]:
    """The commitments of the counties in scope, of the units in scope and — for reading — of
    the units in scope that work on them as co-units."""
    via = _VIA_READING if perm == VIEW_COMMITMENTS else _VIA
    return scoped(Commitment.objects.all(), user, perm, via=via)


def can(user, perm: str, commitment: Commitment) -> bool:
    """``commitments_for`` for one commitment already read (no query but for co-units)."""
    paths = scope_paths(user, perm)
    orgs = [commitment.county.path, commitment.responsible_unit.path]
    if perm == VIEW_COMMITMENTS:
        orgs += [o.path for o in commitment.co_units.all()]
    return any(o.startswith(p) for o in orgs for p in paths)


def programmes_for(user, perm: str | tuple[str, ...] = VIEW_COMMITMENTS) -> QuerySet[Programme]:
    """Programmes of the counties in scope, and of counties a user's unit works in: the one rule
    for which programme a user may reach, for any of ``perm`` (one or several)."""
    perms = (perm,) if isinstance(perm, str) else perm
    arms = []
    for p in perms:
        arms.append(scoped(Programme.objects.all(), user, p, via={"county": OrgKind.COUNTY}))
        units = scoped(
            Commitment.objects.all(),
            user,
            p,
            via={"responsible_unit": None, "co_units": None},
        )
        arms.append(Programme.objects.filter(pk__in=units.values("programme_id")))
    return Programme.objects.filter(pk__in=union_of(*(a.values("pk") for a in arms)))


def reports_for(user, perm: str = REVIEW_PROGRESS) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(commitment__in=commitments_for(user, perm))


def adjustments_for(user, perm: str = VIEW_COMMITMENTS) -> QuerySet[Adjustment]:
    """Adjustments of the counties in scope, those the user proposed, and those concerning a
    commitment the user may see (a unit officer follows changes to their unit's commitments)."""
    extra = []
    if scope_paths(user, perm):
        touching = Adjustment.commitments.through.objects.filter(
            commitment__in=commitments_for(user, perm)
        )
        extra.append(touching.values("adjustment_id"))
    if getattr(user, "is_authenticated", False):
        extra.append(Adjustment.objects.filter(proposed_by=user).values("pk"))
    return scoped(Adjustment.objects.all(), user, perm, via={"county": OrgKind.COUNTY}, extra=extra)


# --- who decides an adjustment: one rule for the desk, the queue, the page and the service --------

# The permission each open state needs: the first approval, then (on two-level programmes) the
# final one.
DECISION_LEVELS = {
    Adjustment.State.PROPOSED: (1, APPROVE_ADJUSTMENT),
    Adjustment.State.FIRST_APPROVED: (2, APPROVE_ADJUSTMENT_FINAL),
}


def may_decide(user, adjustment: Adjustment, decided_by: set[int] | None = None) -> bool:
    """Whether ``user`` may decide ``adjustment`` now: holds the permission of its level on its
    county, did not propose it, and has not decided it at an earlier level (``decided_by``, the
    ids of those who did, when already read)."""
    level = DECISION_LEVELS.get(adjustment.state)
    if level is None or adjustment.proposed_by_id == user.pk:
        return False
    if decided_by is None:
        decided_by = set(adjustment.decisions.values_list("decided_by_id", flat=True))
    if user.pk in decided_by:
        return False
    return access.has_perm_on(user, level[1], adjustment.county)


def awaiting_decision(user) -> QuerySet[Adjustment]:
    """The adjustments ``user`` may decide now (``may_decide`` as a query): the desk's "awaiting
    my approval" and the approval queue read this one list."""
    arms = []
    for state, (_level, perm) in DECISION_LEVELS.items():
        paths = scope_paths(user, perm)
        if paths:
            counties = orgs_under(paths, OrgKind.COUNTY)
            arms.append(Adjustment.objects.filter(state=state, county__in=counties).values("pk"))
    if not arms:
        return Adjustment.objects.none()
    return (
        Adjustment.objects.filter(pk__in=union_of(*arms))
        .exclude(proposed_by=user)
        .exclude(decisions__decided_by=user)
    )


def can_decide_any(user) -> bool:
    return any(access.has_perm(user, perm) for _level, perm in DECISION_LEVELS.values())


# --- fetching one object ------------------------------------------------------------------------


def get_programme(request, pk, perm: str | tuple[str, ...] = VIEW_COMMITMENTS) -> Programme:
    """A programme the user may reach for ``perm`` (or any of several), or a logged 404."""
    programme = programmes_for(request.user, perm).filter(pk=pk).select_related("county").first()
    if programme is None:
        raise deny(request, "commitments.programme", pk)
    return programme


def get_commitment(request, pk, perm: str = VIEW_COMMITMENTS) -> Commitment:
    commitment = (
        commitments_for(request.user, perm)
        .filter(pk=pk)
        .select_related("programme", "county", "responsible_unit", "category")
        .first()
    )
    if commitment is None:
        raise deny(request, "commitments.commitment", pk)
    return commitment


def get_report(request, pk, perm: str = REVIEW_PROGRESS) -> ProgressReport:
    report = (
        reports_for(request.user, perm)
        .filter(pk=pk)
        .select_related("commitment__programme", "commitment__responsible_unit", "submitted_by")
        .first()
    )
    if report is None:
        raise deny(request, "commitments.progressreport", pk)
    return report


def get_adjustment(request, pk, perm: str = VIEW_COMMITMENTS) -> Adjustment:
    adjustment = (
        adjustments_for(request.user, perm)
        .filter(pk=pk)
        .select_related("programme", "county")
        .first()
    )
    if adjustment is None:
        raise deny(request, "commitments.adjustment", pk)
    return adjustment
