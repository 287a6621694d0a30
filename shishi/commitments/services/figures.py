"""The headline figures of a programme, and their formulas: the one place they are computed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy

from shishi.lib.figures import Figure, FigureSet, percent

from ..models import DONE, OPEN, REMOVED, Commitment, Programme, Status


def _sum(statuses) -> Any:
    return lambda counts, _figures: sum(counts.get(s, 0) for s in statuses)


# The headline figures of a programme, in the order they are computed: the one place their
# formulas live. The public page, the API and the open data all compute them here.
FIGURES = FigureSet(
    Figure(
        "on_list",
        gettext_lazy("on the list = every commitment not cancelled or merged away"),
        _sum([s for s in Status.values if s not in REMOVED]),
    ),
    Figure(
        "delivered",
        gettext_lazy("delivered = commitments delivered or accepted"),
        _sum(DONE),
    ),
    Figure("open", gettext_lazy("open = commitments planned, in progress or deferred"), _sum(OPEN)),
    Figure(
        "removed",
        gettext_lazy("removed = commitments cancelled or merged into another"),
        _sum(REMOVED),
    ),
    Figure(
        "rate",
        gettext_lazy("rate = delivered ÷ on the list × 100, to one decimal"),
        lambda _counts, f: percent(f["delivered"], f["on_list"]),
    ),
)
FORMULAS = FIGURES.formulas


def figures(counts: dict[str, int]) -> dict:
    """The headline figures (``FIGURES``) from counts by status, with the counts themselves."""
    counts = {s: counts.get(s, 0) for s in Status.values}
    return {**FIGURES.compute(counts), "counts": counts}


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
