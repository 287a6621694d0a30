"""Every change to programmes, commitments, progress and adjustments goes through a function here.

Each function checks permission, validates, writes in one transaction, appends to the audit log
and notifies. ``actor=None`` is the system (demo, imports run by an operator).

The published list changes only by an approved adjustment (``decide_adjustment`` applies it) and
by accepted progress (``review_progress``); each such change writes a ``Snapshot`` of the
commitment's public fields, from which the list on any date and the diff between dates come.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shishi.audit.services import diff, record, record_many
from shishi.lib.workdays import Light, light
from shishi.orgs import access
from shishi.orgs.models import Org, OrgKind, Role, RoleKind
from shishi.workdays.services import calendar
from shishi.workspace.services import notify

from . import access as caccess
from .models import (
    DONE,
    OPEN,
    REMOVED,
    Adjustment,
    Category,
    Commitment,
    Decision,
    Evidence,
    Milestone,
    Programme,
    ProgressReport,
    Snapshot,
    Status,
    Target,
)

DEFAULT_CATEGORIES = [
    ("poverty", "巩固拓展脱贫攻坚成果", "Consolidating poverty alleviation"),
    ("old-young", "一老一小", "The old and the young"),
    ("employment", "就业", "Employment"),
    ("education", "教育", "Education"),
    ("health", "医疗卫生", "Health"),
    ("services", "政务服务和营商环境", "Government services and business environment"),
    ("governance", "基层治理", "Grassroots governance"),
    ("culture", "文化", "Culture"),
    ("infrastructure", "基础设施", "Infrastructure"),
]


def ensure_categories() -> None:
    for order, (code, name, name_en) in enumerate(DEFAULT_CATEGORIES):
        Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )


def _now(actor, at: dt.datetime | None) -> dt.datetime:
    """Now, or ``at`` for the system recording a past event (the demo, a historical ledger).
    A person's action is always dated when it happens."""
    if at is None:
        return timezone.now()
    if actor is not None:
        raise ValueError("only the system may date a change in the past")
    return at


def _tell(at, user, kind: str, text: str, *, url: str = "") -> None:
    """Notify now; a past event the system records (``at`` given) is history, not news."""
    if at is None:
        notify(user, kind, text, url=url)


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def _require_county(actor, perm: str, county: Org) -> None:
    if actor is not None and not access.has_perm_on(actor, perm, county):
        raise _deny(_("Your role does not allow this for %(org)s.") % {"org": county.name})


def _require(actor, perm: str, commitment: Commitment) -> None:
    if actor is not None and not caccess.can(actor, perm, commitment):
        raise _deny(
            _("Your role does not allow this for commitment %(n)s.") % {"n": commitment.number}
        )


# --- commitment data: one validator for forms, imports, the API and adjustments -----------------

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


def _decimal(value, field: str, errors: dict, *, allow_none: bool = True) -> Decimal | None:
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


def _date(value, field: str, errors: dict) -> dt.date | None:
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


def _text(value, field: str, limit: int, errors: dict) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors[field] = _("At most %(n)d characters; this has %(m)d.") % {
            "n": limit,
            "m": len(text),
        }
    return text


