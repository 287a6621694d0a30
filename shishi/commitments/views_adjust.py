"""Adjustments (动态调整): proposing one, the approval queues, and deciding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shishi.lib.parse import whole_number

from . import access as caccess
from . import services
from .display import Values, label
from .forms_manage import (
    AdjustmentForm,
    CommitmentForm,
    changed_fields,
    flat_initial,
)
from .models import REMOVED, Adjustment, Commitment, Snapshot, Status

K = Adjustment.Kind
S = Adjustment.State
QUEUE_PER_PAGE = 50
RECENT = 20
# What a split part starts from: the original's owner and dates, not its targets or money.
SPLIT_INHERITS = [
    "category",
    "lead_official",
    "responsible_unit",
    "co_units",
    "start_date",
    "deadline",
]


def _on_list(programme):
    return programme.commitments.exclude(status__in=REMOVED).order_by("number")


def _chosen(request: HttpRequest, on_list) -> Commitment | None:
    raw = (request.POST if request.method == "POST" else request.GET).get("commitment", "")
    pk = whole_number(raw)
    if pk is None:
        return None
    return (
        on_list.filter(pk=pk)
        .select_related("category", "responsible_unit", "county")
        .prefetch_related("co_units", "targets", "milestones")
        .first()
    )


def _commitment_forms(request, kind: str, county, chosen: Commitment | None) -> list:
    data = request.POST if request.method == "POST" else None
    if kind == K.ADD:
        return [CommitmentForm(data, county=county, prefix="new")]
    if kind == K.MERGE:
        return [CommitmentForm(data, county=county, prefix="into")]
    if kind == K.CHANGE:
        return [
            CommitmentForm(data, county=county, commitment=chosen, with_number=False, prefix="c")
        ]
    if kind == K.SPLIT:
        n = 3 if request.GET.get("parts") == "3" else 2
        initial = {}
        if chosen is not None:
            full = flat_initial(chosen)
            initial = {name: full[name] for name in SPLIT_INHERITS}
        return [
            CommitmentForm(data, county=county, prefix=f"part{i}", initial=initial)
            for i in range(1, n + 1)
        ]
    return []


def _payload(kind: str, form: AdjustmentForm, parts: list, chosen) -> dict:
    if kind == K.ADD:
        return {"commitment": parts[0].commitment_data()}
    if kind == K.MERGE:
        return {"into": parts[0].commitment_data()}
    if kind == K.SPLIT:
        return {"parts": [p.commitment_data() for p in parts]}
    if kind == K.CHANGE:
        return {"fields": changed_fields(parts[0].commitment_data(), chosen)}
    if kind == K.DEFER:
        return {"deadline": form.cleaned_data["deadline"]}
    return {}


def _route_errors(exc: ValidationError, form: AdjustmentForm, parts: list) -> None:
    """A service error about the commitment's content goes to its form; the rest to the main."""
    if not hasattr(exc, "error_dict") or len(parts) != 1:
        form.add_service_errors(exc)
        return
    for key, errors in exc.error_dict.items():
        field = key.split(".")[0]
        if field in services.FIELDS and field not in form.fields:
            parts[0].add_service_errors(ValidationError({key: errors}))
        else:
            form.add_service_errors(ValidationError({key: errors}))


