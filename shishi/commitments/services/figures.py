"""The headline figures of a programme, and their formulas: the one place they are computed."""

from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext_lazy

from ..models import DONE, OPEN, REMOVED, Commitment, Programme, Status

FORMULAS = {
    "on_list": gettext_lazy("on the list = every commitment not cancelled or merged away"),
    "delivered": gettext_lazy("delivered = commitments delivered or accepted"),
    "open": gettext_lazy("open = commitments planned, in progress or deferred"),
    "removed": gettext_lazy("removed = commitments cancelled or merged into another"),
    "rate": gettext_lazy("rate = delivered ÷ on the list × 100, to one decimal"),
}


def figures(counts: dict[str, int]) -> dict:
    """The headline figures from counts by status: the one place their formulas live.

    on the list = every commitment not cancelled or merged away;
    delivered = those delivered or accepted; rate = delivered ÷ on the list.
    """
    counts = {s: counts.get(s, 0) for s in Status.values}
    on_list = sum(counts[s] for s in Status.values if s not in REMOVED)
    delivered = sum(counts[s] for s in DONE)
    return {
        "on_list": on_list,
        "delivered": delivered,
        "open": sum(counts[s] for s in OPEN),
        "removed": sum(counts[s] for s in REMOVED),
        "rate": round(delivered * 100 / on_list, 1) if on_list else 0.0,
        "counts": counts,
    }


def summary(programme: Programme) -> dict:
    """The programme's headline figures (see ``figures``), in one query."""
    return summaries([programme])[programme.pk]


def summaries(programmes: list[Programme]) -> dict[int, dict]:
    """The headline figures of many programmes at once, in one grouped query."""
    counts: dict[int, dict[str, int]] = {p.pk: {} for p in programmes}
    rows = (
        Commitment.objects.filter(programme__in=[p.pk for p in programmes])
        .values("programme_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["programme_id"]][row["status"]] = row["n"]
    return {pk: figures(by_status) for pk, by_status in counts.items()}
