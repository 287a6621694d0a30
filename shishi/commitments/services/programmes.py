"""Programmes and their draft list: creating, adding, editing, publishing; and what the public
sees of a commitment (``public_fields``), kept as snapshots from which the list's history comes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from shishi.audit.services import check_version, diff, record, record_many
from shishi.ledger.bulk import insert
from shishi.lib.sheets import chunks
from shishi.orgs.models import Org, OrgKind

from .. import access as caccess
from ..models import (
    Adjustment,
    Category,
    Commitment,
    Milestone,
    Programme,
    Snapshot,
    Target,
)
from .common import now_or, require_county
from .validation import check_dates, clean_commitment

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


def ensure_categories(actor=None) -> int:
    """Create the default categories that are missing (a new site's first programme); each one
    created is audited. Returns how many were created."""
    made = 0
    for order, (code, name, name_en) in enumerate(DEFAULT_CATEGORIES):
        category, created = Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "order": order}
        )
        if created:
            made += 1
            record(
                actor,
                "commitments.category.created",
                category,
                changes={"code": [None, code], "name": [None, name], "name_en": [None, name_en]},
            )
    return made


def write(commitment: Commitment, data: dict) -> None:
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


def _decimal_text(value) -> str | None:
    """A stored amount as the public record writes it: two decimals, as the database keeps it."""
    return None if value is None else f"{Decimal(value):.2f}"


def _day_text(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def public_face(
    *,
    number: int,
    title: str,
    description: str,
    category: str,
    lead_official: str,
    responsible_unit: str,
    co_units: list[str],
    budget_planned,
    budget_spent,
    start_date: dt.date,
    deadline: dt.date,
    status: str,
    percent_complete: int,
    delivered_on: dt.date | None,
    merged_into: int | None,
    targets: list[tuple],
    milestones: list[tuple],
) -> dict:
    """What the public sees of a commitment, from plain values: the content of a snapshot and of
    the audit diff. Units by name, the category by code, ``merged_into`` by number, targets as
    (name, unit, baseline, target, actual), milestones as (title, planned, done).

    The services call it through ``public_fields``; the bulk generator calls it directly for the
    commitments it simulates, so both write the same record.
    """
    return {
        "number": number,
        "title": title,
        "description": description,
        "category": category,
        "lead_official": lead_official,
        "responsible_unit": responsible_unit,
        "co_units": sorted(co_units),
        "budget_planned": _decimal_text(budget_planned),
        "budget_spent": _decimal_text(budget_spent),
        "start_date": start_date.isoformat(),
        "deadline": deadline.isoformat(),
        "status": status,
        "percent_complete": percent_complete,
        "delivered_on": _day_text(delivered_on),
        "merged_into": merged_into,
        "targets": [
            {
                "name": name,
                "unit": unit,
                "baseline": _decimal_text(baseline),
                "target_value": _decimal_text(target),
                "actual_value": _decimal_text(actual),
            }
            for name, unit, baseline, target, actual in targets
        ],
        "milestones": [
            {"title": t, "planned_date": planned.isoformat(), "done_date": _day_text(done)}
            for t, planned, done in milestones
        ],
    }


def public_fields(commitment: Commitment, *, co_units=None, targets=None, milestones=None) -> dict:
    """What the public sees of a saved commitment (``public_face``); read it through
    ``with_details`` to fetch its units, targets and milestones in a few queries, or give them
    (in their models' order) when they were just written and are at hand."""
    co_units = commitment.co_units.all() if co_units is None else co_units
    targets = commitment.targets.all() if targets is None else targets
    milestones = commitment.milestones.all() if milestones is None else milestones
    return public_face(
        number=commitment.number,
        title=commitment.title,
        description=commitment.description,
        category=commitment.category.code,
        lead_official=commitment.lead_official,
        responsible_unit=commitment.responsible_unit.name,
        co_units=[u.name for u in co_units],
        budget_planned=commitment.budget_planned,
        budget_spent=commitment.budget_spent,
        start_date=commitment.start_date,
        deadline=commitment.deadline,
        status=commitment.status,
        percent_complete=commitment.percent_complete,
        delivered_on=commitment.delivered_on,
        merged_into=commitment.merged_into.number if commitment.merged_into_id else None,
        targets=[(t.name, t.unit, t.baseline, t.target_value, t.actual_value) for t in targets],
        milestones=[(m.title, m.planned_date, m.done_date) for m in milestones],
    )


def snapshot_row(
    commitment: Commitment, cause: str, when, adjustment: Adjustment | None = None
) -> Snapshot:
    """The snapshot of ``commitment``'s public face from ``when`` on, not yet saved: every path
    that writes snapshots (the services, the bulk generator) builds them here."""
    return Snapshot(
        programme_id=commitment.programme_id,
        commitment=commitment,
        county_id=commitment.county_id,
        valid_from=when,
        cause=cause,
        adjustment=adjustment,
        data=public_fields(commitment),
    )


def snapshot(
    commitment: Commitment, cause: str, when, adjustment: Adjustment | None = None
) -> Snapshot:
    row = snapshot_row(commitment, cause, when, adjustment)
    row.save()
    return row


# --- programmes and the draft list ---------------------------------------------------------------


@transaction.atomic
def create_programme(
    actor, *, county: Org, year: int, title: str, description: str = "", approval_levels: int = 1
) -> Programme:
    require_county(actor, caccess.MANAGE_COMMITMENTS, county)
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
    ensure_categories(actor)
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
        # A draft is not public.
        public=False,
    )
    return programme


@transaction.atomic
def add_commitment(actor, programme: Programme, data: dict) -> Commitment:
    """Add a commitment to a draft list. Once published, the list grows only by an adjustment."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    require_county(actor, caccess.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to add to it."))
    return create_in(
        programme, clean_commitment(data, programme.county), actor, "commitments.commitment.created"
    )


@transaction.atomic
def add_commitments(
    actor, programme: Programme, rows: Iterable[dict], *, cleaned: bool = False
) -> int:
    """Add many commitments to a draft list at once (the Excel ledger): the same validation and
    one audit entry each, as ``add_commitment``, in a fixed number of queries per chunk of rows.
    Returns how many were added.

    Every row is checked before any is written. With ``cleaned=True`` the rows are
    ``clean_commitment``'s output for the programme's county already (the ledger checks every row
    of its file before its write phase begins), and are taken as they come: from a spill, a
    100,000-row list is never all in memory. Numbers are checked here in either case. The rows
    are written a chunk at a time inside the one transaction, so the model objects of a large
    list are never all in memory at once (bench/bulk.py measures the peak).
    """
    programme = Programme.objects.select_for_update().select_related("county").get(pk=programme.pk)
    require_county(actor, caccess.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to add to it."))
    if not cleaned:
        rows = [clean_commitment(row, programme.county) for row in rows]
    added = 0
    for chunk in chunks(_numbered(programme, rows), WRITE_CHUNK):
        _write_many(actor, programme, chunk)
        added += len(chunk)
    return added


def _numbered(programme: Programme, rows: Iterable[dict]) -> Iterator[dict]:
    """The rows as they come, each with a number not yet on the list: its own, or the next free."""
    taken = set(programme.commitments.values_list("number", flat=True))
    next_number = max(taken, default=0) + 1
    for data in rows:
        if not data.get("number"):
            while next_number in taken:
                next_number += 1
            data["number"] = next_number
        if data["number"] in taken:
            raise ValidationError(
                {"number": _("Number %(n)s is already on the list.") % {"n": data["number"]}}
            )
        taken.add(data["number"])
        yield data


# Rows written (and audited) at a time by add_commitments.
WRITE_CHUNK = 1000


def _write_many(actor, programme: Programme, cleaned: list[dict]) -> None:
    made = insert(
        Commitment,
        [
            Commitment(
                programme=programme,
                county=programme.county,
                **{k: v for k, v in data.items() if k not in {"co_units", "targets", "milestones"}},
            )
            for data in cleaned
        ],
    )
    targets = [
        [Target(commitment=c, order=i, **t) for i, t in enumerate(d.get("targets", []))]
        for c, d in zip(made, cleaned, strict=True)
    ]
    milestones = [
        sorted(
            (Milestone(commitment=c, **m) for m in d.get("milestones", [])),
            key=lambda m: m.planned_date,
        )
        for c, d in zip(made, cleaned, strict=True)
    ]
    insert(Target, [t for ts in targets for t in ts])
    insert(Milestone, [m for ms in milestones for m in ms])
    co_units = [sorted(d.get("co_units", []), key=lambda u: u.path) for d in cleaned]
    Through = Commitment.co_units.through
    insert(
        Through,
        [
            Through(commitment_id=c.pk, org_id=u.pk)
            for c, units in zip(made, co_units, strict=True)
            for u in units
        ],
    )
    # Audited from what was just written, in the order a fresh read would give (no re-read).
    faces = (
        public_fields(c, co_units=units, targets=ts, milestones=ms)
        for c, units, ts, ms in zip(made, co_units, targets, milestones, strict=True)
    )
    record_many(
        actor,
        "commitments.commitment.created",
        [(c, diff({}, face), None) for c, face in zip(made, faces, strict=True)],
        public=False,  # a draft list
    )


def create_in(
    programme: Programme, data: dict, actor, action: str, *, adjustment=None
) -> Commitment:
    """Write a new commitment on ``programme`` and audit it: public when the list is (an
    adjustment adds it), not while the list is a draft."""
    if not data.get("number"):
        data["number"] = (programme.commitments.aggregate(n=Max("number"))["n"] or 0) + 1
    elif programme.commitments.filter(number=data["number"]).exists():
        raise ValidationError(
            {"number": _("Number %(n)s is already on the list.") % {"n": data["number"]}}
        )
    commitment = Commitment(programme=programme, county=programme.county)
    write(commitment, data)
    record(
        actor,
        action,
        commitment,
        changes=diff({}, public_fields(commitment)),
        data={"adjustment": adjustment.pk} if adjustment else None,
        public=programme.status != Programme.Status.DRAFT,
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
    require_county(actor, caccess.MANAGE_COMMITMENTS, commitment.programme.county)
    if commitment.programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is published: propose an adjustment to change it."))
    check_version(commitment, version)
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
    check_dates(commitment, cleaned)
    before = public_fields(commitment)
    commitment.version += 1
    write(commitment, cleaned)
    changes = diff(before, public_fields(commitment))
    # Only a draft's commitment is edited here: nothing public changes.
    record(actor, "commitments.commitment.changed", commitment, changes=changes, public=False)
    return commitment


@transaction.atomic
def publish_programme(actor, programme: Programme, *, at: dt.datetime | None = None) -> Programme:
    """Publish the list: from now on it changes only by approved adjustments."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    require_county(actor, caccess.MANAGE_COMMITMENTS, programme.county)
    if programme.status != Programme.Status.DRAFT:
        raise ValidationError(_("The list is already published."))
    if not programme.commitments.exists():
        raise ValidationError(_("An empty list cannot be published."))
    now = now_or(actor, at)
    programme.status = Programme.Status.PUBLISHED
    programme.published_at = now
    programme.save(update_fields=["status", "published_at"])
    # One snapshot per commitment, written a thousand at a time: a province's list publishes in
    # seconds.
    rows = with_details(programme.commitments.all()).iterator(chunk_size=1000)
    Snapshot.objects.bulk_create(
        (snapshot_row(c, Snapshot.Cause.PUBLISHED, now) for c in rows), batch_size=1000
    )
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