def _unit(value, county: Org, field: str, errors: dict) -> Org | None:
    """A unit given as an Org, an id or a code; it must belong to the programme's county."""
    if isinstance(value, Org):
        unit = value
    elif value in (None, ""):
        return None
    else:
        text = str(value).strip()
        unit = Org.objects.filter(code=text).first()
        if unit is None and text.isdigit():
            unit = Org.objects.filter(pk=int(text)).first()
        if unit is None:
            unit = Org.objects.filter(county=county, name=text).first()
    if unit is None or unit.county_id != county.pk or unit.kind == OrgKind.COUNTY:
        errors[field] = _("%(value)s is not a unit of %(county)s.") % {
            "value": value,
            "county": county.name,
        }
        return None
    return unit


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
            if out["number"] < 1:
                raise ValueError
        except (TypeError, ValueError):
            errors["number"] = _("%(value)s is not a positive whole number.") % {
                "value": data["number"]
            }
    if "title" in data:
        out["title"] = _text(data["title"], "title", 200, errors)
        if not out["title"] and "title" not in errors:
            errors["title"] = _("This field is required.")
    if "description" in data:
        out["description"] = str(data["description"] or "").strip()
    if "lead_official" in data:
        out["lead_official"] = _text(data["lead_official"], "lead_official", 100, errors)
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
        out["responsible_unit"] = _unit(
            data["responsible_unit"], county, "responsible_unit", errors
        )
    if "co_units" in data:
        units = []
        for value in data["co_units"] or []:
            unit = _unit(value, county, "co_units", errors)
            if unit is not None:
                units.append(unit)
        out["co_units"] = units
    for name in ["budget_planned", "budget_spent"]:
        if name in data:
            out[name] = _decimal(data[name], name, errors)
    for name in ["start_date", "deadline"]:
        if name in data:
            out[name] = _date(data[name], name, errors)
    if out.get("start_date") and out.get("deadline") and out["deadline"] < out["start_date"]:
        errors["deadline"] = _("The deadline %(deadline)s is before the start %(start)s.") % {
            "deadline": out["deadline"],
            "start": out["start_date"],
        }
    if "targets" in data:
        targets = []
        for i, row in enumerate(data["targets"] or [], start=1):
            sub: dict = {}
            target = {
                "name": _text(row.get("name"), "name", 100, sub),
                "unit": _text(row.get("unit"), "unit", 20, sub),
                "baseline": _decimal(row.get("baseline") or 0, "baseline", sub),
                "target_value": _decimal(
                    row.get("target_value"), "target_value", sub, allow_none=False
                ),
                "actual_value": _decimal(row.get("actual_value") or 0, "actual_value", sub),
            }
            if not target["name"]:
                sub["name"] = _("This field is required.")
            for key, message in sub.items():
                errors[f"targets.{i}.{key}"] = message
            targets.append(target)
        out["targets"] = targets
    if "milestones" in data:
        milestones = []
        for i, row in enumerate(data["milestones"] or [], start=1):
            sub = {}
            milestone = {
                "title": _text(row.get("title"), "title", 200, sub),
                "planned_date": _date(row.get("planned_date"), "planned_date", sub),
                "done_date": _date(row.get("done_date"), "done_date", sub),
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


def _write(commitment: Commitment, data: dict) -> None:
    """Set validated fields on a saved or new commitment, with its targets and milestones."""
    for name, value in data.items():
        if name not in {"co_units", "targets", "milestones"}:
            setattr(commitment, name, value)
    commitment.save()
    if "co_units" in data:
        commitment.co_units.set(data["co_units"])
    if "targets" in data:
        commitment.targets.all().delete()
        Target.objects.bulk_create(
            Target(commitment=commitment, order=i, **t) for i, t in enumerate(data["targets"])
        )
    if "milestones" in data:
        commitment.milestones.all().delete()
        Milestone.objects.bulk_create(
            Milestone(commitment=commitment, **m) for m in data["milestones"]
        )


def public_fields(commitment: Commitment) -> dict:
    """What the public sees of a commitment: the content of a snapshot, and of the audit diff."""
    return {
        "number": commitment.number,
        "title": commitment.title,
        "description": commitment.description,
        "category": commitment.category.code,
        "lead_official": commitment.lead_official,
        "responsible_unit": commitment.responsible_unit.name,
        "co_units": sorted(u.name for u in commitment.co_units.all()),
        "budget_planned": str(commitment.budget_planned)
        if commitment.budget_planned is not None
        else None,
        "budget_spent": str(commitment.budget_spent)
        if commitment.budget_spent is not None
        else None,
        "start_date": commitment.start_date.isoformat(),
        "deadline": commitment.deadline.isoformat(),
        "status": commitment.status,
        "percent_complete": commitment.percent_complete,
        "delivered_on": commitment.delivered_on.isoformat() if commitment.delivered_on else None,
        "merged_into": commitment.merged_into.number if commitment.merged_into_id else None,
        "targets": [
            {
                "name": t.name,
                "unit": t.unit,
                "baseline": str(t.baseline),
                "target_value": str(t.target_value),
                "actual_value": str(t.actual_value),
            }
            for t in commitment.targets.all()
        ],
        "milestones": [
            {
                "title": m.title,
                "planned_date": m.planned_date.isoformat(),
                "done_date": m.done_date.isoformat() if m.done_date else None,
            }
            for m in commitment.milestones.all()
        ],
    }


def _snapshot(
    commitment: Commitment, cause: str, when, adjustment: Adjustment | None = None
) -> Snapshot:
    return Snapshot.objects.create(
        programme_id=commitment.programme_id,
        commitment=commitment,
        county_id=commitment.county_id,
        valid_from=when,
        cause=cause,
        adjustment=adjustment,
        data=public_fields(commitment),
    )


# --- programmes and the draft list ----------------------------------------------------------------


@transaction.atomic
def create_programme(
    actor, *, county: Org, year: int, title: str, description: str = "", approval_levels: int = 1
) -> Programme:
    _require_county(actor, access.MANAGE_COMMITMENTS, county)
    if county.kind != OrgKind.COUNTY:
        raise ValidationError({"county": _("A programme belongs to a county.")})
    if approval_levels not in (1, 2):
        raise ValidationError({"approval_levels": _("Adjustments need one or two approvals.")})
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("This field is required.")})
    if Programme.objects.filter(county=county, year=year).exists():
        raise ValidationError(
            {
                "year": _("%(county)s already has a programme for %(year)s.")
                % {"county": county.name, "year": year}
            }
        )
    ensure_categories()
    programme = Programme.objects.create(
        county=county,
        year=year,
        title=title,
        description=description.strip(),
        approval_levels=approval_levels,
    )
    record(
        actor,
        "commitments.programme.created",
        programme,
        changes={"title": [None, title], "year": [None, year]},
        county_id=county.pk,
    )
    return programme


