"""Public reads: published programmes, their commitments and their applied changes. No token.

Only what the public portal shows leaves here: no reporter, reviewer or proposer names, no
internal states. Each list answers in a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import P, Query, Router

from shishi.commitments import services
from shishi.commitments.models import (
    DONE,
    OPEN,
    Adjustment,
    Commitment,
    Programme,
    ProgressReport,
)
from shishi.lib.workdays import Light
from shishi.lib.workdays import light as light_on
from shishi.orgs.models import Org
from shishi.workdays.services import calendar

from . import schemas

router = Router(tags=["public"])

MAX_LIMIT = 200
# A closed programme was published and stays public.
PUBLIC = [Programme.Status.PUBLISHED, Programme.Status.CLOSED]
ERRORS = {404: schemas.Error, 422: schemas.Error}


def paginate(qs, limit: int, offset: int, serialize) -> dict:
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [serialize(obj) for obj in qs[offset : offset + limit]],
    }


def org_ref(org: Org) -> dict:
    return {"id": org.pk, "code": org.code, "name": org.name}


def commitment_ref(c: Commitment) -> dict:
    return {"id": c.pk, "number": c.number, "title": c.title}


def decimal_text(value) -> str | None:
    return None if value is None else str(value)


def public_programmes() -> QuerySet[Programme]:
    return Programme.objects.filter(status__in=PUBLIC).select_related("county")


def public_commitments() -> QuerySet[Commitment]:
    return Commitment.objects.filter(programme__status__in=PUBLIC)


def programme_out(p: Programme) -> dict:
    return {
        "id": p.pk,
        "year": p.year,
        "title": p.title,
        "description": p.description,
        "county": org_ref(p.county),
        "status": p.status,
        "published_at": p.published_at,
        "approval_levels": p.approval_levels,
    }


def commitment_out(c: Commitment, today: dt.date) -> dict:
    state = services.light_of(c, today)
    return {
        "id": c.pk,
        "programme": c.programme_id,
        "number": c.number,
        "title": c.title,
        "category": c.category.code,
        "responsible_unit": org_ref(c.responsible_unit),
        "lead_official": c.lead_official,
        "status": c.status,
        "percent_complete": c.percent_complete,
        "budget_planned": decimal_text(c.budget_planned),
        "budget_spent": decimal_text(c.budget_spent),
        "start_date": c.start_date,
        "deadline": c.deadline,
        "delivered_on": c.delivered_on,
        "light": str(state) if state is not None else None,
    }


def light_q(value: str, today: dt.date) -> Q:
    """The SQL condition equivalent to ``services.light_of(c) == value`` (see lib.workdays.light).

    Due soon means at most DUE_SOON_WORKDAYS working days remain, that is a deadline before the
    (N+1)-th working day after today.
    """
    cutoff = calendar().add_workdays(today, settings.DUE_SOON_WORKDAYS + 1)
    done = Q(status__in=DONE, delivered_on__isnull=False)
    pending = Q(status__in=OPEN) | Q(status__in=DONE, delivered_on__isnull=True)
    return {
        Light.DONE_ON_TIME: done & Q(delivered_on__lte=F("deadline")),
        Light.DONE_LATE: done & Q(delivered_on__gt=F("deadline")),
        Light.OVERDUE: pending & Q(deadline__lt=today),
        Light.DUE_SOON: pending & Q(deadline__gte=today, deadline__lt=cutoff),
        Light.ON_TRACK: pending & Q(deadline__gte=cutoff),
    }[Light(value)]


@router.get("/programmes", response={200: schemas.ProgrammePage, **ERRORS})
def programmes(
    request,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Published programmes (annual lists), newest first."""
    qs = public_programmes().order_by("-year", "county__path", "id")
    return paginate(qs, limit, offset, programme_out)


@router.get("/programmes/{int:programme_id}", response={200: schemas.Programme, **ERRORS})
def programme(request, programme_id: int):
    return programme_out(get_object_or_404(public_programmes(), pk=programme_id))


@router.get("/programmes/{int:programme_id}/summary", response={200: schemas.Summary, **ERRORS})
def summary(request, programme_id: int):
    """The headline figures, each with the formula that computes it from the list."""
    p = get_object_or_404(public_programmes(), pk=programme_id)
    figures = services.summary(p)
    return {
        "programme": p.pk,
        **figures,
        "formulas": {name: str(text) for name, text in services.FORMULAS.items()},
    }


