"""The organisation browser, people and roles, sign-in."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, Q, Value, When
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shishi.pagecache import remember
from shishi.web import form_errors

from . import access, services, signin
from .forms import (
    LoginCreateForm,
    LoginForm,
    MoveForm,
    NewOrgForm,
    OrgForm,
    OwnPasswordForm,
    PersonForm,
    RoleForm,
    SearchForm,
)
from .models import KIND_PLURALS, STEP, Org, OrgKind, Person, Role, RoleKind

PEOPLE_PER_PAGE = 50
CHILDREN_PER_PAGE = 100


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "orgs/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.signed_in(self.request, form.get_user())
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user is not None:
            signin.signed_out(request, user)
        return response


def locked_out(request, response=None, credentials=None, *args, **kwargs):
    """Axes calls this for a sign-in refused by a lockout: of the login (its failures) or of the
    client's address (failures across usernames). 429 with Retry-After, the latest the lockout
    can last (shishi/orgs/signin.py)."""
    found = getattr(request, "shishi_lockout", None)
    if found is not None:
        seconds = max(1, math.ceil((found.until - timezone.now()).total_seconds()))
    else:
        seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    page = render(
        request,
        "orgs/locked_out.html",
        {
            "minutes": math.ceil(seconds / 60),
            "by_address": found is not None and found.by == signin.ADDRESS,
        },
        status=429,
    )
    page["Retry-After"] = str(seconds)
    return page


def _breadcrumbs(user, org: Org) -> list[Org]:
    """The ancestors of ``org`` that lie inside the user's scope, top first."""
    scopes = access.scope_paths(user, access.VIEW_ORGS)
    paths = [p for p in org.ancestor_paths() if any(p.startswith(s) for s in scopes)]
    return list(Org.objects.filter(path__in=paths).only("id", "name", "path").order_by("path"))


def _subtree_counts(org: Org) -> tuple[dict, dict]:
    """Per child: descendants by kind, and people in its subtree — two grouped queries in all,
    counted once per change of the data (a county's people are a scan of its whole roster)."""
    return remember("orgs.subtree", (org.path, org.depth, org.county_id), lambda: _count(org))


def _count(org: Org) -> tuple[dict, dict]:
    length = len(org.path) + STEP
    by_kind: dict[str, dict[str, int]] = {}
    rows = (
        Org.objects.filter(path__startswith=org.path, depth__gt=org.depth + 1, is_active=True)
        .annotate(prefix=Substr("path", 1, length))
        .values("prefix", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        by_kind.setdefault(row["prefix"], {})[row["kind"]] = row["n"]
    people_qs = Person.objects.filter(org__path__startswith=org.path, is_active=True)
    if org.county_id:
        # Narrow by the county first: its index turns a join over the province into a scan of
        # one county's roster (see bench/orgs.py).
        people_qs = people_qs.filter(county_id=org.county_id)
    people = {
        row["prefix"]: row["n"]
        for row in people_qs.annotate(prefix=Substr("org__path", 1, length))
        .values("prefix")
        .annotate(n=Count("id"))
        .order_by()
    }
    return by_kind, people


COUNTED_KINDS = [
    OrgKind.TOWN,
    OrgKind.VILLAGE,
    OrgKind.COMMUNITY,
    OrgKind.DEPARTMENT,
    OrgKind.BRANCH,
]
# Children in the order people read a county: places first, then departments, then branches.
KIND_RANK = Case(
    *[When(kind=kind, then=Value(rank)) for rank, kind in enumerate(OrgKind.values)],
    default=Value(len(OrgKind.values)),
)


@login_required
def tree(request):
    """The top of the user's part of the tree: straight to it when it is one organisation."""
    roots = list(access.scope_roots(request.user))
    if len(roots) == 1:
        return redirect("orgs:detail", pk=roots[0].pk)
    return render(
        request,
        "orgs/roots.html",
        {"roots": roots, "can_manage": access.has_perm(request.user, access.MANAGE_ORGS)},
    )


@login_required
def detail(request, pk: int):
    org = access.get_org(request, pk)
    user = request.user
    children_page = Paginator(
        org.children.filter(is_active=True).annotate(rank=KIND_RANK).order_by("rank", "path"),
        CHILDREN_PER_PAGE,
    ).get_page(request.GET.get("cpage"))
    by_kind, people_counts = _subtree_counts(org)
    children = []
    for child in children_page:
        counts = by_kind.get(child.path, {})
        children.append(
            {
                "org": child,
                "counts": [(KIND_PLURALS[k], counts[k]) for k in COUNTED_KINDS if counts.get(k)],
                "people": people_counts.get(child.path, 0),
            }
        )
    totals: dict[str, int] = {}
    for counts in by_kind.values():
        for k, n in counts.items():
            totals[k] = totals.get(k, 0) + n
    for child in (
        org.children.filter(is_active=True).values("kind").annotate(n=Count("id")).order_by()
    ):
        totals[child["kind"]] = totals.get(child["kind"], 0) + child["n"]
    can_see_people = access.has_perm_on(user, access.VIEW_PEOPLE, org)
    people_page = None
    roles = []
    if can_see_people:
        people_page = Paginator(
            org.people.filter(is_active=True).select_related("user").order_by("name", "id"),
            PEOPLE_PER_PAGE,
        ).get_page(request.GET.get("page"))
        roles = list(
            Role.objects.filter(org=org)
            .select_related("user__person")
            .order_by("kind", "user__username")
        )
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "breadcrumbs": _breadcrumbs(user, org),
            "children": children,
            "children_page": children_page,
            "totals": [(k, KIND_PLURALS[k], totals[k]) for k in COUNTED_KINDS if totals.get(k)],
            # people_counts already holds the organisation's own people, under its own path.
            "people_total": sum(people_counts.values()),
            "people_page": people_page,
            "roles": roles,
            "can_see_people": can_see_people,
            "can_manage": access.has_perm_on(user, access.MANAGE_ORGS, org),
            # The top of one's own scope has nowhere inside the scope to move to.
            "can_move": org.parent_id is not None
            and access.has_perm_on(user, access.MANAGE_ORGS, org)
            and org.path not in access.scope_paths(user, access.MANAGE_ORGS),
            "can_manage_people": access.has_perm_on(user, access.MANAGE_PEOPLE, org),
            "search_form": SearchForm(),
        },
    )