@transaction.atomic
def add_commitment(actor, programme: Programme, data: dict) -> Commitment:
    """Add a commitment to a draft list. Once published, the list grows only by an adjustment."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    _require_county(actor, access.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to add to it."))
    return _create(
        programme, clean_commitment(data, programme.county), actor, "commitments.commitment.created"
    )


@transaction.atomic
def add_commitments(actor, programme: Programme, rows: list[dict]) -> int:
    """Add many commitments to a draft list at once (the Excel ledger): the same validation and
    one audit entry each, as ``add_commitment``, in a fixed number of queries per chunk of rows.
    Returns how many were added.

    Every row is checked before any is written. The rows are then written a chunk at a time,
    inside the one transaction, so that the model objects and audit entries of a 100,000-row
    list are never all in memory at once (bench/bulk.py measures the peak).
    """
    programme = Programme.objects.select_for_update().select_related("county").get(pk=programme.pk)
    _require_county(actor, access.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to add to it."))
    taken = set(programme.commitments.values_list("number", flat=True))
    next_number = max(taken, default=0) + 1
    cleaned = []
    for row in rows:
        data = clean_commitment(row, programme.county)
        if not data.get("number"):
            while next_number in taken:
                next_number += 1
            data["number"] = next_number
        if data["number"] in taken:
            raise ValidationError(
                {"number": _("Number %(n)s is already on the list.") % {"n": data["number"]}}
            )
        taken.add(data["number"])
        cleaned.append(data)
    for start in range(0, len(cleaned), WRITE_CHUNK):
        _write_many(actor, programme, cleaned[start : start + WRITE_CHUNK])
    return len(cleaned)


# Rows written (and audited) at a time by add_commitments.
WRITE_CHUNK = 1000


def _write_many(actor, programme: Programme, cleaned: list[dict]) -> None:
    made = Commitment.objects.bulk_create(
        [
            Commitment(
                programme=programme,
                county=programme.county,
                **{k: v for k, v in data.items() if k not in {"co_units", "targets", "milestones"}},
            )
            for data in cleaned
        ],
        batch_size=500,
    )
    Target.objects.bulk_create(
        [
            Target(commitment=c, order=i, **t)
            for c, d in zip(made, cleaned, strict=True)
            for i, t in enumerate(d.get("targets", []))
        ],
        batch_size=1000,
    )
    Milestone.objects.bulk_create(
        [
            Milestone(commitment=c, **m)
            for c, d in zip(made, cleaned, strict=True)
            for m in d.get("milestones", [])
        ],
        batch_size=1000,
    )
    Through = Commitment.co_units.through
    Through.objects.bulk_create(
        [
            Through(commitment_id=c.pk, org_id=u.pk)
            for c, d in zip(made, cleaned, strict=True)
            for u in d.get("co_units", [])
        ],
        batch_size=1000,
    )
    fresh = with_details(Commitment.objects.filter(pk__in=[c.pk for c in made])).order_by("number")
    record_many(
        actor,
        "commitments.commitment.created",
        [(c, diff({}, public_fields(c)), None) for c in fresh],
    )


def _create(programme: Programme, data: dict, actor, action: str, *, adjustment=None) -> Commitment:
    if not data.get("number"):
        data["number"] = (programme.commitments.aggregate(n=Max("number"))["n"] or 0) + 1
    elif programme.commitments.filter(number=data["number"]).exists():
        raise ValidationError(
            {"number": _("Number %(n)s is already on the list.") % {"n": data["number"]}}
        )
    commitment = Commitment(programme=programme, county=programme.county)
    _write(commitment, data)
    record(
        actor,
        action,
        commitment,
        changes=diff({}, public_fields(commitment)),
        data={"adjustment": adjustment.pk} if adjustment else None,
    )
    return commitment


@transaction.atomic
def update_commitment(
    actor, commitment: Commitment, data: dict, *, version: int | None = None
) -> Commitment:
    """Edit a commitment of a draft list; on a published list only an adjustment changes it."""
    commitment = (
        Commitment.objects.select_for_update()
        .select_related("programme__county")
        .get(pk=commitment.pk)
    )
    _require_county(actor, access.MANAGE_COMMITMENTS, commitment.programme.county)
    if commitment.programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to change it."))
    if version is not None and version != commitment.version:
        raise _conflict(commitment, version)
    cleaned = clean_commitment(data, commitment.county, partial=True)
    if (
        "number" in cleaned
        and commitment.programme.commitments.exclude(pk=commitment.pk)
        .filter(number=cleaned["number"])
        .exists()
    ):
        raise ValidationError(
            {"number": _("Number %(n)s is already on the list.") % {"n": cleaned["number"]}}
        )
    _check_dates(commitment, cleaned)
    before = public_fields(commitment)
    commitment.version += 1
    _write(commitment, cleaned)
    changes = diff(before, public_fields(commitment))
    record(actor, "commitments.commitment.changed", commitment, changes=changes)
    return commitment


def _check_dates(commitment: Commitment, cleaned: dict) -> None:
    start = cleaned.get("start_date", commitment.start_date)
    deadline = cleaned.get("deadline", commitment.deadline)
    if start and deadline and deadline < start:
        raise ValidationError(
            {
                "deadline": _("The deadline %(deadline)s is before the start %(start)s.")
                % {"deadline": deadline, "start": start}
            }
        )


def _conflict(commitment: Commitment, version: int) -> ValidationError:
    from shishi.audit.models import Entry

    changed: dict = {}
    for entry in Entry.objects.filter(
        object_type="commitments.commitment", object_id=str(commitment.pk)
    ).order_by("-seq")[: max(commitment.version - version, 0)]:
        changed.update(entry.changes)
    return ValidationError(
        _("Someone else changed this record while you were editing it. Their changes: %(fields)s.")
        % {"fields": ", ".join(sorted(changed)) or "-"},
        code="conflict",
    )


@transaction.atomic
def publish_programme(actor, programme: Programme, *, at: dt.datetime | None = None) -> Programme:
    """Publish the list: from now on it changes only by approved adjustments."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    _require_county(actor, access.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is already published."))
    if not programme.commitments.exists():
        raise ValidationError(_("An empty list cannot be published."))
    now = _now(actor, at)
    programme.status = Programme.Status.PUBLISHED
    programme.published_at = now
    programme.save(update_fields=["status", "published_at"])
    for commitment in with_details(programme.commitments.all()):
        _snapshot(commitment, Snapshot.Cause.PUBLISHED, now)
    record(
        actor,
        "commitments.programme.published",
        programme,
        changes={"status": ["draft", "published"]},
        county_id=programme.county_id,
    )
    return programme


