"""Endpoints that need a token: progress reports, reviews, adjustments and decisions.

The token's login is ``request.user``; every object is fetched through the commitments access
helpers and every change is made by ``shishi.commitments.services``, which checks the role again.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shishi.commitments import access as caccess
from shishi.commitments import services
from shishi.commitments.models import Adjustment, Commitment, Decision, Programme, ProgressReport
from shishi.orgs import access
from shishi.orgs.access import deny

from . import schemas
from .auth import bearer
from .errors import Conflict
from .public import MAX_LIMIT, PUBLIC, commitment_ref, paginate

router = Router(auth=bearer, tags=["work"])

ERRORS = {code: schemas.Error for code in (400, 401, 403, 404, 409, 422)}


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
        .filter(Q(programme__status__in=PUBLIC) | Q(pk__in=in_scope))
        .first()
    )
    if commitment is None:
        raise deny(request, "commitments.commitment", pk)
    return commitment


@router.post(
    "/commitments/{int:commitment_id}/reports",
    response={201: schemas.Report, **ERRORS},
    summary="Report progress",
)
def report_progress(request, commitment_id: int, data: schemas.ReportIn):
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


@router.get("/reports", response={200: schemas.ReportPage, **ERRORS})
def reports(
    request,
    state: ProgressReport.State | None = None,
    commitment: int | None = None,
    programme: int | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Progress reports of any state on the commitments in your scope, newest first."""
    qs = caccess.reports_for(request.user, access.VIEW_COMMITMENTS)
    if state is not None:
        qs = qs.filter(state=state)
    if commitment is not None:
        qs = qs.filter(commitment_id=commitment)
    if programme is not None:
        qs = qs.filter(commitment__programme_id=programme)
    qs = _reports().filter(pk__in=qs.values("pk")).order_by("-submitted_at", "-id")
    return paginate(qs, limit, offset, report_out)


@router.post(
    "/reports/{int:report_id}/review",
    response={200: schemas.Report, **ERRORS},
    summary="Accept or return a progress report",
)
def review(request, report_id: int, data: schemas.ReviewIn):
    """Accept a report (its figures become public at once) or return it with a reason."""
    report = caccess.get_report(request, report_id, access.VIEW_COMMITMENTS)
    try:
        services.review_progress(request.user, report, accept=data.accept, reason=data.reason)
    except ValidationError as exc:
        report.refresh_from_db(fields=["state"])
        if report.state != ProgressReport.State.SUBMITTED:
            raise Conflict(_("This report has already been reviewed.")) from exc
        raise
    return report_out(_reports().get(pk=report.pk))


@router.get("/adjustments", response={200: schemas.AdjustmentPage, **ERRORS})
def adjustments(
    request,
    state: Adjustment.State | None = None,
    programme: int | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
):
    """Adjustments in your scope, and those you proposed, of any state, newest first."""
    qs = caccess.adjustments_for(request.user)
    if state is not None:
        qs = qs.filter(state=state)
    if programme is not None:
        qs = qs.filter(programme_id=programme)
    return paginate(_adjustments(qs).order_by("-proposed_at", "-id"), limit, offset, adjustment_out)


@router.post(
    "/programmes/{int:programme_id}/adjustments",
    response={201: schemas.Adjustment, **ERRORS},
    summary="Propose an adjustment",
)
def propose(request, programme_id: int, data: schemas.AdjustmentIn):
    """Propose adding, changing, merging, splitting, deferring or cancelling commitments of a
    published list, with a reason. Nothing changes until it is approved."""
    in_scope = caccess.programmes_for(request.user).values("pk")
    programme = (
        Programme.objects.filter(pk=programme_id)
        .filter(Q(status__in=PUBLIC) | Q(pk__in=in_scope))
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


@router.post(
    "/adjustments/{int:adjustment_id}/decision",
    response={200: schemas.Adjustment, **ERRORS},
    summary="Approve or reject an adjustment",
)
def decide(request, adjustment_id: int, data: schemas.DecisionIn):
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
