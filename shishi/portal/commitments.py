"""The public pages of the commitments list: for residents, without an account, mostly on phones.

Only what a published list shows is read here: organisation names, the lead official's post,
official progress texts, public evidence photos. Never a person's name, phone or login: who
proposed or approved an adjustment is told by role and organisation only.

What the public may see is the mechanism's rule (``commitments.public``), shared with the API
and the open data; how a field reads is ``commitments.display``, shared with the workspace. A
draft programme, a report not accepted, or evidence not public answers 404 exactly like an id that
does not exist. Every page here is a public page for the page cache, keyed on the county it shows
(``shishi/pagecache.py``).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.db.models import JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shishi.commitments import opendata, public, services
from shishi.commitments.access import (
    APPROVE_ADJUSTMENT,
    APPROVE_ADJUSTMENT_FINAL,
    PROPOSE_ADJUSTMENT,
)
from shishi.commitments.display import Values, label, money, readable_changes
from shishi.commitments.lights import light_of, light_q, milestone_light
from shishi.commitments.models import (
    REMOVED,
    Adjustment,
    Category,
    Commitment,
    Decision,
    Evidence,
    Programme,
    Snapshot,
    Status,
)
from shishi.evidence.serving import stored_file
from shishi.lib.parse import whole_number
from shishi.lib.workdays import Light
from shishi.orgs.access import permissions
from shishi.orgs.models import Org, OrgKind, Role
from shishi.pagecache import public_page
from shishi.workdays.lights import LIGHT_LABELS

PROGRAMMES_PER_PAGE = 30
CHANGES_PER_PAGE = 20
REMOVING_KINDS = [Adjustment.Kind.CANCEL, Adjustment.Kind.MERGE, Adjustment.Kind.SPLIT]


def _by_programme(request: HttpRequest, programme: int, **kwargs) -> int | None:
    """The county a programme's pages show (the page cache's key)."""
    return public.county_of_programme(programme)


def _light(state: Light | None) -> dict | None:
    if state is None:
        return None
    return {"code": str(state), "label": LIGHT_LABELS[state]}


# --- what changed, readable ------------------------------------------------------------------


def _adjustment_changes(
    programme: Programme, adjustment_ids: list[int], values: Values
) -> dict[int, list[dict]]:
    """Per adjustment, what it changed in each commitment: its snapshot against the snapshot of
    the same commitment just before. One query, however many adjustments."""
    previous = (
        Snapshot.objects.filter(programme=programme, commitment=OuterRef("commitment_id"))
        .filter(
            Q(valid_from__lt=OuterRef("valid_from"))
            | Q(valid_from=OuterRef("valid_from"), pk__lt=OuterRef("pk"))
        )
        .order_by("-valid_from", "-pk")
        .values("data")[:1]
    )
    rows = (
        Snapshot.objects.filter(
            programme=programme, cause=Snapshot.Cause.ADJUSTMENT, adjustment_id__in=adjustment_ids
        )
        .annotate(before=Subquery(previous, output_field=JSONField()))
        .order_by("adjustment_id", "commitment_id", "valid_from")
        .values_list("adjustment_id", "commitment_id", "data", "before")
    )
    out: dict[int, list[dict]] = {}
    for adjustment_id, commitment_id, data, before in rows:
        out.setdefault(adjustment_id, []).append(
            {
                "commitment_id": commitment_id,
                "number": data.get("number"),
                "title": data.get("title"),
                "added": before is None,
                "fields": readable_changes(before, data, values),
            }
        )
    return out


def _payload_changes(adjustment: Adjustment, values: Values) -> list[dict]:
    """What an adjustment changes, from its payload: for an approved adjustment with no snapshot
    (recorded before snapshots were kept, or by an import)."""
    payload = adjustment.payload or {}
    if adjustment.kind == Adjustment.Kind.DEFER:
        fields = {"deadline": payload.get("deadline")}
    elif adjustment.kind == Adjustment.Kind.CHANGE:
        fields = dict(payload.get("fields") or {})
    else:
        return []
    return [
        {
            "field": f,
            "label": label(f),
            "before": "",
            "after": values(f, v),
        }
        for f, v in fields.items()
    ]


def _role_label(roles: list[Role], county: Org, perm: str) -> str:
    """ "county office administrator, 测试县": the role through which a user could act on the
    county's list, most specific organisation first. Never the person."""
    fitting = [
        r
        for r in roles
        if perm in permissions().get(r.kind, ())
        and (county.path.startswith(r.org.path) or r.org.path.startswith(county.path))
    ]
    if not fitting:
        return _("an authorised official")
    role = max(fitting, key=lambda r: len(r.org.path))
    return _("%(role)s, %(org)s") % {"role": role.get_kind_display(), "org": role.org.name}