def with_details(qs):
    return qs.select_related("category", "responsible_unit", "merged_into").prefetch_related(
        "co_units", "targets", "milestones"
    )


# --- progress reports and their review ------------------------------------------------------------

SIGNATURES = [
    (b"\xff\xd8\xff", Evidence.Kind.JPEG),
    (b"\x89PNG\r\n\x1a\n", Evidence.Kind.PNG),
    (b"%PDF-", Evidence.Kind.PDF),
]


def sniff(head: bytes) -> str | None:
    """The evidence type from a file's first bytes, or None when it is not an allowed type."""
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Evidence.Kind.WEBP
    return None


def clean_evidence(upload) -> tuple[str, bytes]:
    """(content type, bytes to store) for an upload, checked by content; photos are re-encoded
    without their metadata (location, camera) and at most 2,000 pixels on a side."""
    name = getattr(upload, "name", "") or ""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": limit // (1024 * 1024)}
        )
    data = upload.read()
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, WebP) or a PDF.") % {"name": name}
        )
    if kind == Evidence.Kind.PDF:
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(_("%(name)s is not a complete PDF.") % {"name": name})
        return kind, data
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((2000, 2000))
            out = io.BytesIO()
            if kind == Evidence.Kind.PNG:
                image.save(out, "PNG", optimize=True)
            else:
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
                kind = Evidence.Kind.JPEG
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("%(name)s could not be read as a picture.") % {"name": name}
        ) from None
    return kind, out.getvalue()


