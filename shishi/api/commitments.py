"""The commitments API: public reads of published programmes (no token), and, with a token,
progress reports, reviews, adjustments and decisions.

Public reads show only what the public portal shows (``commitments.public``): no reporter,
reviewer or proposer names, no internal states; each list answers in a fixed number of queries
whatever the page size. With a token, the token's login is ``request.user``; every object is
fetched through the commitments access helpers and every change is made by
``shishi.commitments.services``, which checks the role again.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import P, Query, Router, Status

from shishi.commitments import access as caccess
from shishi.commitments import public as visible
from shishi.commitments import services
from shishi.commitments.lights import light_of, light_q, milestone_light
from shishi.commitments.models import Adjustment, Commitment, Decision, Programme, ProgressReport
from shishi.lib.parse import whole_number
from shishi.lib.workdays import Light
from shishi.orgs.access import deny
from shishi.orgs.models import Org

from . import commitments_schemas as S
from .common import (
    MAX_LIMIT,
    PUBLIC_ERRORS,
    WORK_ERRORS,
    Conflict,
    IsoDate,
    Offset,
    PathId,
    QueryId,
    bearer,
    decimal_text,
    org_ref,
    paginate,
)

public = Router(tags=["public"])
work = Router(auth=bearer, tags=["work"])


def _programmes() -> QuerySet[Programme]:
    return visible.programmes().select_related("county")


def commitment_ref(c: Commitment) -> dict:
    return {"id": c.pk, "number": c.number, "title": c.title}


# --- the county each public read shows, for the page cache (shishi/pagecache.py) --------------------


def _by_programme_id(request, programme_id: int, **kwargs) -> int | None:
    return visible.county_of_programme(programme_id)


def _by_commitment_id(request, commitment_id: int, **kwargs) -> int | None:
    return visible.county_of_commitment(commitment_id)


def _by_programme_query(request, **kwargs) -> int | None:
    """A list filtered by one programme shows that county; unfiltered, every county."""
    pk = whole_number(request.GET.get("programme", ""))
    return visible.county_of_programme(pk) if pk is not None else None


def _spans_counties(request, **kwargs) -> None:
    return None


# The public reads, by their URL name, with the county each shows (``api/urls.py`` marks them).
PUBLIC_PAGES = {
    "programmes": _spans_counties,
    "programme": _by_programme_id,
    "summary": _by_programme_id,
    "commitments": _by_programme_query,
    "commitment": _by_commitment_id,
    "changes": _by_programme_id,
    "list_on": _by_programme_id,
}


# --- public reads -------------------------------------------------------------------------------


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
    state = light_of(c, today)
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


@public.get("/programmes", response={200: S.ProgrammePage, **PUBLIC_ERRORS})
def programmes(
    request,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: Offset = 0,
):
    """Published programmes (annual lists), newest first."""
    qs = _programmes().order_by("-year", "county__path", "id")
    return paginate(qs, limit, offset, programme_out)


@public.get("/programmes/{int:programme_id}", response={200: S.Programme, **PUBLIC_ERRORS})
def programme(request, programme_id: PathId):
    return programme_out(get_object_or_404(_programmes(), pk=programme_id))


@public.get("/programmes/{int:programme_id}/summary", response={200: S.Summary, **PUBLIC_ERRORS})
def summary(request, programme_id: PathId):
    """The headline figures, each with the formula that computes it from the list."""
    p = get_object_or_404(_programmes(), pk=programme_id)
    figures = services.summary(p)
    return {
        "programme": p.pk,
        **figures,
        "formulas": {name: str(text) for name, text in services.FORMULAS.items()},
    }


@public.get("/commitments", response={200: S.CommitmentPage, **PUBLIC_ERRORS})
def commitments(
    request,
    programme: QueryId = None,
    category: str | None = Query(None, description="category code, e.g. education"),
    status: str | None = Query(None, description="planned, in_progress, delivered, …"),
    unit: str | None = Query(
        None, description="an organisation's code: its own and its subtree's commitments"
    ),
    light: Light | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: Offset = 0,
):
    """Commitments of published programmes, in list order (programme, number)."""
    qs = visible.commitments()
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


@public.get("/commitments/{int:commitment_id}", response={200: S.CommitmentDetail, **PUBLIC_ERRORS})
def commitment(request, commitment_id: PathId):
    """One commitment with its targets, milestones, light and the timeline of accepted progress
    (who reported and who reviewed are not public)."""
    c = get_object_or_404(
        visible.commitments()
        .select_related("category", "responsible_unit", "merged_into")
        .prefetch_related(
            "co_units",
            "targets",
            "milestones",
            Prefetch(
                "reports",
                queryset=visible.reports().order_by("submitted_at", "id"),
                to_attr="accepted_reports",
            ),
        ),
        pk=commitment_id,
    )
    today = timezone.localdate()
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
                "light": str(milestone_light(m, today)),
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


@public.get("/programmes/{int:programme_id}/changes", response={200: S.ChangePage, **PUBLIC_ERRORS})
def changes(
    request,
    programme_id: PathId,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: Offset = 0,
):
    """Applied adjustments (动态调整), latest first: what kind, why, when, and to which items."""
    p = get_object_or_404(_programmes(), pk=programme_id)
    refs = Commitment.objects.only("id", "number", "title").order_by("number")
    qs = (
        visible.changes(p)
        .prefetch_related(Prefetch("commitments", refs), Prefetch("results", refs))
        .order_by("-applied_at", "-id")
    )
    return paginate(qs, limit, offset, change_out)


@public.get("/programmes/{int:programme_id}/list", response={200: S.ListOn, **PUBLIC_ERRORS})
def list_on(request, programme_id: PathId, on: Query[IsoDate, P(description="YYYY-MM-DD")]):
    """The public list as it stood at the end of the day ``on``, in number order."""
    p = get_object_or_404(_programmes(), pk=programme_id)
    end = timezone.make_aware(dt.datetime.combine(on, dt.time.max))
    rows = services.list_on(p, end)
    items = [{"id": cid, **data} for cid, data in rows.items()]
    items.sort(key=lambda row: row["number"])
    return {"programme": p.pk, "on": on, "items": items}


# --- with a token: progress, reviews, adjustments -------------------------------------------------


def _name(user) -> str | None:
    return user.get_username() if user is not None else None


def report_out(r: ProgressReport) -> dict:
    return {
        "id": r.pk,
        "commitment": commitment_ref(r.commitment),
        "text": r.text,
        "percent_complete": r.percent_complete,
        "target_values": {str(k): str(v) for k, v in r.target_values.items()},
        "delivered": r.mark_delivered,
        "state": r.state,
        "submitted_by": _name(r.submitted_by),
        "submitted_at": r.submitted_at,
        "reviewed_by": _name(r.reviewed_by),
        "reviewed_at": r.reviewed_at,
        "return_reason": r.return_reason,
        "evidence": r.evidence_count,
    }


def _reports():
    """Reports with what ``report_out`` reads, in one query (the evidence counted, not fetched)."""
    return ProgressReport.objects.select_related(
        "commitment", "submitted_by", "reviewed_by"
    ).annotate(evidence_count=Count("evidence"))


def adjustment_out(a: Adjustment) -> dict:
    return {
        "id": a.pk,
        "programme": a.programme_id,
        "kind": a.kind,
        "state": a.state,
        "reason": a.reason,
        "payload": a.payload,
        "commitments": [commitment_ref(c) for c in a.commitments.all()],
        "results": [commitment_ref(c) for c in a.results.all()],
        "proposed_by": _name(a.proposed_by),
        "proposed_at": a.proposed_at,
        "applied_at": a.applied_at,
        "decisions": [
            {
                "level": d.level,
                "approved": d.approved,
                "note": d.note,
                "decided_by": _name(d.decided_by),
                "decided_at": d.decided_at,
            }
            for d in a.decisions.all()
        ],
    }


def _adjustments(qs):
    refs = Commitment.objects.only("id", "number", "title").order_by("number")
    return qs.select_related("proposed_by").prefetch_related(
        Prefetch("commitments", refs),
        Prefetch("results", refs),
        Prefetch("decisions", Decision.objects.select_related("decided_by")),
    )


def _commitment_for_write(request, pk: int) -> Commitment:
    """A public commitment, or one in the user's scope. A public one is not hidden behind a 404:
    everyone knows it exists, so a missing role answers 403 from the service."""
    in_scope = caccess.commitments_for(request.user).values("pk")
    commitment = (
        Commitment.objects.filter(pk=pk)
        .filter(Q(programme__status__in=visible.PUBLIC_STATES) | Q(pk__in=in_scope))
        .first()
    )
    if commitment is None:
        raise deny(request, "commitments.commitment", pk)
    return commitment


@work.post(
    "/commitments/{int:commitment_id}/reports",
    response={201: S.Report, **WORK_ERRORS},
    summary="Report progress",
)
def report_progress(request, commitment_id: PathId, data: S.ReportIn):
    """Report progress on a commitment as its responsible unit. Evidence files (photos, PDF)
    cannot be sent as JSON: attach them in the web app. The report changes nothing public until a
    reviewer accepts it."""
    commitment = _commitment_for_write(request, commitment_id)
    report = services.submit_progress(
        request.user,
        commitment,
        text=data.text,
        percent_complete=data.percent_complete,
        target_values={str(k): str(v) for k, v in data.target_values.items()},
        delivered=data.delivered,
    )
    return Status(201, report_out(_reports().get(pk=report.pk)))


@work.get("/reports", response={200: S.ReportPage, **WORK_ERRORS})
def reports(
    request,
    state: S.ReportState | None = None,
    commitment: QueryId = None,
    programme: QueryId = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: Offset = 0,
):
    """Progress reports of any state on the commitments in your scope, newest first."""
    qs = caccess.reports_for(request.user, caccess.VIEW_COMMITMENTS)
    if state is not None:
        qs = qs.filter(state=state.value)
    if commitment is not None:
        qs = qs.filter(commitment_id=commitment)
    if programme is not None:
        qs = qs.filter(commitment__programme_id=programme)
    qs = _reports().filter(pk__in=qs.values("pk")).order_by("-submitted_at", "-id")
    return paginate(qs, limit, offset, report_out)


@work.post(
    "/reports/{int:report_id}/review",
    response={200: S.Report, **WORK_ERRORS},
    summary="Accept or return a progress report",
)
def review(request, report_id: PathId, data: S.ReviewIn):
    """Accept a report (its figures become public at once) or return it with a reason."""
    report = caccess.get_report(request, report_id, caccess.VIEW_COMMITMENTS)
    try:
        services.review_progress(request.user, report, accept=data.accept, reason=data.reason)
    except ValidationError as exc:
        report.refresh_from_db(fields=["state"])
        if report.state != ProgressReport.State.SUBMITTED:
            raise Conflict(_("This report has already been reviewed.")) from exc
        raise
    return report_out(_reports().get(pk=report.pk))


@work.get("/adjustments", response={200: S.AdjustmentPage, **WORK_ERRORS})
def adjustments(
    request,
    state: S.AdjustmentState | None = None,
    programme: QueryId = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: Offset = 0,
):
    """Adjustments in your scope, and those you proposed, of any state, newest first."""
    qs = caccess.adjustments_for(request.user)
    if state is not None:
        qs = qs.filter(state=state.value)
    if programme is not None:
        qs = qs.filter(programme_id=programme)
    return paginate(_adjustments(qs).order_by("-proposed_at", "-id"), limit, offset, adjustment_out)


@work.post(
    "/programmes/{int:programme_id}/adjustments",
    response={201: S.Adjustment, **WORK_ERRORS},
    summary="Propose an adjustment",
)
def propose(request, programme_id: PathId, data: S.AdjustmentIn):
    """Propose adding, changing, merging, splitting, deferring or cancelling commitments of a
    published list, with a reason. Nothing changes until it is approved."""
    in_scope = caccess.programmes_for(request.user).values("pk")
    programme = (
        Programme.objects.filter(pk=programme_id)
        .filter(Q(status__in=visible.PUBLIC_STATES) | Q(pk__in=in_scope))
        .first()
    )
    if programme is None:
        raise deny(request, "commitments.programme", programme_id)
    ids = list(dict.fromkeys(data.commitments))
    found = {c.pk: c for c in Commitment.objects.filter(programme=programme, pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ValidationError(
            {
                "commitments": _("Not on this programme's list: %(ids)s.")
                % {"ids": ", ".join(missing)}
            }
        )
    adjustment = services.propose_adjustment(
        request.user,
        programme,
        kind=data.kind,
        commitments=[found[pk] for pk in ids],
        payload=data.payload,
        reason=data.reason,
    )
    return Status(201, adjustment_out(_adjustments(Adjustment.objects).get(pk=adjustment.pk)))


@work.post(
    "/adjustments/{int:adjustment_id}/decision",
    response={200: S.Adjustment, **WORK_ERRORS},
    summary="Approve or reject an adjustment",
)
def decide(request, adjustment_id: PathId, data: S.DecisionIn):
    """Approve or reject at the next level; the last approval applies the change at once."""
    adjustment = caccess.get_adjustment(request, adjustment_id)
    open_states = (Adjustment.State.PROPOSED, Adjustment.State.FIRST_APPROVED)
    try:
        services.decide_adjustment(request.user, adjustment, approve=data.approve, note=data.note)
    except ValidationError as exc:
        adjustment.refresh_from_db(fields=["state"])
        if adjustment.state not in open_states:
            raise Conflict(_("This adjustment has already been decided.")) from exc
        raise
    return adjustment_out(_adjustments(Adjustment.objects).get(pk=adjustment.pk))