@login_required
def adjustment_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    programme = caccess.get_programme(request, pk)
    if kind not in K.values:
        raise Http404
    county = programme.county
    on_list = _on_list(programme)
    chosen = _chosen(request, on_list)
    context = {"programme": programme, "kind": kind, "kind_label": K(kind).label}
    if kind == K.CHANGE and chosen is None:
        # The change form starts from the commitment's values: choose it first.
        return render(request, "commitments/adjust/choose.html", {**context, "on_list": on_list})
    initial = {}
    if chosen is not None:
        initial = {"commitments": [chosen.pk]} if kind == K.MERGE else {"commitment": chosen.pk}
    form = AdjustmentForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        on_list=on_list,
        fixed=kind == K.CHANGE,
        initial=initial,
    )
    parts = _commitment_forms(request, kind, county, chosen)
    if request.method == "POST":
        valid = [form.is_valid()] + [p.is_valid() for p in parts]
        if all(valid):
            # Each new commitment is checked on its own, so its errors land on its own part.
            for part in parts if kind != K.CHANGE else []:
                try:
                    services.clean_commitment(part.commitment_data(), county)
                except ValidationError as exc:
                    part.add_service_errors(exc)
        if all(valid) and not any(p.errors for p in parts):
            try:
                adjustment = services.propose_adjustment(
                    request.user,
                    programme,
                    kind=kind,
                    commitments=form.concerned(),
                    payload=_payload(kind, form, parts, chosen),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _route_errors(exc, form, parts)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Proposed. It now awaits approval."))
                return redirect("commitments:adjustment", pk=adjustment.pk)
    return render(
        request,
        "commitments/adjust/form.html",
        {
            **context,
            "form": form,
            "parts": parts,
            "chosen": chosen,
            "split_parts": len(parts) if kind == K.SPLIT else 0,
        },
    )


def _with_rows(qs):
    numbers = Commitment.objects.only("id", "number", "title").order_by("number")
    return qs.select_related("programme", "proposed_by__person").prefetch_related(
        Prefetch("commitments", queryset=numbers)
    )


@login_required
def adjustments(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = caccess.adjustments_for(user)
    # The same list as the desk's "awaiting my approval" (access.awaiting_decision).
    queue = caccess.awaiting_decision(user).order_by("proposed_at", "id")
    page = Paginator(_with_rows(queue), QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    mine = _with_rows(Adjustment.objects.filter(proposed_by=user).order_by("-proposed_at", "-id"))
    decided = _with_rows(
        visible.filter(state__in=[S.APPROVED, S.REJECTED])
        .annotate(decided_at=Max("decisions__decided_at"))
        .order_by("-decided_at", "-id")
    )
    return render(
        request,
        "commitments/adjust/list.html",
        {"page": page, "mine": list(mine[:RECENT]), "decided": list(decided[:RECENT])},
    )


# --- one adjustment: what it changes, and the decision ----------------------------------------


def _before(adjustment: Adjustment, concerned: list[Commitment]) -> dict[int, dict]:
    """Each concerned commitment's public fields before the adjustment: its current ones while
    undecided, the snapshot the adjustment replaced once applied."""
    before = {c.pk: services.public_fields(c) for c in concerned}
    if adjustment.state == S.APPROVED and adjustment.applied_at:
        earlier = (
            Snapshot.objects.filter(
                commitment__in=[c.pk for c in concerned], valid_from__lte=adjustment.applied_at
            )
            .exclude(adjustment=adjustment)
            .order_by("commitment_id", "-valid_from", "-id")
            .values_list("commitment_id", "data")
        )
        seen = set()
        for commitment_id, data in earlier:
            if commitment_id not in seen:
                seen.add(commitment_id)
                before[commitment_id] = data
    return before


def _changes(adjustment: Adjustment, concerned: list[Commitment]) -> dict:
    """What the adjustment changes: before → after rows per concerned commitment, and the fields
    of the commitments it creates."""
    payload = adjustment.payload
    new = (
        [payload.get("commitment") or {}]
        if adjustment.kind == K.ADD
        else [payload.get("into") or {}]
        if adjustment.kind == K.MERGE
        else list(payload.get("parts") or [])
        if adjustment.kind == K.SPLIT
        else []
    )
    fields = payload.get("fields") or {}
    before = _before(adjustment, concerned)
    show = Values([fields, *new, *before.values()])
    after_of = {
        K.CHANGE: fields,
        K.DEFER: {"status": Status.DEFERRED, "deadline": payload.get("deadline")},
        K.CANCEL: {"status": Status.CANCELLED},
        K.SPLIT: {"status": Status.CANCELLED},
        K.MERGE: {"status": Status.MERGED},
    }.get(adjustment.kind, {})
    changed = []
    for c in concerned:
        old = before[c.pk]
        rows = [
            (label(name), show(name, old.get(name)), show(name, after_of[name]))
            for name in [*services.FIELDS, "status"]
            if name in after_of
        ]
        changed.append((c, rows))
    created = [
        [
            (label(name), show(name, data.get(name)))
            for name in services.FIELDS
            if data.get(name) not in (None, "", [])
        ]
        for data in new
    ]
    return {"changed": changed, "created": created}


def _decide(request: HttpRequest, adjustment: Adjustment) -> HttpResponse | str:
    """Carry out the posted action; a response when done, else the note's error to show."""
    action = request.POST.get("action")
    note = request.POST.get("note", "")
    # The state the page showed: a double click or a second tab finds it moved on.
    if request.POST.get("state") != adjustment.state:
        messages.error(request, _("This adjustment has already been decided."))
        return redirect("commitments:adjustment", pk=adjustment.pk)
    try:
        if action == "withdraw":
            services.withdraw_adjustment(request.user, adjustment)
            messages.success(request, _("Withdrawn."))
        elif action in ("approve", "reject"):
            done = services.decide_adjustment(
                request.user, adjustment, approve=action == "approve", note=note
            )
            messages.success(request, done.get_state_display())
        else:
            raise Http404
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "note" in exc.error_dict:
            return " ".join(exc.error_dict["note"][0].messages)
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("commitments:adjustment", pk=adjustment.pk)


@login_required
def adjustment(request: HttpRequest, pk: int) -> HttpResponse:
    adjustment = caccess.get_adjustment(request, pk)
    note_error = ""
    if request.method == "POST":
        outcome = _decide(request, adjustment)
        if isinstance(outcome, HttpResponse):
            return outcome
        note_error = outcome
    adjustment = (
        Adjustment.objects.select_related("programme__county", "proposed_by__person")
        .prefetch_related(Prefetch("results", queryset=Commitment.objects.order_by("number")))
        .get(pk=adjustment.pk)
    )
    concerned = list(
        adjustment.commitments.select_related("category", "responsible_unit", "merged_into")
        .prefetch_related("co_units", "targets", "milestones")
        .order_by("number")
    )
    decisions = list(adjustment.decisions.select_related("decided_by__person"))
    user = request.user
    return render(
        request,
        "commitments/adjust/detail.html",
        {
            "adjustment": adjustment,
            "programme": adjustment.programme,
            "concerned": concerned,
            "changes": _changes(adjustment, concerned),
            "decisions": decisions,
            "can_decide": caccess.may_decide(
                user, adjustment, {d.decided_by_id for d in decisions}
            ),
            "can_withdraw": adjustment.proposed_by_id == user.pk
            and adjustment.state in (S.PROPOSED, S.FIRST_APPROVED),
            "note_error": note_error,
            "note": request.POST.get("note", "") if request.method == "POST" else "",
        },
    )