@transaction.atomic
def submit_progress(
    actor,
    commitment: Commitment,
    *,
    text: str,
    percent_complete: int,
    target_values: dict | None = None,
    delivered: bool = False,
    files: list | None = None,
    at: dt.datetime | None = None,
) -> ProgressReport:
    commitment = Commitment.objects.select_related("county", "responsible_unit", "programme").get(
        pk=commitment.pk
    )
    _require(actor, access.REPORT_PROGRESS, commitment)
    if commitment.programme.status != Programme.Status.PUBLISHED:
        raise ValidationError(_("Progress is reported on a published list."))
    if commitment.status in REMOVED:
        raise ValidationError(
            _("Commitment %(n)s is no longer on the list.") % {"n": commitment.number}
        )
    errors: dict = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Say what has been done.")
    try:
        percent = int(percent_complete)
        if not 0 <= percent <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["percent_complete"] = _("The percentage is a whole number from 0 to 100.")
        percent = 0
    targets = {t.pk: t for t in commitment.targets.all()}
    values = {}
    for key, value in (target_values or {}).items():
        if value in (None, ""):
            continue
        target = targets.get(int(key)) if str(key).isdigit() else None
        if target is None:
            errors["target_values"] = _("Unknown target.")
            continue
        number = _decimal(value, f"target_{key}", errors)
        if number is not None:
            values[str(target.pk)] = str(number)
    cleaned_files = []
    for upload in files or []:
        try:
            cleaned_files.append((upload, *clean_evidence(upload)))
        except ValidationError as exc:
            errors.setdefault("files", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    report = ProgressReport.objects.create(
        commitment=commitment,
        county=commitment.county,
        text=text,
        percent_complete=percent,
        target_values=values,
        mark_delivered=bool(delivered),
        submitted_by=actor,
        submitted_at=_now(actor, at),
    )
    for upload, kind, data in cleaned_files:
        digest = hashlib.sha256(data).hexdigest()
        evidence = Evidence(
            report=report,
            content_type=kind,
            size=len(data),
            sha256=digest,
            original_name=(getattr(upload, "name", "") or "")[:200],
            # PDFs may carry names and ID numbers: kept internal until a reviewer says otherwise.
            is_public=kind != Evidence.Kind.PDF,
        )
        evidence.file.save("evidence", ContentFile(data), save=False)
        evidence.save()
    record(
        actor,
        "commitments.report.submitted",
        report,
        changes={
            "percent_complete": [None, percent],
            "targets": [None, values],
            "delivered": [None, bool(delivered)],
        },
        data={"commitment": commitment.pk, "files": len(cleaned_files)},
    )
    url = reverse("commitments:review", args=[report.pk])
    for user in _reviewers(commitment.county):
        _tell(
            at,
            user,
            "report_submitted",
            _("Progress on commitment %(n)s to review: %(title)s")
            % {"n": commitment.number, "title": commitment.title},
            url=url,
        )
    return report


def _reviewers(county: Org):
    users = Role.objects.filter(
        kind=RoleKind.COUNTY_ADMIN, org__path__in=county.ancestor_paths() + [county.path]
    )
    return [role.user for role in users.select_related("user")]


@transaction.atomic
def review_progress(
    actor,
    report: ProgressReport,
    *,
    accept: bool,
    reason: str = "",
    at: dt.datetime | None = None,
) -> ProgressReport:
    """Accept a report (its figures become public at once) or return it with a reason."""
    report = (
        ProgressReport.objects.select_for_update()
        .select_related("commitment__county", "commitment__responsible_unit")
        .get(pk=report.pk)
    )
    commitment = Commitment.objects.select_for_update().get(pk=report.commitment_id)
    _require_county(actor, access.REVIEW_PROGRESS, report.commitment.county)
    if report.state != ProgressReport.State.SUBMITTED:
        raise ValidationError(_("This report has already been reviewed."), code="conflict")
    if accept and commitment.status in REMOVED:
        raise ValidationError(
            _("Commitment %(n)s is no longer on the list.") % {"n": commitment.number}
        )
    if actor is not None and actor.pk == report.submitted_by_id:
        raise _deny(_("A report is reviewed by someone other than its author."))
    now = _now(actor, at)
    report.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
    report.reviewed_at = now
    url = reverse("commitments:commitment", args=[commitment.pk])
    if not accept:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Say why the report is returned.")})
        report.state = ProgressReport.State.RETURNED
        report.return_reason = reason
        report.save()
        record(
            actor,
            "commitments.report.returned",
            report,
            changes={"state": ["submitted", "returned"]},
            data={"reason": reason},
        )
        _tell(
            at,
            report.submitted_by,
            "report_returned",
            _("Your progress report on commitment %(n)s was returned: %(reason)s")
            % {"n": commitment.number, "reason": reason},
            url=url,
        )
        return report
    before = public_fields(commitment)
    for target in commitment.targets.all():
        if str(target.pk) in report.target_values:
            target.actual_value = Decimal(report.target_values[str(target.pk)])
            target.save(update_fields=["actual_value"])
    commitment.percent_complete = max(commitment.percent_complete, report.percent_complete)
    if report.mark_delivered and commitment.status not in DONE:
        commitment.status = Status.DELIVERED
        commitment.percent_complete = 100
        commitment.delivered_on = timezone.localdate(report.submitted_at)
        # Delivering the commitment completes the milestones still open.
        commitment.milestones.filter(done_date__isnull=True).update(
            done_date=commitment.delivered_on
        )
    elif commitment.status == Status.PLANNED:
        commitment.status = Status.IN_PROGRESS
    commitment.version += 1
    commitment.save()
    report.state = ProgressReport.State.ACCEPTED
    report.save()
    _snapshot(commitment, Snapshot.Cause.PROGRESS, now)
    record(
        actor, "commitments.report.accepted", report, changes={"state": ["submitted", "accepted"]}
    )
    record(
        actor,
        "commitments.commitment.progressed",
        commitment,
        changes=diff(before, public_fields(commitment)),
        data={"report": report.pk},
    )
    _tell(
        at,
        report.submitted_by,
        "report_accepted",
        _("Your progress report on commitment %(n)s was accepted.") % {"n": commitment.number},
        url=url,
    )
    return report


@transaction.atomic
def accept_delivery(
    actor, commitment: Commitment, *, note: str = "", at: dt.datetime | None = None
) -> Commitment:
    """The county office's acceptance (验收) of a delivered commitment."""
    commitment = (
        Commitment.objects.select_for_update().select_related("county").get(pk=commitment.pk)
    )
    _require_county(actor, access.REVIEW_PROGRESS, commitment.county)
    if commitment.status != Status.DELIVERED:
        raise ValidationError(_("Only a delivered commitment can be accepted."))
    before = public_fields(commitment)
    commitment.status = Status.ACCEPTED
    commitment.version += 1
    commitment.save()
    _snapshot(commitment, Snapshot.Cause.PROGRESS, _now(actor, at))
    record(
        actor,
        "commitments.commitment.accepted",
        commitment,
        changes=diff(before, public_fields(commitment)),
        data={"note": (note or "").strip()},
    )
    return commitment


# --- adjustments ----------------------------------------------------------------------------------


def _clean_payload(
    programme: Programme, kind: str, commitments: list[Commitment], payload: dict
) -> dict:
    """The payload of an adjustment, validated for its kind (raises ValidationError)."""
    county = programme.county
    K = Adjustment.Kind
    need = {K.ADD: 0, K.CHANGE: 1, K.SPLIT: 1, K.DEFER: 1, K.CANCEL: 1}
    if kind not in K.values:
        raise ValidationError(
            {"kind": _("Unknown kind of adjustment: %(value)s.") % {"value": kind}}
        )
    if kind == K.MERGE and len(commitments) < 2:
        raise ValidationError({"commitments": _("Choose at least two commitments to merge.")})
    if kind in need and len(commitments) != need[kind]:
        raise ValidationError(
            {
                "commitments": _("This adjustment concerns exactly %(n)d commitment(s).")
                % {"n": need[kind]}
            }
        )
    for c in commitments:
        if c.programme_id != programme.pk:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is on another list.") % {"n": c.number}}
            )
        if c.status in REMOVED:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is no longer on the list.") % {"n": c.number}}
            )
        if kind in (K.DEFER, K.CANCEL, K.MERGE, K.SPLIT) and c.status in DONE:
            raise ValidationError(
                {"commitments": _("Commitment %(n)s is already delivered.") % {"n": c.number}}
            )
    if kind == K.ADD:
        clean_commitment(dict(payload.get("commitment") or {}), county)
        return {"commitment": _jsonable(payload["commitment"])}
    if kind == K.MERGE:
        clean_commitment(dict(payload.get("into") or {}), county)
        return {"into": _jsonable(payload["into"])}
    if kind == K.SPLIT:
        parts = payload.get("parts") or []
        if len(parts) < 2:
            raise ValidationError({"payload": _("A split makes at least two commitments.")})
        for part in parts:
            clean_commitment(dict(part), county)
        return {"parts": [_jsonable(p) for p in parts]}
    if kind == K.CHANGE:
        fields = dict(payload.get("fields") or {})
        if not fields:
            raise ValidationError({"payload": _("Say what changes.")})
        if "number" in fields:
            raise ValidationError({"payload": _("A commitment keeps its number.")})
        cleaned = clean_commitment(fields, county, partial=True)
        _check_dates(commitments[0], cleaned)
        return {"fields": _jsonable(fields)}
    if kind == K.DEFER:
        errors: dict = {}
        deadline = _date(payload.get("deadline"), "deadline", errors)
        if errors:
            raise ValidationError(errors)
        if deadline is None:
            raise ValidationError({"deadline": _("Give the new deadline.")})
        if deadline <= commitments[0].deadline:
            raise ValidationError(
                {
                    "deadline": _("A deferral moves the deadline later than %(d)s.")
                    % {"d": commitments[0].deadline}
                }
            )
        return {"deadline": deadline.isoformat()}
    return {}