def _roles_by_user(user_ids: set[int]) -> dict[int, list[Role]]:
    by_user: dict[int, list[Role]] = {}
    for role in Role.objects.filter(user_id__in=user_ids).select_related("org"):
        by_user.setdefault(role.user_id, []).append(role)
    return by_user


# --- 1. the published programmes ------------------------------------------------------------------


@public_page()
def programmes(request: HttpRequest) -> HttpResponse:
    """Published programmes, newest year first, with their headline figures (two queries for the
    page of programmes and their counts by status, plus the pager's count)."""
    qs = public.programmes().select_related("county__parent").order_by("-year", "county__path")
    page = Paginator(qs, PROGRAMMES_PER_PAGE).get_page(request.GET.get("page"))
    figures = services.summaries(list(page.object_list))
    rows = [(p, figures[p.pk]) for p in page.object_list]
    return render(request, "portal/commitments/programmes.html", {"page": page, "rows": rows})


# --- 2. one programme: summary, filters, the list -------------------------------------------------


class ListFilters(forms.Form):
    """The list's filters, as GET parameters; choices come from the programme's own data."""

    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    town = forms.TypedChoiceField(label=gettext_lazy("Town"), required=False, coerce=int)
    unit = forms.TypedChoiceField(
        label=gettext_lazy("Responsible unit"), required=False, coerce=int
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    light = forms.ChoiceField(label=gettext_lazy("Light"), required=False)

    def __init__(self, data, *, categories, towns, units):
        super().__init__(data)
        everything = [("", _("All"))]
        language = translation.get_language() or ""
        self.fields["category"].choices = everything + [
            (c.code, c.label(language)) for c in categories
        ]
        self.fields["town"].choices = everything + [(t.pk, t.name) for t in towns]
        self.fields["unit"].choices = everything + [(u.pk, u.name) for u in units]
        self.fields["status"].choices = everything + list(Status.choices)
        self.fields["light"].choices = everything + [(k.value, v) for k, v in LIGHT_LABELS.items()]


def _filtered(programme: Programme, values: dict, towns: dict[int, Org]) -> QuerySet[Commitment]:
    qs = programme.commitments.select_related("category", "responsible_unit").order_by("number")
    if values.get("category"):
        qs = qs.filter(category__code=values["category"])
    if values.get("unit"):
        qs = qs.filter(responsible_unit_id=values["unit"])
    if values.get("town"):
        path = towns[values["town"]].path
        # A subquery keeps one row per commitment however many of its co-units lie in the town.
        co = Commitment.co_units.through.objects.filter(org__path__startswith=path).values(
            "commitment_id"
        )
        qs = qs.filter(Q(responsible_unit__path__startswith=path) | Q(pk__in=co))
    if values.get("status"):
        qs = qs.filter(status=values["status"])
    return qs


def _removed_by(programme: Programme, commitment_ids: list[int]) -> dict[int, Adjustment]:
    """The approved adjustment that took each removed commitment off the list (one query)."""
    through = Adjustment.commitments.through
    out: dict[int, Adjustment] = {}
    for link in (
        through.objects.filter(
            commitment_id__in=commitment_ids,
            adjustment__programme=programme,
            adjustment__state=Adjustment.State.APPROVED,
            adjustment__kind__in=REMOVING_KINDS,
        )
        .select_related("adjustment")
        .order_by("adjustment__applied_at")
    ):
        out[link.commitment_id] = link.adjustment
    return out


@public_page(county=_by_programme)
def programme(request: HttpRequest, programme: int) -> HttpResponse:
    """The summary with its formulas, then the list, filtered by GET parameters (the light by
    its database twin, ``lights.light_q``): the page costs the same number of queries whatever
    the filters and the size of the list.
    """
    prog = public.get_programme(programme)
    towns = {
        t.pk: t
        for t in Org.objects.filter(county=prog.county, kind=OrgKind.TOWN, is_active=True)
        .only("id", "name", "path")
        .order_by("path")
    }
    units = (
        Org.objects.filter(pk__in=prog.commitments.values("responsible_unit_id"))
        .only("id", "name", "path")
        .order_by("path")
    )
    form = ListFilters(
        request.GET, categories=Category.objects.all(), towns=towns.values(), units=units
    )
    form.is_valid()
    # Only the filters that are valid apply; the wrong ones are named on the page.
    values = form.cleaned_data
    today = timezone.localdate()
    on_list, removed = [], []
    status_asked = values.get("status")
    listed = _filtered(prog, values, towns)
    if values.get("light"):
        listed = listed.filter(light_q(values["light"], today))
    for c in listed:
        c.light = _light(light_of(c, today))
        if c.status in REMOVED and status_asked not in REMOVED:
            removed.append(c)
        else:
            on_list.append(c)
    removed_by = _removed_by(prog, [c.pk for c in on_list + removed if c.status in REMOVED])
    for c in on_list + removed:
        c.removed_by = removed_by.get(c.pk)
    summary = services.summary(prog)
    context = {
        "programme": prog,
        "summary": summary,
        "form": form,
        "filtered": any(values.get(k) for k in form.fields),
        "commitments": on_list,
        "removed": removed,
    }
    return render(request, "portal/commitments/programme.html", context)


# --- 3. one commitment ---------------------------------------------------------------------------


@public_page(county=_by_programme)
def commitment(request: HttpRequest, programme: int, number: int) -> HttpResponse:
    """Detail and timeline: accepted progress reports with their public photos, and the approved
    adjustments that concern the commitment (as subject or as result). A fixed number of queries,
    however many reports, photos and adjustments it has."""
    prog = public.get_programme(programme)
    c = (
        prog.commitments.filter(number=number)
        .select_related("category", "responsible_unit", "merged_into")
        .prefetch_related("co_units", "targets", "milestones")
        .first()
    )
    if c is None:
        raise Http404
    language = translation.get_language() or ""
    today = timezone.localdate()
    removed = c.status in REMOVED
    milestones = [
        (m, None if removed else _light(milestone_light(m, today))) for m in c.milestones.all()
    ]
    reports = (
        public.reports()
        .filter(commitment=c)
        .only("id", "text", "percent_complete", "submitted_at", "commitment_id")
        .prefetch_related(
            Prefetch(
                "evidence",
                queryset=Evidence.objects.filter(is_public=True).only(
                    "id", "report_id", "content_type", "thumbnail"
                ),
                to_attr="public_evidence",
            )
        )
    )
    came_from = set(
        Adjustment.results.through.objects.filter(commitment=c).values_list(
            "adjustment_id", flat=True
        )
    )
    concerning = Adjustment.commitments.through.objects.filter(commitment=c).values("adjustment_id")
    adjustments = list(
        public.changes(prog)
        .filter(Q(pk__in=concerning) | Q(pk__in=came_from))
        .only("id", "kind", "reason", "proposed_at", "applied_at", "payload")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.only("id", "adjustment_id", "note"))
        )
    )
    changes = _adjustment_changes(prog, [a.pk for a in adjustments], Values())
    timeline = []
    for report in reports:
        timeline.append({"kind": "report", "at": report.submitted_at, "report": report})
    for a in adjustments:
        mine = [x for x in changes.get(a.pk, []) if x["commitment_id"] == c.pk]
        timeline.append(
            {
                "kind": "adjustment",
                "at": a.applied_at or a.proposed_at,
                "adjustment": a,
                "created_here": a.pk in came_from,
                "fields": mine[0]["fields"] if mine and not mine[0]["added"] else [],
                "notes": [d.note for d in a.decisions.all() if d.note],
            }
        )
    timeline.sort(key=lambda e: e["at"], reverse=True)
    context = {
        "programme": prog,
        "c": c,
        "category": c.category.label(language),
        "light": _light(light_of(c, today)),
        "budget_planned": money(c.budget_planned),
        "budget_spent": money(c.budget_spent),
        "targets": list(c.targets.all()),
        "milestones": milestones,
        "timeline": timeline,
        "origin": next((a for a in adjustments if a.pk in came_from), None),
        "removed": removed,
    }
    return render(request, "portal/commitments/commitment.html", context)