@router.get("/commitments", response={200: schemas.CommitmentPage, **ERRORS})
def commitments(
    request,
    programme: int | None = None,
    category: str | None = Query(None, description="category code, e.g. education"),
    status: str | None = Query(None, description="planned, in_progress, delivered, …"),
    unit: str | None = Query(
        None, description="an organisation's code: its own and its subtree's commitments"
    ),
    light: Light | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Commitments of published programmes, in list order (programme, number)."""
    qs = public_commitments()
    if programme is not None:
        qs = qs.filter(programme_id=programme)
    if category:
        qs = qs.filter(category__code=category)
    if status:
        qs = qs.filter(status=status)
    if unit:
        org = Org.objects.filter(code=unit).only("path").first()
        qs = qs.filter(responsible_unit__path__startswith=org.path) if org else qs.none()
    today = timezone.localdate()
    if light is not None:
        qs = qs.filter(light_q(light, today))
    qs = qs.select_related("category", "responsible_unit").order_by("programme_id", "number")
    return paginate(qs, limit, offset, lambda c: commitment_out(c, today))


@router.get("/commitments/{int:commitment_id}", response={200: schemas.CommitmentDetail, **ERRORS})
def commitment(request, commitment_id: int):
    """One commitment with its targets, milestones, light and the timeline of accepted progress
    (who reported and who reviewed are not public)."""
    c = get_object_or_404(
        public_commitments()
        .select_related("category", "responsible_unit", "merged_into")
        .prefetch_related(
            "co_units",
            "targets",
            "milestones",
            Prefetch(
                "reports",
                queryset=ProgressReport.objects.filter(
                    state=ProgressReport.State.ACCEPTED
                ).order_by("submitted_at", "id"),
                to_attr="accepted_reports",
            ),
        ),
        pk=commitment_id,
    )
    today = timezone.localdate()
    work = calendar()
    return {
        **commitment_out(c, today),
        "description": c.description,
        "co_units": [org_ref(o) for o in c.co_units.all()],
        "merged_into": commitment_ref(c.merged_into) if c.merged_into_id else None,
        "targets": [
            {
                "id": t.pk,
                "name": t.name,
                "unit": t.unit,
                "baseline": str(t.baseline),
                "target_value": str(t.target_value),
                "actual_value": str(t.actual_value),
                "percent": t.percent,
            }
            for t in c.targets.all()
        ],
        "milestones": [
            {
                "title": m.title,
                "planned_date": m.planned_date,
                "done_date": m.done_date,
                "light": str(
                    light_on(m.planned_date, m.done_date, today, work, settings.DUE_SOON_WORKDAYS)
                ),
            }
            for m in c.milestones.all()
        ],
        "timeline": [
            {
                "submitted_at": r.submitted_at,
                "accepted_at": r.reviewed_at,
                "text": r.text,
                "percent_complete": r.percent_complete,
                "delivered": r.mark_delivered,
            }
            for r in c.accepted_reports
        ],
    }


def change_out(a: Adjustment) -> dict:
    return {
        "id": a.pk,
        "kind": a.kind,
        "reason": a.reason,
        "applied_at": a.applied_at,
        "commitments": [commitment_ref(c) for c in a.commitments.all()],
        "results": [commitment_ref(c) for c in a.results.all()],
    }


@router.get("/programmes/{int:programme_id}/changes", response={200: schemas.ChangePage, **ERRORS})
def changes(
    request,
    programme_id: int,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Applied adjustments (动态调整), latest first: what kind, why, when, and to which items."""
    p = get_object_or_404(public_programmes(), pk=programme_id)
    refs = Commitment.objects.only("id", "number", "title").order_by("number")
    qs = (
        Adjustment.objects.filter(programme=p, state=Adjustment.State.APPROVED)
        .exclude(applied_at=None)
        .prefetch_related(Prefetch("commitments", refs), Prefetch("results", refs))
        .order_by("-applied_at", "-id")
    )
    return paginate(qs, limit, offset, change_out)


@router.get("/programmes/{int:programme_id}/list", response={200: schemas.ListOn, **ERRORS})
def list_on(request, programme_id: int, on: Query[dt.date, P(description="YYYY-MM-DD")]):
    """The public list as it stood at the end of the day ``on``, in number order."""
    p = get_object_or_404(public_programmes(), pk=programme_id)
    end = timezone.make_aware(dt.datetime.combine(on, dt.time.max))
    rows = services.list_on(p, end)
    items = [{"id": cid, **data} for cid, data in rows.items()]
    items.sort(key=lambda row: row["number"])
    return {"programme": p.pk, "on": on, "items": items}