@login_required
def search(request):
    """Organisations by name or code prefix, optionally of one kind under one organisation
    (the figures on an organisation's page link here: "all 40 branches of this town")."""
    form = SearchForm(request.GET)
    results = within = None
    if form.is_valid():
        data = form.cleaned_data
        qs = access.orgs_for(request.user)
        if data["within"]:
            within = access.get_org(request, data["within"])
            qs = qs.filter(path__startswith=within.path).exclude(pk=within.pk)
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        q = data["q"].strip()
        if q:
            qs = qs.filter(
                Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__startswith=q)
            )
        if q or within or data["kind"]:
            results = Paginator(qs.select_related("parent").order_by("path"), 50).get_page(
                request.GET.get("page")
            )
    return render(
        request,
        "orgs/search.html",
        {"form": form, "results": results, "search_form": form, "within": within},
    )


@login_required
def person_detail(request, pk: int):
    person = access.get_person(request, pk)
    can_manage = access.has_perm_on(request.user, access.MANAGE_PEOPLE, person.org)
    roles = (
        list(Role.objects.filter(user=person.user).select_related("org").order_by("kind"))
        if person.user
        else []
    )
    rules = access.grant_rules()
    own = person.user_id is not None and person.user_id == request.user.pk
    for role in roles:
        role.revocable = not own and access.can_grant(request.user, role.kind, role.org, rules)
    # The kinds the user may grant somewhere in their scope; the service checks the organisation.
    kinds = [] if own else access.grantable_kinds(request.user, rules=rules)
    return render(
        request,
        "orgs/person.html",
        {
            "person": person,
            "breadcrumbs": _breadcrumbs(request.user, person.org) + [person.org],
            "roles": roles,
            "can_manage": can_manage,
            "can_manage_accounts": access.has_perm_on(
                request.user, access.MANAGE_ACCOUNTS, person.org
            ),
            "own": own,
            "role_form": RoleForm(kinds=kinds) if kinds else None,
            "login_form": LoginCreateForm(),
        },
    )


