"""The open data: a published programme's whole list, for anyone, as CSV or JSON, streamed.

Each row is one commitment with what its public page shows, plus the two flags the headline
figures count, so that anyone can recompute the published figures from the file alone:

    on the list = rows with on_list = 1
    delivered   = rows with delivered = 1
    rate        = delivered ÷ on the list × 100, to one decimal

The JSON file ends with those figures, computed from the very rows above them by the same
function that computes them for the public page (``services.figures``), with their formulas.

Nothing personal leaves here: the lead official is a post (副县长), units are organisations, and
no reporter, reviewer or proposer appears. Rows are read in chunks and written as they are read,
so memory does not grow with the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shishi.ledger.exporter import OpenData

from . import services
from .lights import light_of
from .models import DONE, REMOVED, Commitment, Programme

CHUNK = 500

# Each column, with its meaning (the JSON file carries these; docs/open-data.md lists them).
FIELDS: dict[str, Any] = {
    "programme": _("the programme's id"),
    "year": _("the programme's year"),
    "county_code": _("the county's code"),
    "county": _("the county's name"),
    "number": _("the commitment's number on the list"),
    "title": _("title"),
    "category": _("category code"),
    "category_name": _("category"),
    "responsible_unit_code": _("the responsible unit's code"),
    "responsible_unit": _("the responsible unit"),
    "lead_official": _("the lead official's post"),
    "status": _(
        "status code: planned, in_progress, deferred, delivered, accepted, cancelled, merged"
    ),
    "status_name": _("status"),
    "on_list": _("1 when on the list (not cancelled or merged away), else 0"),
    "delivered": _("1 when delivered or accepted, else 0"),
    "percent_complete": _("percent complete, from the last accepted progress report"),
    "budget_planned": _("planned budget, yuan"),
    "budget_spent": _("budget spent, yuan"),
    "start_date": _("start date"),
    "deadline": _("deadline"),
    "delivered_on": _("the day it was delivered, if it was"),
    "light": _(
        "the light on the export's date: on_track, due_soon, overdue, done_on_time, done_late; "
        "empty once removed"
    ),
    "merged_into": _("the number of the commitment it was merged into, if any"),
}
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
STATUS = list(FIELDS).index("status")


class OpenDataExporter(OpenData):
    """One published programme's list; ``iter_csv`` and ``iter_json`` yield the file in pieces."""

    fields = FIELDS
    figures = services.FIGURES
    json_items = "commitments"

    def __init__(self, programme: Programme, today: dt.date | None = None):
        super().__init__()
        self.programme = programme
        self.today = today or timezone.localdate()

    def filename(self, fmt: str) -> str:
        return f"commitments-{self.programme.county.code}-{self.programme.year}.{fmt}"

    def tally(self, row: list[Any]) -> list[str]:
        return [row[STATUS]]

    def computed(self) -> dict[str, Any]:
        return services.figures(dict(self.counts))

    def json_head(self) -> dict[str, Any]:
        p = self.programme
        return {
            "programme": {"id": p.pk, "year": p.year, "title": p.title, "status": p.status},
            "county": {"code": p.county.code, "name": p.county.name},
            "as_of": self.today,
            **super().json_head(),
        }

    def rows(self) -> Iterator[list[Any]]:
        p = self.programme
        language = get_language() or ""
        commitments = (
            Commitment.objects.filter(programme=p)
            .select_related("category", "responsible_unit", "merged_into")
            .order_by("number")
        )
        for c in commitments.iterator(chunk_size=CHUNK):
            light = light_of(c, self.today)
            yield [
                p.pk,
                p.year,
                p.county.code,
                p.county.name,
                c.number,
                c.title,
                c.category.code,
                c.category.label(language),
                c.responsible_unit.code,
                c.responsible_unit.name,
                c.lead_official,
                c.status,
                str(c.get_status_display()),
                0 if c.status in REMOVED else 1,
                1 if c.status in DONE else 0,
                c.percent_complete,
                c.budget_planned,
                c.budget_spent,
                c.start_date,
                c.deadline,
                c.delivered_on,
                str(light) if light is not None else None,
                c.merged_into.number if c.merged_into_id else None,
            ]


def open_data(programme: Programme, fmt: str) -> Iterator[bytes]:
    """The open-data file of ``programme`` in ``fmt`` ("csv" or "json"), in pieces."""
    return OpenDataExporter(programme).iter_format(fmt)
