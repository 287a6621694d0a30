"""The unit's and the reviewer's pages: the workspace of commitments, a commitment's internal page,
the progress form, the review of a report, and the evidence files behind them."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shishi.evidence.serving import stored_file
from shishi.orgs import access
from shishi.web import form_errors
from shishi.workdays.lights import LIGHT_LABELS

from . import access as caccess
from . import services
from .forms import ReportForm, ReviewForm
from .lights import due_soon_cutoff, light_of
from .models import (
    OPEN,
    REMOVED,
    Adjustment,
    Commitment,
    Evidence,
    Programme,
    ProgressReport,
    Status,
)

# Rows per list on the workspace; each list says how many there are in all.
# Each list on the desk shows its most urgent rows; the counts (and the programme pages) have all.
LIST_LIMIT = 25
REPORTS_PER_PAGE = 20
ADJUSTMENT_KINDS = [
    Adjustment.Kind.CHANGE,
    Adjustment.Kind.DEFER,
    Adjustment.Kind.CANCEL,
    Adjustment.Kind.SPLIT,
]


def _with_lights(rows, today: dt.date) -> list[Commitment]:
    rows = list(rows)
    for c in rows:
        c.light = light_of(c, today)
        c.light_label = LIGHT_LABELS.get(c.light, "")
    return rows


@login_required
def home(request):
    """By scope: my unit's commitments, due soon, overdue (by unit), reports awaiting my review,
    adjustments awaiting my approval. Each list is one query for its rows and one for its count."""
    user = request.user
    if not access.has_perm(user, caccess.VIEW_COMMITMENTS):
        raise PermissionDenied
    today = timezone.localdate()
    cutoff = due_soon_cutoff(today)
    live = (
        caccess.commitments_for(user)
        .filter(status__in=OPEN, programme__status=Programme.Status.PUBLISHED)
        .select_related("responsible_unit", "programme")
    )
    overdue_q = Q(deadline__lt=today)
    due_soon_q = Q(deadline__gte=today, deadline__lt=cutoff)
    by_unit = list(
        live.filter(overdue_q | due_soon_q)
        .values("responsible_unit_id", "responsible_unit__name")
        .annotate(overdue=Count("id", filter=overdue_q), due_soon=Count("id", filter=due_soon_q))
        .order_by("responsible_unit__name", "responsible_unit_id")
    )
    ordered = live.order_by("responsible_unit__name", "deadline", "number")
    context = {
        "today": today,
        "by_unit": by_unit,
        "overdue": _with_lights(ordered.filter(overdue_q)[:LIST_LIMIT], today),
        "overdue_count": sum(row["overdue"] for row in by_unit),
        "due_soon": _with_lights(ordered.filter(due_soon_q)[:LIST_LIMIT], today),
        "due_soon_count": sum(row["due_soon"] for row in by_unit),
        "limit": LIST_LIMIT,
        "can_report": access.has_perm(user, caccess.REPORT_PROGRESS),
        "can_review": access.has_perm(user, caccess.REVIEW_PROGRESS),
    }
    if context["can_report"]:
        mine = (
            caccess.commitments_for(user, caccess.REPORT_PROGRESS)
            .exclude(status__in=REMOVED)
            .filter(programme__status=Programme.Status.PUBLISHED)
        )
        context["mine_count"] = mine.count()
        context["mine"] = _with_lights(
            mine.select_related("responsible_unit", "programme").order_by("deadline", "number")[
                :LIST_LIMIT
            ],
            today,
        )
    if context["can_review"]:
        queue = (
            caccess.reports_for(user, caccess.REVIEW_PROGRESS)
            .filter(state=ProgressReport.State.SUBMITTED)
            .exclude(submitted_by=user)
        )
        context["review_count"] = queue.count()
        context["to_review"] = list(
            queue.select_related("commitment__responsible_unit", "submitted_by__person").order_by(
                "submitted_at", "id"
            )[:LIST_LIMIT]
        )
    can_approve = caccess.can_decide_any(user)
    if can_approve:
        # The same list as the approval queue's (access.awaiting_decision).
        pending = caccess.awaiting_decision(user)
        context["approve_count"] = pending.count()
        context["to_approve"] = list(
            pending.select_related("programme", "proposed_by__person").order_by(
                "proposed_at", "id"
            )[:LIST_LIMIT]
        )
    context["can_approve"] = can_approve
    return render(request, "commitments/home.html", context)


@login_required
def commitment(request, pk: int):
    c = _with_lights([caccess.get_commitment(request, pk)], timezone.localdate())[0]
    user = request.user
    reports = Paginator(
        c.reports.select_related("submitted_by__person", "reviewed_by__person")
        .prefetch_related("evidence")
        .order_by("-submitted_at", "-id"),
        REPORTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    on_list = c.status not in REMOVED and c.programme.status == Programme.Status.PUBLISHED
    can_review = caccess.can(user, caccess.REVIEW_PROGRESS, c)
    return render(
        request,
        "commitments/commitment.html",
        {
            "c": c,
            "category": c.category.label(get_language()),
            "targets": list(c.targets.all()),
            "milestones": list(c.milestones.all()),
            "co_units": list(c.co_units.all()),
            "reports": reports,
            "can_report": on_list and caccess.can(user, caccess.REPORT_PROGRESS, c),
            "can_review": can_review,
            "can_accept": can_review and c.status == Status.DELIVERED,
            "adjust_kinds": [(k, Adjustment.Kind(k).label) for k in ADJUSTMENT_KINDS]
            if on_list and caccess.can(user, caccess.PROPOSE_ADJUSTMENT, c)
            else [],
        },
    )


@login_required
def report(request, pk: int):
    c = caccess.get_commitment(request, pk, caccess.REPORT_PROGRESS)
    targets = list(c.targets.all())
    initial = {"percent_complete": c.percent_complete}
    form = ReportForm(request.POST or None, request.FILES or None, initial=initial, targets=targets)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.submit_progress(
                request.user,
                c,
                text=data["text"],
                percent_complete=data["percent_complete"],
                target_values=form.target_values(),
                delivered=data["delivered"],
                files=data["files"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Progress reported. The county office will review it."))
            return redirect("commitments:commitment", pk=c.pk)
    if request.method == "POST" and request.FILES:
        # A browser never keeps chosen files across a page load; say so rather than let the
        # officer believe the photos are still attached.
        form.add_error("files", _("Nothing was saved: choose the files again."))
    return render(
        request,
        "commitments/report.html",
        {"c": _with_lights([c], timezone.localdate())[0], "form": form},
    )


@login_required
def review(request, pk: int):
    r = caccess.get_report(request, pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            services.review_progress(
                request.user, r, accept=accept, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Report accepted: the public page shows it now.")
                if accept
                else _("Report returned to the unit with your reason."),
            )
            return redirect("commitments:home")
        r.refresh_from_db(fields=["state", "reviewed_by", "reviewed_at", "return_reason"])
    targets = list(r.commitment.targets.all())
    changes = [(t, r.target_values[str(t.pk)]) for t in targets if str(t.pk) in r.target_values]
    evidence = list(r.evidence.all())
    return render(
        request,
        "commitments/review.html",
        {
            "r": r,
            "c": r.commitment,
            "form": form,
            "changes": changes,
            "photos": [e for e in evidence if e.is_image],
            "documents": [e for e in evidence if not e.is_image],
            "reviewer": getattr(r.reviewed_by, "person", None) if r.reviewed_by_id else None,
            "is_open": r.state == ProgressReport.State.SUBMITTED,
            "is_author": r.submitted_by_id == request.user.pk,
            "is_accepted": r.state == ProgressReport.State.ACCEPTED,
        },
    )


def _evidence_in_scope(request, pk: int, *fields: str) -> Evidence:
    item = (
        Evidence.objects.filter(pk=pk, report__commitment__in=caccess.commitments_for(request.user))
        .only("id", "sha256", *fields)
        .first()
    )
    if item is None:
        raise access.deny(request, "commitments.evidence", pk)
    return item


@login_required
def evidence(request, pk: int):
    """An evidence file, for anyone who may see its commitment, whatever the report's state."""
    item = _evidence_in_scope(request, pk, "file", "content_type")
    # Stored files never change (the name is their checksum); only this browser may keep them.
    return stored_file(
        item.file, item.content_type, f"{item.sha256[:16]}.{item.extension}", max_age=86400
    )