def _service_form(request, form, template: str, context: dict, action):
    """Run ``action(form.cleaned_data)`` on a valid POST; errors go back onto the form."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    return render(request, template, {**context, "form": form})


@login_required
def org_edit(request, pk: int):
    org = access.get_org(request, pk, access.MANAGE_ORGS)
    initial = {
        "name": org.name,
        "short_name": org.short_name,
        "code": org.code,
        "version": org.version,
    }
    form = OrgForm(request.POST or None, initial=initial)

    def save(data):
        services.update_org(
            request.user,
            org,
            version=data["version"],
            name=data["name"],
            short_name=data["short_name"],
            code=data["code"],
        )
        messages.success(request, _("Saved."))
        return redirect("orgs:detail", pk=org.pk)

    return _service_form(
        request,
        form,
        "orgs/form.html",
        {"org": org, "title": _("Edit %(name)s") % {"name": org.name}},
        save,
    )


@login_required
def org_new(request, pk: int):
    parent = access.get_org(request, pk, access.MANAGE_ORGS)
    form = NewOrgForm(request.POST or None)

    def save(data):
        org = services.create_org(
            request.user,
            parent=parent,
            kind=data["kind"],
            name=data["name"],
            short_name=data["short_name"],
            code=data["code"],
        )
        messages.success(request, _("Created %(name)s.") % {"name": org.name})
        return redirect("orgs:detail", pk=org.pk)

    title = _("New organisation under %(name)s") % {"name": parent.name}
    return _service_form(request, form, "orgs/form.html", {"org": parent, "title": title}, save)


@login_required
def org_move(request, pk: int):
    org = access.get_org(request, pk, access.MANAGE_ORGS)
    form = MoveForm(request.POST or None)

    def save(data):
        new_parent = (
            access.orgs_for(request.user, access.MANAGE_ORGS)
            .filter(code=data["new_parent_code"].strip())
            .first()
        )
        if new_parent is None:
            raise ValidationError(
                {"new_parent_code": _("No organisation with this code in your scope.")}
            )
        services.move_org(request.user, org, new_parent, reason=data["reason"])
        messages.success(request, _("Moved %(name)s.") % {"name": org.name})
        return redirect("orgs:detail", pk=org.pk)

    return _service_form(
        request,
        form,
        "orgs/form.html",
        {
            "org": org,
            "title": _("Move %(name)s") % {"name": org.name},
            "moves": org.moves.select_related("from_parent", "to_parent", "moved_by"),
        },
        save,
    )


@login_required
def person_new(request, pk: int):
    org = access.get_org(request, pk, access.MANAGE_PEOPLE)
    form = PersonForm(request.POST or None)

    def save(data):
        data.pop("version", None)
        person = services.create_person(request.user, org=org, **data)
        messages.success(request, _("Added %(name)s.") % {"name": person.name})
        return redirect("orgs:person", pk=person.pk)

    return _service_form(
        request,
        form,
        "orgs/form.html",
        {"org": org, "title": _("New person in %(name)s") % {"name": org.name}},
        save,
    )


@login_required
def person_edit(request, pk: int):
    person = access.get_person(request, pk, access.MANAGE_PEOPLE)
    initial = {
        "name": person.name,
        "gender": person.gender,
        "phone": person.phone,
        "is_party_member": person.is_party_member,
        "position": person.position,
        "version": person.version,
    }
    form = PersonForm(request.POST or None, initial=initial)

    def save(data):
        version = data.pop("version")
        services.update_person(request.user, person, version=version, **data)
        messages.success(request, _("Saved."))
        return redirect("orgs:person", pk=person.pk)

    title = _("Edit %(name)s") % {"name": person.name}
    return _service_form(request, form, "orgs/form.html", {"org": person.org, "title": title}, save)


@login_required
@require_POST
def person_login(request, pk: int):
    person = access.get_person(request, pk)
    form = LoginCreateForm(request.POST)
    if form.is_valid():
        try:
            services.create_login(request.user, person, **form.cleaned_data)
            messages.success(request, _("Login created."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, _("Enter a username and a password."))
    return redirect("orgs:person", pk=person.pk)


@login_required
@require_POST
def person_active(request, pk: int):
    """Enable or disable the person's login (``active`` is "1" or "0")."""
    person = access.get_person(request, pk, access.MANAGE_ACCOUNTS)
    active = request.POST.get("active")
    if not person.user_id or active not in {"0", "1"}:
        messages.error(request, _("Nothing to change."))
    else:
        try:
            services.set_active(request.user, person.user, active == "1")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            if active == "1":
                messages.success(request, _("Login enabled."))
            else:
                messages.success(
                    request,
                    _(
                        "Login disabled: it is signed out everywhere and its API tokens no longer work."
                    ),
                )
    return redirect("orgs:person", pk=person.pk)


