"""Access helpers: every query for protected data goes through one of these.

A role covers the subtree of the organisation it is granted on. ``PERMISSIONS`` says what each
role may do; the helpers turn a user's roles into path prefixes and narrow querysets with them.
An object outside the user's scope answers 404 (not 403, which would confirm it exists) and the
attempt is written to the audit log.
"""

from __future__ import annotations

import functools
import logging
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

from shishi.extensions import contributions

from .models import ADMIN_KINDS, STEP, GrantRule, Org, Person, Role, RoleKind

log = logging.getLogger("shishi.access")

VIEW_ORGS = "orgs.view"
MANAGE_ORGS = "orgs.manage"
VIEW_PEOPLE = "people.view"
MANAGE_PEOPLE = "people.manage"
MANAGE_ACCOUNTS = "accounts.manage"
VIEW_AUDIT = "audit.view"
MANAGE_SETTINGS = "settings.manage"
# Change the grant table, reset another login's second factor, revoke its API tokens.
MANAGE_ROLES = "roles.manage"

R = RoleKind
# What each role may do with the organisation tree, people, accounts, settings and the audit log.
# Each mechanism adds its own permissions to the same roles in its own table (its AppConfig's
# ``role_permissions``); ``permissions()`` merges them.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    # Logins for the county's people (who may grant them which role is the grant table's say).
    R.COUNTY_ADMIN: {
        VIEW_ORGS,
        MANAGE_ORGS,
        VIEW_PEOPLE,
        MANAGE_PEOPLE,
        MANAGE_ACCOUNTS,
        VIEW_AUDIT,
    },
    R.LEADER: {VIEW_ORGS},
    R.TOWN_ADMIN: {VIEW_ORGS, MANAGE_ORGS, VIEW_PEOPLE, MANAGE_PEOPLE},
    R.UNIT_OFFICER: {VIEW_ORGS, VIEW_PEOPLE},
    R.BRANCH_SECRETARY: {VIEW_ORGS, VIEW_PEOPLE},
    R.CADRE: {VIEW_ORGS},
    R.SUPERVISOR: {VIEW_ORGS, VIEW_PEOPLE},
    # Reads everything in scope, the audit log included; changes nothing.
    R.AUDITOR: {VIEW_ORGS, VIEW_PEOPLE, VIEW_AUDIT},
    # 三员: the system administrator keeps accounts and settings, grants nothing, reads no log;
    # the security administrator grants roles (the grant table says which), the audit
    # administrator reads the audit log. None of them touches programme data.
    R.SYSADMIN: {VIEW_ORGS, VIEW_PEOPLE, MANAGE_ACCOUNTS, MANAGE_SETTINGS},
    R.SECURITY_ADMIN: {VIEW_ORGS, VIEW_PEOPLE, MANAGE_ROLES},
    R.AUDIT_ADMIN: {VIEW_ORGS, VIEW_AUDIT},
}


@functools.cache
def permissions() -> dict[str, frozenset[str]]:
    """Every role's permissions: this table and every mechanism's (``role_permissions`` on its
    AppConfig), merged once per process."""
    merged: dict[str, set[str]] = {kind: set() for kind in RoleKind.values}
    for _label, table in contributions("role_permissions"):
        for kind, perms in table.items():
            merged.setdefault(kind, set()).update(perms)
    return {kind: frozenset(perms) for kind, perms in merged.items()}


def kinds_with(perm: str) -> list[str]:
    """The role kinds that hold ``perm``."""
    return sorted(kind for kind, perms in permissions().items() if perm in perms)


def _roles(user) -> list[tuple[str, str]]:
    """(role kind, org path) for each of the user's roles, fetched once per request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_shishi_roles", None)
    if cached is None:
        cached = list(
            Role.objects.filter(user=user, org__is_active=True).values_list("kind", "org__path")
        )
        user._shishi_roles = cached
    return cached


def roles_of(user) -> list[tuple[str, str]]:
    """(role kind, organisation path) for each of the user's roles (cached on the request)."""
    return _roles(user)


def scope_paths(user, perm: str) -> list[str]:
    """The minimal set of path prefixes under which ``user`` holds ``perm``."""
    paths = sorted({path for kind, path in _roles(user) if perm in permissions().get(kind, ())})
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(kept) for kept in minimal):
            minimal.append(path)
    return minimal


def has_perm(user, perm: str) -> bool:
    """Whether the user holds ``perm`` anywhere."""
    return bool(scope_paths(user, perm))


def has_perm_on(user, perm: str, org: Org) -> bool:
    return any(org.path.startswith(p) for p in scope_paths(user, perm))


def has_perm_at_top(user, perm: str) -> bool:
    """Whether the user holds ``perm`` on an organisation at the top of the tree: what it takes
    to change what applies to every county (the working-day calendar, deadline policies)."""
    return any(len(path) == STEP for path in scope_paths(user, perm))


def grant_rules() -> dict[str, frozenset[str]]:
    """The grant table: for each role kind, the kinds its holders may grant (and revoke)."""
    table: dict[str, set[str]] = {}
    for grantor, grantee in GrantRule.objects.values_list("grantor", "grantee"):
        table.setdefault(grantor, set()).add(grantee)
    return {kind: frozenset(kinds) for kind, kinds in table.items()}


def grantable_kinds(user, org: Org | None = None, rules: dict | None = None) -> list[str]:
    """The role kinds ``user`` may grant on ``org`` (on some organisation when None): those the
    grant table gives to a role the user holds on ``org`` or above it. Never above the user's
    own level: a role held on a town grants nothing on its county."""
    rules = grant_rules() if rules is None else rules
    found: set[str] = set()
    for kind, path in _roles(user):
        if org is None or org.path.startswith(path):
            found |= rules.get(kind, frozenset())
    return [k for k in RoleKind.values if k in found]


