"""The audit log page: every change in the user's counties, newest first, filtered and paged by key.

The log belongs to the floor below everything (``shishi.audit``); reading it is a page of the
workspace shell, for those who hold ``audit.view``."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from shishi.audit.models import Entry
from shishi.lib.parse import whole_number
from shishi.orgs import access
from shishi.orgs.models import OrgKind

PER_PAGE = 50


class FilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action"), required=False, max_length=100, help_text=_("e.g. orgs.person")
    )
    actor = forms.CharField(label=_("Actor (username)"), required=False, max_length=150)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=50)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def entries_for(user):
    """Audit entries the user may read: those of the counties wholly in their scope; entries that
    belong to no county (logins, system work) only for those whose scope is above any county.

    Entries are kept per county, not per town, so a role on a town or a unit reads none: the
    county's log tells of every town in it.
    """
    paths = access.scope_paths(user, access.VIEW_AUDIT)
    if not paths:
        raise PermissionDenied
    scope = access.orgs_for(user, access.VIEW_AUDIT)
    above_county = scope.filter(path__in=paths, kind__in=[OrgKind.PROVINCE, OrgKind.CITY]).exists()
    q = Q(county_id__in=list(scope.filter(kind=OrgKind.COUNTY).values_list("pk", flat=True)))
    if above_county:
        q |= Q(county_id__isnull=True)
    return Entry.objects.filter(q)


@login_required
def entries(request):
    qs = entries_for(request.user)
    form = FilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            qs = qs.filter(action__startswith=data["action"].strip())
        if data["actor"]:
            qs = qs.filter(actor_label=data["actor"].strip())
        if data["object_type"]:
            qs = qs.filter(object_type=data["object_type"].strip())
        if data["object_id"]:
            qs = qs.filter(object_id=data["object_id"].strip())
        if data["since"]:
            qs = qs.filter(time__date__gte=data["since"])
        if data["until"]:
            qs = qs.filter(time__date__lte=data["until"])
    # Keyset pagination: "older than entry N", so deep pages cost the same as the first.
    before = whole_number(request.GET.get("before", ""))
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs.order_by("-seq")[: PER_PAGE + 1])
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = rows[-1].seq
    return render(
        request,
        "workspace/audit.html",
        {"entries": rows, "form": form, "next_query": query.urlencode() if more else ""},
    )