@login_required
def evidence_thumbnail(request, pk: int):
    """A photo's 96-pixel thumbnail, under the same rule as the photo."""
    item = _evidence_in_scope(request, pk, "thumbnail")
    if not item.thumbnail:
        raise Http404
    return stored_file(item.thumbnail, "image/jpeg", f"{item.sha256[:16]}-thumb.jpg", max_age=86400)


@login_required
@require_POST
def evidence_public(request, pk: int):
    """A reviewer publishes an evidence file of a report on the public page, or withdraws it
    (the review page's buttons beside each document). Outside the reviewer's scope: 404; the
    report's author publishing their own document: 403 (the service refuses)."""
    item = (
        Evidence.objects.filter(pk=pk, report__in=caccess.reports_for(request.user))
        .select_related("report")
        .first()
    )
    if item is None:
        raise access.deny(request, "commitments.evidence", pk)
    choice = request.POST.get("public")
    if choice not in ("0", "1"):
        return HttpResponseBadRequest()
    public = choice == "1"
    services.set_evidence_public(request.user, item, public)
    if not public:
        messages.success(request, _("Document withdrawn: the public page no longer shows it."))
    elif item.report.state == ProgressReport.State.ACCEPTED:
        messages.success(request, _("Document published: the public page shows it now."))
    else:
        messages.success(
            request,
            _("Document published: the public page shows it once the report is accepted."),
        )
    return redirect("commitments:review", pk=item.report_id)
