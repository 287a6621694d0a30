"""Commitment data: one validator for forms, imports, the API and adjustments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from shishi.lib.parse import whole_number
from shishi.orgs.models import Org, OrgKind

from ..models import Category, Commitment

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
]
REQUIRED = ["title", "category", "responsible_unit", "start_date", "deadline"]


def clean_decimal(value, field: str, errors: dict, *, allow_none: bool = True) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        errors[field] = _("A number is required.")
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        errors[field] = _("%(value)s is not a number.") % {"value": value}
        return None
    if not number.is_finite():
        errors[field] = _("%(value)s is not a number.") % {"value": value}
        return None
    if number < 0:
        errors[field] = _("%(value)s is negative; amounts and targets cannot be.") % {
            "value": value
        }
        return None
    if abs(number) >= Decimal(10) ** 14:
        errors[field] = _("%(value)s is too large.") % {"value": value}
        return None
    return number.quantize(Decimal("0.01"))


def clean_date(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}
        return None


def clean_text(value, field: str, limit: int, errors: dict) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors[field] = _("At most %(n)d characters; this has %(m)d.") % {
            "n": limit,
            "m": len(text),
        }
    return text


def clean_unit(value, county: Org, field: str, errors: dict) -> Org | None:
    """A unit given as an Org, an id or a code; it must belong to the programme's county."""
    if isinstance(value, Org):
        unit = value
    elif value in (None, ""):
        return None
    else:
        text = str(value).strip()
        unit = Org.objects.filter(code=text).first()
        if unit is None and (pk := whole_number(text)) is not None:
            unit = Org.objects.filter(pk=pk).first()
        if unit is None:
            unit = Org.objects.filter(county=county, name=text).first()
    if unit is None or unit.county_id != county.pk or unit.kind == OrgKind.COUNTY:
        errors[field] = _("%(value)s is not a unit of %(county)s.") % {
            "value": value,
            "county": county.name,
        }
        return None
    return unit


# The largest number on a list (the column is a 32-bit integer; a list has hundreds).
MAX_NUMBER = 999_999


def clean_commitment(data: dict, county: Org, *, partial: bool = False) -> dict:
    """Validated, normalised commitment fields from ``data``; ValidationError lists every problem.

    Units are Org objects, codes or ids; the category a Category or its code; dates ISO text or
    dates; amounts and target values decimals or text without units (the Excel importer turns
    ``6869万元`` into yuan before calling this).
    """
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown commitment fields {sorted(unknown)}")
    if not partial:
        for name in REQUIRED:
            if data.get(name) in (None, "", []):
                errors[name] = _("This field is required.")
    if "number" in data and data["number"] not in (None, ""):
        try:
            out["number"] = int(data["number"])
            if not 1 <= out["number"] <= MAX_NUMBER:
                raise ValueError
        except (TypeError, ValueError):
            errors["number"] = _("%(value)s is not a positive whole number.") % {
                "value": data["number"]
            }
    if "title" in data:
        out["title"] = clean_text(data["title"], "title", 200, errors)
        if not out["title"] and "title" not in errors:
            errors["title"] = _("This field is required.")
    if "description" in data:
        out["description"] = str(data["description"] or "").strip()
    if "lead_official" in data:
        out["lead_official"] = clean_text(data["lead_official"], "lead_official", 100, errors)
    if data.get("category") not in (None, ""):
        category = data["category"]
        if not isinstance(category, Category):
            text = str(category).strip()
            category = (
                Category.objects.filter(code=text).first()
                or Category.objects.filter(name=text).first()
            )
        if category is None:
            errors["category"] = _("Unknown category: %(value)s.") % {"value": data["category"]}
        out["category"] = category
    if data.get("responsible_unit") not in (None, ""):
        out["responsible_unit"] = clean_unit(
            data["responsible_unit"], county, "responsible_unit", errors
        )
    if "co_units" in data:
        units = []
        for value in _listed(data["co_units"], "co_units", errors, of=(str, int, Org)):
            unit = clean_unit(value, county, "co_units", errors)
            if unit is not None:
                units.append(unit)
        out["co_units"] = units
    for name in ["budget_planned", "budget_spent"]:
        if name in data:
            out[name] = clean_decimal(data[name], name, errors)
    for name in ["start_date", "deadline"]:
        if name in data:
            out[name] = clean_date(data[name], name, errors)
    if out.get("start_date") and out.get("deadline") and out["deadline"] < out["start_date"]:
        errors["deadline"] = _("The deadline %(deadline)s is before the start %(start)s.") % {
            "deadline": out["deadline"],
            "start": out["start_date"],
        }
    if "targets" in data:
        targets = []
        for i, row in enumerate(_listed(data["targets"], "targets", errors), start=1):
            sub: dict = {}
            target = {
                "name": clean_text(row.get("name"), "name", 100, sub),
                "unit": clean_text(row.get("unit"), "unit", 20, sub),
                "baseline": clean_decimal(row.get("baseline") or 0, "baseline", sub),
                "target_value": clean_decimal(
                    row.get("target_value"), "target_value", sub, allow_none=False
                ),
                "actual_value": clean_decimal(row.get("actual_value") or 0, "actual_value", sub),
            }
            if not target["name"]:
                sub["name"] = _("This field is required.")
            for key, message in sub.items():
                errors[f"targets.{i}.{key}"] = message
            targets.append(target)
        out["targets"] = targets
    if "milestones" in data:
        milestones = []
        for i, row in enumerate(_listed(data["milestones"], "milestones", errors), start=1):
            sub = {}
            milestone = {
                "title": clean_text(row.get("title"), "title", 200, sub),
                "planned_date": clean_date(row.get("planned_date"), "planned_date", sub),
                "done_date": clean_date(row.get("done_date"), "done_date", sub),
            }
            if not milestone["title"]:
                sub["title"] = _("This field is required.")
            if milestone["planned_date"] is None and "planned_date" not in sub:
                sub["planned_date"] = _("This field is required.")
            for key, message in sub.items():
                errors[f"milestones.{i}.{key}"] = message
            milestones.append(milestone)
        out["milestones"] = milestones
    if errors:
        raise ValidationError(errors)
    return out


def _listed(value, field: str, errors: dict, of: tuple = (dict,)) -> list:
    """``value`` as a list of items of the types ``of`` (rows of targets or milestones: objects);
    anything else (a text, a number, a list of something else, as an API client may send) is an
    error on ``field`` and no items."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple) and all(isinstance(item, of) for item in value):
        return list(value)
    if of == (dict,):
        errors[field] = _("Give a list of objects, each with its fields.")
    else:
        errors[field] = _("Give a list of codes or names.")
    return []


def check_dates(commitment: Commitment, cleaned: dict) -> None:
    start = cleaned.get("start_date", commitment.start_date)
    deadline = cleaned.get("deadline", commitment.deadline)
    if start and deadline and deadline < start:
        raise ValidationError(
            {
                "deadline": _("The deadline %(deadline)s is before the start %(start)s.")
                % {"deadline": deadline, "start": start}
            }
        )


def jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, Org | Category):
            value = value.code
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, list):
            value = [
                jsonable(v) if isinstance(v, dict) else (v.code if isinstance(v, Org) else v)
                for v in value
            ]
        out[key] = value
    return out