@login_required
def password_change(request):
    """A person changes their own password; their other sessions and their API tokens end."""
    form = OwnPasswordForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(
                request.user,
                request.user,
                form.cleaned_data["new_password1"],
                keep_session=request.session.session_key,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            # This session stays signed in, under a new key.
            update_session_auth_hash(request, request.user)
            messages.success(
                request,
                _(
                    "Your password has been changed. You are signed out everywhere else, and "
                    "your API tokens no longer work: make new ones if you need them."
                ),
            )
            return redirect("workspace:home")
    return render(request, "orgs/password.html", {"form": form})


@login_required
@require_POST
def person_role(request, pk: int):
    person = access.get_person(request, pk)
    form = RoleForm(request.POST, kinds=RoleKind.values)
    if not person.user_id:
        messages.error(request, _("Create a login first."))
    elif form.is_valid():
        # Any organisation the user sees: whether they may grant on it is the grant table's
        # say, checked (and a refusal audited) by the service.
        org = (
            access.orgs_for(request.user).filter(code=form.cleaned_data["org_code"].strip()).first()
        )
        if org is None:
            messages.error(request, _("No organisation with this code in your scope."))
        else:
            try:
                services.grant_role(request.user, person.user, org, form.cleaned_data["kind"])
                messages.success(request, _("Role granted."))
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("orgs:person", pk=person.pk)


@login_required
@require_POST
def role_revoke(request, pk: int):
    role = (
        Role.objects.filter(pk=pk, org__in=access.orgs_for(request.user))
        .select_related("org", "user__person")
        .first()
    )
    if role is None:
        raise access.deny(request, "orgs.role", pk)
    person_id = role.user.person.pk if hasattr(role.user, "person") else None
    try:
        services.revoke_role(request.user, role)
        messages.success(request, _("Role revoked."))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    if person_id is None:
        raise Http404
    return redirect("orgs:person", pk=person_id)


def menu(user) -> list:
    """The organisation tree in the workspace's navigation, for those who may see it."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy

    from shishi.extensions import MenuEntry

    entries = []
    if access.has_perm(user, access.VIEW_ORGS):
        entries.append(MenuEntry(reverse("orgs:tree"), gettext_lazy("Organisations"), "orgs", 60))
    if access.has_perm(user, access.MANAGE_ROLES):
        entries.append(
            MenuEntry(reverse("orgs:grant_rules"), gettext_lazy("Grant table"), "grants", 85)
        )
    return entries


@login_required
def grant_rules(request):
    """The grant table (授权规则): who may grant which role. Every signed-in login with a view of
    the tree reads it; the security administrator at the top of the tree changes it."""
    if not access.has_perm(request.user, access.VIEW_ORGS):
        raise PermissionDenied
    can_edit = access.has_perm_at_top(request.user, access.MANAGE_ROLES)
    rules = access.grant_rules()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        wanted = {tuple(v.split(":", 1)) for v in request.POST.getlist("rule") if ":" in v}
        changed = 0
        try:
            for grantor in RoleKind.values:
                for grantee in RoleKind.values:
                    allowed = (grantor, grantee) in wanted
                    if allowed != (grantee in rules.get(grantor, ())):
                        changed += services.set_grant_rule(
                            request.user, grantor, grantee, allowed=allowed
                        )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Saved: %(n)s changes.") % {"n": changed})
        return redirect("orgs:grant_rules")
    rows = [
        {
            "kind": kind,
            "label": RoleKind(kind).label,
            "grants": [
                {"kind": k, "label": RoleKind(k).label, "on": k in rules.get(kind, ())}
                for k in RoleKind.values
            ],
            "granted": [RoleKind(k).label for k in RoleKind.values if k in rules.get(kind, ())],
        }
        for kind in RoleKind.values
    ]
    return render(request, "orgs/grant_rules.html", {"rows": rows, "can_edit": can_edit})
