"""Access helpers for commitments, progress reports and adjustments.

A commitment is within a user's scope for a permission when the user holds it on the commitment's
county (county roles), on its responsible unit, or — for reading — on one of its co-units.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from shishi.orgs import access
from shishi.orgs.access import deny

from .models import Adjustment, Commitment, Programme, ProgressReport


def _q(paths: list[str], *fields: str) -> Q:
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{f}__path__startswith": p}) for p in paths for f in fields))


def commitments_for(user, perm: str = access.VIEW_COMMITMENTS) -> QuerySet[Commitment]:
    paths = access.scope_paths(user, perm)
    fields = ["county", "responsible_unit"]
    if perm == access.VIEW_COMMITMENTS:
        # Co-units read the commitments they work on; a subquery keeps rows unique.
        co = Commitment.objects.filter(_q(paths, "co_units")).values("pk")
        return Commitment.objects.filter(_q(paths, *fields) | Q(pk__in=co))
    return Commitment.objects.filter(_q(paths, *fields))


def can(user, perm: str, commitment: Commitment) -> bool:
    paths = access.scope_paths(user, perm)
    orgs = [commitment.county.path, commitment.responsible_unit.path]
    if perm == access.VIEW_COMMITMENTS:
        orgs += [o.path for o in commitment.co_units.all()]
    return any(o.startswith(p) for o in orgs for p in paths)


def can_on_county(user, perm: str, county) -> bool:
    return access.has_perm_on(user, perm, county)


def programmes_for(user, perm: str = access.VIEW_COMMITMENTS) -> QuerySet[Programme]:
    """Programmes of the counties in scope, and of counties a user's unit works in."""
    paths = access.scope_paths(user, perm)
    own = _q(paths, "county")
    units = Commitment.objects.filter(_q(paths, "responsible_unit", "co_units")).values(
        "programme_id"
    )
    return Programme.objects.filter(own | Q(pk__in=units))


def reports_for(user, perm: str = access.REVIEW_PROGRESS) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(commitment__in=commitments_for(user, perm))


def adjustments_for(user, perm: str = access.VIEW_COMMITMENTS) -> QuerySet[Adjustment]:
    """Adjustments of the counties in scope, those the user proposed, and those concerning a
    commitment the user may see (a unit officer follows changes to their unit's commitments)."""
    paths = access.scope_paths(user, perm)
    mine = Q(proposed_by=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    touching = Adjustment.commitments.through.objects.filter(
        commitment__in=commitments_for(user, perm)
    ).values("adjustment_id")
    return Adjustment.objects.filter(_q(paths, "county") | mine | Q(pk__in=touching))


def get_commitment(request, pk, perm: str = access.VIEW_COMMITMENTS) -> Commitment:
    commitment = (
        commitments_for(request.user, perm)
        .filter(pk=pk)
        .select_related("programme", "county", "responsible_unit", "category")
        .first()
    )
    if commitment is None:
        raise deny(request, "commitments.commitment", pk)
    return commitment


def get_report(request, pk, perm: str = access.REVIEW_PROGRESS) -> ProgressReport:
    report = (
        reports_for(request.user, perm)
        .filter(pk=pk)
        .select_related("commitment__programme", "commitment__responsible_unit", "submitted_by")
        .first()
    )
    if report is None:
        raise deny(request, "commitments.progressreport", pk)
    return report


def get_adjustment(request, pk, perm: str = access.VIEW_COMMITMENTS) -> Adjustment:
    adjustment = (
        adjustments_for(request.user, perm).filter(pk=pk).select_related("programme").first()
    )
    if adjustment is None:
        raise deny(request, "commitments.adjustment", pk)
    return adjustment
