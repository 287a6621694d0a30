"""The working-day calendar page: a year's holidays and exchanged working days, editable by a
system administrator and readable by anyone who sees the organisation tree."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shishi.extensions import MenuEntry
from shishi.orgs import access
from shishi.web import form_errors

from . import services
from .models import Counting, Day

CHOICES = {"work": True, "off": False, "normal": None}


class DayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("The day is"),
        choices=[
            ("off", gettext_lazy("a day off (holiday)")),
            ("work", gettext_lazy("a working day (exchanged)")),
            ("normal", gettext_lazy("back to normal (follows the week)")),
        ],
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        required=False,
        max_length=50,
        help_text=gettext_lazy("For example 春节 or 国庆节调休上班."),
    )


class PolicyForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, max_length=60)
    counting = forms.ChoiceField(label=gettext_lazy("Counted in"), choices=Counting.choices)
    due_soon = forms.IntegerField(
        label=gettext_lazy("Due soon (days before the deadline)"),
        min_value=0,
        max_value=services.MAX_DUE_SOON,
    )


def menu(user) -> list[MenuEntry]:
    if services.may_change(user):
        return [MenuEntry(reverse("workdays:calendar"), gettext_lazy("Calendar"), "calendar", 80)]
    return []


def _year(value) -> int:
    """The year asked for in the query, or this year for anything that is not a sane year."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if 1900 <= year <= 2200 else timezone.localdate().year


@login_required
def calendar_page(request):
    user = request.user
    can_manage = services.may_change(user)
    if not (can_manage or access.has_perm(user, access.VIEW_ORGS)):
        raise PermissionDenied
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    year = _year(request.GET.get("year"))
    posted_policy = request.method == "POST" and "due_soon" in request.POST
    policy_form = PolicyForm(request.POST) if posted_policy else None
    if policy_form is not None and policy_form.is_valid():
        data = policy_form.cleaned_data
        try:
            services.set_policy(
                user, data["kind"], counting=data["counting"], due_soon=data["due_soon"]
            )
        except ValidationError as exc:
            form_errors(policy_form, exc)
        else:
            messages.success(request, _("Deadline policy saved."))
            return redirect(f"{request.path}?year={year}#h-policies")
    form = DayForm(request.POST if request.method == "POST" and not posted_policy else None)
    if not can_manage:
        form = None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_day(
                user, data["date"], is_workday=CHOICES[data["kind"]], name=data["name"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Saved %(date)s.") % {"date": data["date"].isoformat()})
            return redirect(f"{request.path}?year={data['date'].year}")
    days = list(
        Day.objects.filter(date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31))
        .select_related("updated_by__person")
        .order_by("date")
    )
    return render(
        request,
        "workdays/calendar.html",
        {
            "year": year,
            "days": days,
            "off": sum(not d.is_workday for d in days),
            "work": sum(d.is_workday for d in days),
            "form": form,
            "can_manage": can_manage,
            "policies": [
                (
                    p,
                    policy_form
                    if policy_form is not None and policy_form.data.get("kind") == p.kind
                    else PolicyForm(
                        initial={"kind": p.kind, "counting": p.counting, "due_soon": p.due_soon},
                        prefix=None,
                    ),
                )
                for p in services.policies()
            ],
        },
    )
