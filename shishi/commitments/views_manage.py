"""The county office's pages: programmes, the draft list, publishing, accepting delivery."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shishi.orgs import access
from shishi.orgs.models import OrgKind
from shishi.web import form_errors
from shishi.workdays.lights import LIGHT_LABELS

from . import access as caccess
from . import services
from .forms_manage import CommitmentEditForm, CommitmentForm, ProgrammeForm
from .lights import light_of
from .models import REMOVED, Adjustment, Commitment, Programme

PROGRAMMES_PER_PAGE = 50
# A county's list is about 130 items: one page holds it, the pager covers larger ones.
# A county programme holds about 130: three pages, each rendered in a few milliseconds.
COMMITMENTS_PER_PAGE = 50


def _managed_counties(user):
    return access.orgs_for(user, caccess.MANAGE_COMMITMENTS).filter(kind=OrgKind.COUNTY)


@login_required
def programmes(request: HttpRequest) -> HttpResponse:
    page = Paginator(
        caccess.programmes_for(request.user)
        .select_related("county")
        .order_by("-year", "county__path"),
        PROGRAMMES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    figures = services.summaries(list(page))
    return render(
        request,
        "commitments/manage/programmes.html",
        {
            "page": page,
            "rows": [(p, figures[p.pk]) for p in page],
            "can_create": access.has_perm(request.user, caccess.MANAGE_COMMITMENTS)
            and _managed_counties(request.user).exists(),
        },
    )


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    counties = _managed_counties(request.user).order_by("path")
    if not access.has_perm(request.user, caccess.MANAGE_COMMITMENTS) or not counties.exists():
        raise PermissionDenied
    form = ProgrammeForm(
        request.POST or None,
        counties=counties,
        initial={"year": timezone.localdate().year, "approval_levels": 1},
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.create_programme(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Created %(title)s.") % {"title": programme.title})
            return redirect("commitments:programme", pk=programme.pk)
    return render(request, "commitments/manage/programme_form.html", {"form": form})


@login_required
def programme(request: HttpRequest, pk: int) -> HttpResponse:
    programme = caccess.get_programme(request, pk)
    user = request.user
    page = Paginator(
        caccess.commitments_for(user)
        .filter(programme=programme)
        .select_related("responsible_unit", "category")
        .order_by("number"),
        COMMITMENTS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    today, language = timezone.localdate(), get_language() or ""
    rows = []
    for commitment in page:
        state = light_of(commitment, today)
        category = commitment.category.label(language)
        rows.append((commitment, state, LIGHT_LABELS.get(state, ""), category))
    published = programme.status == Programme.Status.PUBLISHED
    return render(
        request,
        "commitments/manage/programme.html",
        {
            "programme": programme,
            "page": page,
            "rows": rows,
            "summary": services.summary(programme),
            "is_draft": programme.status == Programme.Status.DRAFT,
            "is_published": published,
            "can_manage": access.has_perm_on(user, caccess.MANAGE_COMMITMENTS, programme.county),
            "can_review": access.has_perm_on(user, caccess.REVIEW_PROGRESS, programme.county),
            "can_propose": published and access.has_perm(user, caccess.PROPOSE_ADJUSTMENT),
            "kinds": Adjustment.Kind.choices,
            "removed": REMOVED,
        },
    )


def _draft_only(request: HttpRequest, programme: Programme) -> HttpResponse | None:
    if programme.status != Programme.Status.DRAFT:
        messages.error(
            request, _("The list is published: it changes only by approved adjustments.")
        )
        return redirect("commitments:programme", pk=programme.pk)
    return None


@login_required
def commitment_new(request: HttpRequest, pk: int) -> HttpResponse:
    programme = caccess.get_programme(request, pk, caccess.MANAGE_COMMITMENTS)
    if refused := _draft_only(request, programme):
        return refused
    form = CommitmentForm(request.POST or None, county=programme.county)
    if request.method == "POST" and form.is_valid():
        try:
            commitment = services.add_commitment(request.user, programme, form.commitment_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Added %(commitment)s.") % {"commitment": commitment})
            if "another" in request.POST:
                return redirect("commitments:commitment_new", pk=programme.pk)
            return redirect("commitments:programme", pk=programme.pk)
    return render(
        request,
        "commitments/manage/commitment_form.html",
        {"programme": programme, "form": form, "title": _("Add a commitment"), "is_new": True},
    )


@login_required
def commitment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = caccess.get_commitment(request, pk, caccess.MANAGE_COMMITMENTS)
    programme = commitment.programme
    if refused := _draft_only(request, programme):
        return refused
    prefetch_related_objects([commitment], "co_units", "targets", "milestones")
    form = CommitmentEditForm(
        request.POST or None,
        county=commitment.county,
        commitment=commitment,
        initial={"version": commitment.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_commitment(
                request.user,
                commitment,
                form.commitment_data(),
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "conflict":
                # Saving again now overwrites knowingly: the editor has seen what changed.
                form.data = form.data.copy()
                form.data[form.add_prefix("version")] = (
                    Commitment.objects.filter(pk=commitment.pk)
                    .values_list("version", flat=True)
                    .get()
                )
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("commitments:programme", pk=programme.pk)
    return render(
        request,
        "commitments/manage/commitment_form.html",
        {
            "programme": programme,
            "form": form,
            "title": _("Edit %(commitment)s") % {"commitment": commitment},
        },
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    programme = caccess.get_programme(request, pk, caccess.MANAGE_COMMITMENTS)
    try:
        services.publish_programme(request.user, programme)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Published. From now on the list changes only by approved adjustments.")
        )
    return redirect("commitments:programme", pk=programme.pk)


@login_required
@require_POST
def accept_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = caccess.get_commitment(request, pk, caccess.REVIEW_PROGRESS)
    try:
        services.accept_delivery(request.user, commitment, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Delivery of %(commitment)s accepted.") % {"commitment": commitment}
        )
    return redirect("commitments:commitment", pk=commitment.pk)
