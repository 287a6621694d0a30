"""Commitment fields as people read them: one owner for the workspace and the public change log.

A field's value comes either from a snapshot or the audit log (``services.public_fields``: units
by name, the category by code) or from an adjustment's payload (units and categories as the
proposer gave them: codes, names or ids). ``Values`` shows both the same way, in the active
language.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from shishi.audit.services import diff
from shishi.orgs.models import Org

from .models import Category, Commitment, Milestone, Status, Target

# The fields of a commitment a person may see change, in the order pages list them.
FIELDS = [
    "number",
    "title",
    "description",
    "category",
    "lead_official",
    "responsible_unit",
    "co_units",
    "budget_planned",
    "budget_spent",
    "start_date",
    "deadline",
    "targets",
    "milestones",
    "status",
    "percent_complete",
    "delivered_on",
    "merged_into",
]


def label(field: str) -> str:
    """The field's name as a page shows it, capitalised."""
    if field == "targets":
        return capfirst(Target._meta.verbose_name_plural)
    if field == "milestones":
        return capfirst(Milestone._meta.verbose_name_plural)
    try:
        return capfirst(Commitment._meta.get_field(field).verbose_name)
    except Exception:  # noqa: BLE001 - a field no longer on the model still has a name
        return field


def money(amount: Decimal | None) -> dict | None:
    """An amount for the page: in 万元 with two decimals from 10,000 yuan up, else in yuan; the
    exact yuan always goes with it (shown in a title attribute)."""
    if amount is None:
        return None
    exact = _("%(amount)s yuan") % {"amount": f"{amount:,.2f}"}
    if amount >= 10000:
        wan = (amount / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return {
            "text": _("%(amount)s ten-thousand yuan") % {"amount": f"{wan:,.2f}"},
            "exact": exact,
        }
    return {"text": exact, "exact": exact}


def number(value: Any) -> str:
    """A stored decimal without trailing zeros: 535.00 reads 535, 12.50 reads 12.5."""
    try:
        n = Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{n:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class Values:
    """Readable values of commitment fields: one query for the categories, and one for the
    units that ``payloads`` name by code (names pass as they are)."""

    def __init__(self, payloads: list[dict] | tuple = ()):
        codes: set[str] = set()
        for data in payloads:
            codes.add(str(data.get("responsible_unit") or ""))
            codes.update(str(c) for c in data.get("co_units") or [])
        codes.discard("")
        self.units = (
            dict(Org.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
        )
        language = get_language() or ""
        self.categories: dict[str, str] = {}
        for c in Category.objects.all():
            shown = c.label(language)
            for key in (c.code, c.name, c.name_en):
                self.categories.setdefault(key, shown)

    @staticmethod
    def status(value: Any) -> str:
        """A status code's label (needs no query)."""
        return str(Status(value).label) if value in Status.values else str(value or "—")

    def unit(self, value: Any) -> str:
        return self.units.get(str(value), str(value))

    def __call__(self, field: str, value: Any) -> str:
        if value in (None, "", []):
            return "—"
        if field == "status":
            return str(Status(value).label) if value in Status.values else str(value)
        if field == "category":
            return self.categories.get(str(value), str(value))
        if field == "responsible_unit":
            return self.unit(value)
        if field == "co_units":
            return "、".join(self.unit(v) for v in value)
        if field in ("budget_planned", "budget_spent"):
            try:
                return money(Decimal(str(value).replace(",", "")))["text"]
            except (InvalidOperation, ValueError):
                return str(value)
        if field == "percent_complete":
            return f"{value}%"
        if field == "merged_into":
            return _("No. %(n)s") % {"n": value}
        if field == "targets":
            return "; ".join(
                _("%(name)s: %(baseline)s → %(target)s %(unit)s, actual %(actual)s")
                % {
                    "name": t.get("name", ""),
                    "baseline": number(t.get("baseline") or 0),
                    "target": number(t.get("target_value", "")),
                    "unit": t.get("unit", ""),
                    "actual": number(t.get("actual_value") or 0),
                }
                for t in value
            )
        if field == "milestones":
            return "; ".join(
                f"{m.get('title', '')} {m.get('planned_date') or ''}"
                + (f" ✓ {m['done_date']}" if m.get("done_date") else "")
                for m in value
            )
        return str(value)


def readable_changes(before: dict | None, after: dict, values: Values) -> list[dict]:
    """``[{field, label, before, after}]`` for each field that differs; a commitment new to the
    list (nothing before) shows its main fields with an empty "before"."""
    if before is None:
        changes = {
            f: [None, after.get(f)] for f in ["title", "responsible_unit", "deadline", "status"]
        }
    else:
        changes = diff(before, after)
    return [
        {
            "field": field,
            "label": label(field),
            "before": values(field, old),
            "after": values(field, new),
        }
        for field, (old, new) in changes.items()
    ]