def can_grant(user, kind: str, org: Org, rules: dict | None = None) -> bool:
    return kind in grantable_kinds(user, org, rules)


def is_admin_kind(kind: str) -> bool:
    """One of the three administrators of 三员分立."""
    return kind in ADMIN_KINDS


def _path_q(paths: list[str], field: str) -> Q:
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths))


def orgs_for(user, perm: str = VIEW_ORGS) -> QuerySet[Org]:
    return Org.objects.filter(_path_q(scope_paths(user, perm), "path"))


def people_for(user, perm: str = VIEW_PEOPLE) -> QuerySet[Person]:
    """People in the user's scope. Where a scope lies within one county, the county's own index
    narrows the query first, so a town's roster never joins the whole province's people."""
    paths = scope_paths(user, perm)
    if not paths:
        return Person.objects.none()
    counties = dict(Org.objects.filter(path__in=paths).values_list("path", "county_id"))
    q = reduce(
        or_,
        (
            Q(org__path__startswith=p, county_id=counties[p])
            if counties.get(p)
            else Q(org__path__startswith=p)
            for p in paths
        ),
    )
    return Person.objects.filter(q)


def scope_roots(user, perm: str = VIEW_ORGS) -> QuerySet[Org]:
    """The top organisations of the user's scope: where their tree walk starts."""
    return Org.objects.filter(path__in=scope_paths(user, perm))


def orgs_under(paths: list[str], kind: str | None = None) -> QuerySet:
    """The ids of the organisations under ``paths`` (of one ``kind``), as a subquery."""
    orgs = Org.objects.filter(_path_q(paths, "path"))
    return (orgs.filter(kind=kind) if kind else orgs).values("pk")


def union_of(*arms: QuerySet) -> QuerySet:
    """One subquery of ids from several; each arm is read by its own index.

    A scope is a union: a county's rows, its units', its co-units'. Written as one
    ``WHERE a OR b OR c`` over joins, PostgreSQL scans every row of the province and tests each;
    written as a union of ``county_id IN (…)``, ``responsible_unit_id IN (…)``, each arm is an
    index lookup of one county's rows (bench: the commitments desk's lists from 8 ms to 1 ms).
    """
    first, *rest = (arm.order_by() for arm in arms)
    return first.union(*rest) if rest else first


def scoped(
    queryset: QuerySet,
    user,
    perm: str,
    *,
    via: dict[str, str | None],
    extra: tuple[QuerySet, ...] | list[QuerySet] = (),
) -> QuerySet:
    """``queryset`` narrowed to the rows that belong, through one of the organisation fields
    named in ``via``, to an organisation on which ``user`` holds ``perm``.

    ``via`` maps a field (a foreign key or a many-to-many to ``Org``) to the kind of organisation
    it can point at, or None for any: ``{"county": OrgKind.COUNTY, "responsible_unit": None,
    "co_units": None}``; naming the kind lets the database read only, say, the counties under a
    scope instead of all its organisations. ``extra`` adds arms of ids the caller computes (the
    adjustments a user proposed). Each arm is one index lookup (``union_of``).
    """
    paths = scope_paths(user, perm)
    arms = list(extra)
    model = queryset.model
    for name, kind in via.items() if paths else ():
        field = model._meta.get_field(name)
        orgs = orgs_under(paths, kind)
        if field.many_to_many:
            through = field.remote_field.through
            own, other = field.m2m_field_name(), field.m2m_reverse_field_name()
            arms.append(through.objects.filter(**{f"{other}__in": orgs}).values(f"{own}_id"))
        else:
            arms.append(model.objects.filter(**{f"{name}__in": orgs}).values("pk"))
    if not arms:
        return queryset.none()
    return queryset.filter(pk__in=union_of(*arms))


def holders(perm: str, org: Org) -> list:
    """The active logins that hold ``perm`` on ``org``: through a role on it or on one of its
    ancestors. Who hears of something is chosen this way, by permission, never by role kind."""
    kinds = kinds_with(perm)
    if not kinds:
        return []
    roles = (
        Role.objects.filter(
            kind__in=kinds,
            org__path__in=[*org.ancestor_paths(), org.path],
            org__is_active=True,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user_id")
    )
    return list({role.user_id: role.user for role in roles}.values())


def deny(request, what: str, pk) -> Http404:
    """Log an attempt to reach an object outside the user's scope; return the 404 to raise."""
    from shishi.audit.services import record

    user = getattr(request, "user", None)
    log.warning(
        "access denied: user=%s %s=%s path=%s", getattr(user, "pk", None), what, pk, request.path
    )
    record(
        user,
        "access.denied",
        data={"object": what, "id": str(pk), "path": request.path[:200]},
        # A refusal changes nothing anyone sees: cached public pages stay valid.
        public=False,
    )
    return Http404()


def get_org(request, pk, perm: str = VIEW_ORGS) -> Org:
    org = orgs_for(request.user, perm).filter(pk=pk).select_related("parent").first()
    if org is None:
        raise deny(request, "orgs.org", pk)
    return org


def get_person(request, pk, perm: str = VIEW_PEOPLE) -> Person:
    person = people_for(request.user, perm).filter(pk=pk).select_related("org", "user").first()
    if person is None:
        raise deny(request, "orgs.person", pk)
    return person