# --- 4. the change log ---------------------------------------------------------------------------


@public_page(county=_by_programme)
def changes(request: HttpRequest, programme: int) -> HttpResponse:
    """Every approved adjustment, newest first, with what it changed, why, when, and by which role
    of which organisation. Rejected and withdrawn proposals are not part of the public record.
    ``?adjustment=<id>`` shows one (the list's "removed by" links point there)."""
    prog = public.get_programme(programme)
    qs = (
        public.changes(prog)
        .order_by("-applied_at", "-pk")
        .only("id", "kind", "reason", "proposed_at", "applied_at", "payload", "proposed_by_id")
        .prefetch_related(
            Prefetch("commitments", queryset=Commitment.objects.only("id", "number", "title")),
            Prefetch("results", queryset=Commitment.objects.only("id", "number", "title")),
            Prefetch(
                "decisions",
                queryset=Decision.objects.only(
                    "id", "adjustment_id", "level", "note", "decided_by_id"
                ),
            ),
        )
    )
    one = request.GET.get("adjustment", "")
    if one:
        # An id too long for the database is no id at all.
        pk = whole_number(one)
        qs = qs.filter(pk=pk) if pk is not None else qs.none()
    page = Paginator(qs, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    adjustments = list(page.object_list)
    values = Values()
    changes_by = _adjustment_changes(prog, [a.pk for a in adjustments], values)
    user_ids = {a.proposed_by_id for a in adjustments} | {
        d.decided_by_id for a in adjustments for d in a.decisions.all()
    }
    roles = _roles_by_user(user_ids)
    county = prog.county
    entries = []
    for a in adjustments:
        decisions = list(a.decisions.all())
        entries.append(
            {
                "adjustment": a,
                "concerned": sorted(
                    {x.pk: x for x in list(a.commitments.all()) + list(a.results.all())}.values(),
                    key=lambda x: x.number,
                ),
                "changes": changes_by.get(a.pk)
                or [{"number": None, "added": False, "fields": _payload_changes(a, values)}],
                "proposed_by": _role_label(
                    roles.get(a.proposed_by_id, []), county, PROPOSE_ADJUSTMENT
                ),
                "approvals": [
                    {
                        "level": d.level,
                        "note": d.note,
                        "by": _role_label(
                            roles.get(d.decided_by_id, []),
                            county,
                            APPROVE_ADJUSTMENT if d.level == 1 else APPROVE_ADJUSTMENT_FINAL,
                        ),
                    }
                    for d in decisions
                ],
            }
        )
    context = {"programme": prog, "page": page, "entries": entries, "one": bool(one)}
    return render(request, "portal/commitments/changes.html", context)


# --- 5. the list on a date, and between two dates -------------------------------------------------


def _parse_day(value: str, label: str, errors: list[str]) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(
            _("%(label)s: “%(value)s” is not a date; write it as YYYY-MM-DD, e.g. 2021-06-30.")
            % {"label": label, "value": value[:40]}
        )
        return None


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in the site's time zone: the list "on" a day includes it."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


@public_page(county=_by_programme)
def history(request: HttpRequest, programme: int) -> HttpResponse:
    """``?on=YYYY-MM-DD``: the list at the end of that day. ``?from=…&to=…``: what changed between
    the ends of two days. Bad dates are explained on the page."""
    prog = public.get_programme(programme)
    published_on = timezone.localdate(prog.published_at) if prog.published_at else None
    errors: list[str] = []
    on = _parse_day(request.GET.get("on", ""), _("On"), errors)
    start = _parse_day(request.GET.get("from", ""), _("From"), errors)
    end = _parse_day(request.GET.get("to", ""), _("To"), errors)
    if (start is None) != (end is None) and not errors:
        errors.append(_("To compare, give both dates: from and to."))
    if start and end and start > end:
        errors.append(_("The first date comes after the second; swap them to compare."))
    rows, changes, before_publication = None, None, False
    if on is not None:
        if published_on is None or on < published_on:
            before_publication, rows = True, []
        else:
            rows = sorted(
                services.list_on(prog, end_of_day(on)).values(), key=lambda d: d["number"]
            )
            for row in rows:
                row["status_label"] = Values.status(row.get("status"))
    if start and end and start <= end:
        values = Values()
        changes = []
        for item in services.list_diff(prog, end_of_day(start), end_of_day(end)):
            after = {k: v[1] for k, v in item["fields"].items()}
            before = None if item["added"] else {k: v[0] for k, v in item["fields"].items()}
            changes.append(
                {
                    "number": item["number"],
                    "title": item["title"],
                    "added": item["added"],
                    "fields": readable_changes(before, after, values),
                }
            )
    context = {
        "programme": prog,
        "published_on": published_on,
        "errors": errors,
        "on": on,
        "start": start,
        "end": end,
        "rows": rows,
        "changes": changes,
        "before_publication": before_publication,
        "values": {k: request.GET.get(k, "")[:40] for k in ("on", "from", "to")},
    }
    return render(request, "portal/commitments/history.html", context)


# --- 6. public evidence ---------------------------------------------------------------------------


def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """A public photo (or public PDF) of an accepted report on a published list; anything else is
    404, so a file's existence is never confirmed to the public."""
    item = public.evidence().filter(pk=pk).only("id", "file", "content_type").first()
    if item is None:
        raise Http404
    # Not a public_page: a file is streamed from storage, never kept in the page cache.
    return stored_file(
        item.file, item.content_type, f"evidence-{item.pk}.{item.extension}", max_age=300
    )


def evidence_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """The 96-pixel thumbnail the commitment page shows for a public photo, under the same rule
    as the photo (``public.evidence``): a phone on a slow line loads a few kilobytes per photo,
    and the full photo only when the visitor follows it."""
    item = public.evidence().filter(pk=pk).exclude(thumbnail="").only("id", "thumbnail").first()
    if item is None:
        raise Http404
    return stored_file(
        item.thumbnail, "image/jpeg", f"evidence-{item.pk}-thumbnail.jpg", max_age=300
    )


# --- 7. the open data ------------------------------------------------------------------------------


def data(request: HttpRequest, programme: int, fmt: str) -> StreamingHttpResponse:
    """The whole list as CSV or JSON, streamed (commitments/opendata.py): anyone can recompute
    the figures on the programme's page from it."""
    if fmt not in opendata.FORMATS:
        raise Http404
    exporter = opendata.OpenDataExporter(public.get_programme(programme))
    response = StreamingHttpResponse(
        exporter.iter_csv() if fmt == "csv" else exporter.iter_json(),
        content_type=opendata.FORMATS[fmt],
    )
    response["Content-Disposition"] = f'attachment; filename="{exporter.filename(fmt)}"'
    return response
