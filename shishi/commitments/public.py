"""What the public may see of commitments: one rule for the portal, the API and the open data.

A programme is public once published (and stays so when closed); a draft never is. Of a public
programme the public sees its commitments, the progress reports a reviewer accepted, the evidence
of those reports that is public, and the adjustments that were approved and applied. Rejected or
withdrawn proposals, reports awaiting review or returned, and internal evidence are not part of
the public record. Nobody is named: who proposed or approved is told by role and organisation.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from shishi.pagecache import memoised

from .models import Adjustment, Commitment, Evidence, Programme, ProgressReport

PUBLIC_STATES = [Programme.Status.PUBLISHED, Programme.Status.CLOSED]


def programmes() -> QuerySet[Programme]:
    """Programmes the public may read: published or closed, never a draft."""
    return Programme.objects.filter(status__in=PUBLIC_STATES)


def get_programme(pk: int) -> Programme:
    """A public programme, or 404 exactly like an id that does not exist. A plain Http404, not
    ``access.deny``: visitors are anonymous, and an audit entry for every stray public 404 would
    let any crawler flood the log."""
    programme = programmes().filter(pk=pk).select_related("county").first()
    if programme is None:
        raise Http404
    return programme


def commitments() -> QuerySet[Commitment]:
    """Commitments of public programmes (those removed by an adjustment included, as removed)."""
    return Commitment.objects.filter(programme__status__in=PUBLIC_STATES)


def reports() -> QuerySet[ProgressReport]:
    """Progress reports a reviewer accepted: only they change the public page."""
    return ProgressReport.objects.filter(state=ProgressReport.State.ACCEPTED)


def evidence() -> QuerySet[Evidence]:
    """Evidence the public may open: public files of accepted reports on public programmes."""
    return Evidence.objects.filter(
        is_public=True,
        report__state=ProgressReport.State.ACCEPTED,
        report__commitment__programme__status__in=PUBLIC_STATES,
    )


def changes(programme: Programme) -> QuerySet[Adjustment]:
    """The public change log of a programme: adjustments approved and applied."""
    return Adjustment.objects.filter(programme=programme, state=Adjustment.State.APPROVED).exclude(
        applied_at=None
    )


# --- the county a public page shows, for the page cache (shishi/pagecache.py) ---------------------


@memoised
def county_of_programme(pk: int) -> int | None:
    return Programme.objects.filter(pk=pk).values_list("county_id", flat=True).first()


@memoised
def county_of_commitment(pk: int) -> int | None:
    return Commitment.objects.filter(pk=pk).values_list("county_id", flat=True).first()