def _jsonable(data: dict) -> dict:
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
                _jsonable(v) if isinstance(v, dict) else (v.code if isinstance(v, Org) else v)
                for v in value
            ]
        out[key] = value
    return out


@transaction.atomic
def propose_adjustment(
    actor,
    programme: Programme,
    *,
    kind: str,
    commitments: list[Commitment],
    payload: dict,
    reason: str,
    at: dt.datetime | None = None,
) -> Adjustment:
    programme = Programme.objects.select_related("county").get(pk=programme.pk)
    if programme.status != Programme.Status.PUBLISHED:
        raise ValidationError(_("Adjustments are made to a published list."))
    # The rows as they are now, not as the caller last read them.
    commitments = list(
        Commitment.objects.filter(pk__in=[c.pk for c in commitments])
        .select_related("county", "responsible_unit")
        .order_by("number")
    )
    allowed = (
        any(caccess.can(actor, access.PROPOSE_ADJUSTMENT, c) for c in commitments)
        if commitments
        else False
    )
    if actor is not None and not (
        allowed or access.has_perm_on(actor, access.PROPOSE_ADJUSTMENT, programme.county)
    ):
        raise _deny(_("Your role does not allow proposing this adjustment."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Every adjustment gives its reason.")})
    cleaned = _clean_payload(programme, kind, commitments, payload or {})
    adjustment = Adjustment.objects.create(
        programme=programme,
        county=programme.county,
        kind=kind,
        payload=cleaned,
        reason=reason,
        proposed_by=actor,
        proposed_at=_now(actor, at),
    )
    adjustment.commitments.set(commitments)
    record(
        actor,
        "commitments.adjustment.proposed",
        adjustment,
        changes={"kind": [None, kind], "payload": [None, cleaned]},
        data={"reason": reason, "commitments": [c.number for c in commitments]},
    )
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    for user in _reviewers(programme.county):
        if user != actor:
            _tell(
                at,
                user,
                "adjustment_proposed",
                _("An adjustment to approve: %(kind)s") % {"kind": adjustment.get_kind_display()},
                url=url,
            )
    return adjustment


@transaction.atomic
def decide_adjustment(
    actor,
    adjustment: Adjustment,
    *,
    approve: bool,
    note: str = "",
    at: dt.datetime | None = None,
) -> Adjustment:
    """Approve or reject at the next level; the last approval applies the change atomically."""
    adjustment = (
        Adjustment.objects.select_for_update()
        .select_related("programme__county")
        .get(pk=adjustment.pk)
    )
    programme = adjustment.programme
    S = Adjustment.State
    if adjustment.state == S.PROPOSED:
        level, perm = 1, access.APPROVE_ADJUSTMENT
    elif adjustment.state == S.FIRST_APPROVED:
        level, perm = 2, access.APPROVE_ADJUSTMENT_FINAL
    else:
        raise ValidationError(_("This adjustment has already been decided."), code="conflict")
    _require_county(actor, perm, programme.county)
    if actor is not None and actor.pk == adjustment.proposed_by_id:
        raise _deny(_("An adjustment is approved by someone other than its proposer."))
    if actor is not None and adjustment.decisions.filter(decided_by=actor).exists():
        raise _deny(_("The two approvals come from two different people."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the adjustment is rejected.")})
    now = _now(actor, at)
    Decision.objects.create(
        adjustment=adjustment,
        level=level,
        approved=approve,
        note=note,
        decided_by=actor,
        decided_at=now,
    )
    before_state = adjustment.state
    if not approve:
        adjustment.state = S.REJECTED
    elif level < programme.approval_levels:
        adjustment.state = S.FIRST_APPROVED
    else:
        _apply(adjustment, actor, now)
        adjustment.state = S.APPROVED
        adjustment.applied_at = now
    adjustment.save()
    record(
        actor,
        "commitments.adjustment.decided",
        adjustment,
        changes={"state": [before_state, adjustment.state]},
        data={"level": level, "note": note},
    )
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    _tell(
        at,
        adjustment.proposed_by,
        "adjustment_decided",
        _("Your adjustment (%(kind)s) is now: %(state)s")
        % {"kind": adjustment.get_kind_display(), "state": adjustment.get_state_display()},
        url=url,
    )
    return adjustment


def _apply(adjustment: Adjustment, actor, now: dt.datetime) -> None:
    programme, K = adjustment.programme, Adjustment.Kind
    commitments = list(
        Commitment.objects.select_for_update()
        .filter(pk__in=adjustment.commitments.values("pk"))
        .order_by("number")
    )
    for c in commitments:
        if c.status in REMOVED:
            raise ValidationError(_("Commitment %(n)s is no longer on the list.") % {"n": c.number})
    payload, county = adjustment.payload, programme.county
    touched: list[Commitment] = []
    results: list[Commitment] = []

    def create(data):
        made = _create(
            programme,
            clean_commitment(dict(data), county),
            actor,
            "commitments.commitment.created",
            adjustment=adjustment,
        )
        results.append(made)
        return made

    def change(c, **fields):
        before = public_fields(c)
        for key, value in fields.items():
            setattr(c, key, value)
        c.version += 1
        c.save()
        record(
            actor,
            "commitments.commitment.changed",
            c,
            changes=diff(before, public_fields(c)),
            data={"adjustment": adjustment.pk},
        )
        touched.append(c)

    if adjustment.kind == K.ADD:
        create(payload["commitment"])
    elif adjustment.kind == K.MERGE:
        into = create(payload["into"])
        for c in commitments:
            change(c, status=Status.MERGED, merged_into=into)
    elif adjustment.kind == K.SPLIT:
        for part in payload["parts"]:
            create(part)
        change(commitments[0], status=Status.CANCELLED)
    elif adjustment.kind == K.DEFER:
        change(
            commitments[0],
            status=Status.DEFERRED,
            deadline=dt.date.fromisoformat(payload["deadline"]),
        )
    elif adjustment.kind == K.CANCEL:
        change(commitments[0], status=Status.CANCELLED)
    elif adjustment.kind == K.CHANGE:
        c = commitments[0]
        cleaned = clean_commitment(dict(payload["fields"]), county, partial=True)
        _check_dates(c, cleaned)
        before = public_fields(c)
        c.version += 1
        _write(c, cleaned)
        record(
            actor,
            "commitments.commitment.changed",
            c,
            changes=diff(before, public_fields(c)),
            data={"adjustment": adjustment.pk},
        )
        touched.append(c)
    adjustment.results.set(results)
    for c in with_details(Commitment.objects.filter(pk__in=[c.pk for c in touched + results])):
        _snapshot(c, Snapshot.Cause.ADJUSTMENT, now, adjustment)


@transaction.atomic
def withdraw_adjustment(actor, adjustment: Adjustment) -> Adjustment:
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if actor is not None and actor.pk != adjustment.proposed_by_id:
        raise _deny(_("Only the proposer can withdraw an adjustment."))
    if adjustment.state not in (Adjustment.State.PROPOSED, Adjustment.State.FIRST_APPROVED):
        raise ValidationError(_("This adjustment has already been decided."), code="conflict")
    before = adjustment.state
    adjustment.state = Adjustment.State.WITHDRAWN
    adjustment.save(update_fields=["state"])
    record(
        actor,
        "commitments.adjustment.withdrawn",
        adjustment,
        changes={"state": [before, adjustment.state]},
    )
    return adjustment


# --- the list's history, lights, figures --------------------------------------------------------


def list_on(programme: Programme, when) -> dict[int, dict]:
    """The public list as it stood at ``when``: {commitment id: public fields}. One query."""
    rows = (
        Snapshot.objects.filter(programme=programme, valid_from__lte=when)
        .order_by("commitment_id", "-valid_from", "-id")
        .values_list("commitment_id", "data")
    )
    out: dict[int, dict] = {}
    for commitment_id, data in rows:
        out.setdefault(commitment_id, data)
    return out


def list_diff(programme: Programme, start, end) -> list[dict]:
    """What changed in the list between two moments: per commitment, the fields and both values."""
    before, after = list_on(programme, start), list_on(programme, end)
    changes = []
    for cid in sorted(
        set(before) | set(after), key=lambda c: (after.get(c) or before.get(c))["number"]
    ):
        a, b = before.get(cid), after.get(cid)
        if a == b:
            continue
        fields = diff(a or {}, b or {})
        changes.append(
            {
                "id": cid,
                "number": (b or a)["number"],
                "title": (b or a)["title"],
                "added": a is None,
                "fields": fields,
            }
        )
    return changes


def light_of(commitment: Commitment, today: dt.date | None = None) -> Light | None:
    """The computed light, or None for a commitment no longer on the list."""
    if commitment.status in REMOVED:
        return None
    today = today or timezone.localdate()
    done = commitment.delivered_on if commitment.status in DONE else None
    return light(commitment.deadline, done, today, calendar(), settings.DUE_SOON_WORKDAYS)


# The formulas of ``figures``, as the public reads them (API summary, open data).
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


def send_reminders(today: dt.date | None = None) -> int:
    """Notify each responsible unit's officers of commitments due soon or overdue, once per
    commitment, light and deadline (idempotent: safe to run every day, or twice)."""
    today = today or timezone.localdate()
    sent = 0
    qs = Commitment.objects.filter(
        status__in=OPEN, programme__status=Programme.Status.PUBLISHED
    ).select_related("responsible_unit")
    for commitment in qs.iterator(chunk_size=500):
        state = light_of(commitment, today)
        if state not in (Light.DUE_SOON, Light.OVERDUE):
            continue
        officers = Role.objects.filter(
            kind=RoleKind.UNIT_OFFICER,
            org__path__in=commitment.responsible_unit.ancestor_paths()
            + [commitment.responsible_unit.path],
        ).select_related("user")
        for role in officers:
            text = (
                _("Commitment %(n)s is due on %(d)s: %(title)s")
                if state == Light.DUE_SOON
                else _("Commitment %(n)s is overdue since %(d)s: %(title)s")
            ) % {"n": commitment.number, "d": commitment.deadline, "title": commitment.title}
            note = notify(
                role.user,
                str(state),
                text,
                url=reverse("commitments:commitment", args=[commitment.pk]),
                key=f"c{commitment.pk}:{state}:{commitment.deadline}",
            )
            sent += note is not None
    return sent
