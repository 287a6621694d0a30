"""Access helpers: every query for protected data goes through one of these.

A role covers the subtree of the organisation it is granted on. ``PERMISSIONS`` says what each
role may do; the helpers turn a user's roles into path prefixes and narrow querysets with them.
An object outside the user's scope answers 404 (not 403, which would confirm it exists) and the
attempt is written to the audit log.
"""

from __future__ import annotations

import logging
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Org, Person, Role, RoleKind

log = logging.getLogger("shishi.access")

VIEW_ORGS = "orgs.view"
MANAGE_ORGS = "orgs.manage"
VIEW_PEOPLE = "people.view"
MANAGE_PEOPLE = "people.manage"
MANAGE_ACCOUNTS = "accounts.manage"
VIEW_AUDIT = "audit.view"
MANAGE_SETTINGS = "settings.manage"
# Commitments (民生实事) and their adjustments.
VIEW_COMMITMENTS = "commitments.view"
REPORT_PROGRESS = "commitments.report"
REVIEW_PROGRESS = "commitments.review"
MANAGE_COMMITMENTS = "commitments.manage"
PROPOSE_ADJUSTMENT = "adjustments.propose"
APPROVE_ADJUSTMENT = "adjustments.approve"
APPROVE_ADJUSTMENT_FINAL = "adjustments.approve_final"

R = RoleKind
PERMISSIONS: dict[str, set[str]] = {
    R.COUNTY_ADMIN: {
        VIEW_ORGS,
        MANAGE_ORGS,
        VIEW_PEOPLE,
        MANAGE_PEOPLE,
        MANAGE_ACCOUNTS,
        VIEW_AUDIT,
        VIEW_COMMITMENTS,
        REPORT_PROGRESS,
        REVIEW_PROGRESS,
        MANAGE_COMMITMENTS,
        PROPOSE_ADJUSTMENT,
        APPROVE_ADJUSTMENT,
    },
    # A county leader (县领导) gives the second approval where a programme asks for two.
    R.LEADER: {VIEW_ORGS, VIEW_COMMITMENTS, APPROVE_ADJUSTMENT_FINAL},
    R.TOWN_ADMIN: {
        VIEW_ORGS,
        MANAGE_ORGS,
        VIEW_PEOPLE,
        MANAGE_PEOPLE,
        VIEW_COMMITMENTS,
        REPORT_PROGRESS,
        PROPOSE_ADJUSTMENT,
    },
    R.UNIT_OFFICER: {VIEW_ORGS, VIEW_PEOPLE, VIEW_COMMITMENTS, REPORT_PROGRESS, PROPOSE_ADJUSTMENT},
    R.BRANCH_SECRETARY: {VIEW_ORGS, VIEW_PEOPLE, VIEW_COMMITMENTS},
    R.CADRE: {VIEW_ORGS, VIEW_COMMITMENTS},
    R.SUPERVISOR: {VIEW_ORGS, VIEW_PEOPLE, VIEW_COMMITMENTS},
    # Reads everything in scope, the audit log included; changes nothing.
    R.AUDITOR: {VIEW_ORGS, VIEW_PEOPLE, VIEW_AUDIT, VIEW_COMMITMENTS},
    # Accounts and settings, not programme data.
    R.SYSADMIN: {VIEW_ORGS, VIEW_PEOPLE, MANAGE_ACCOUNTS, VIEW_AUDIT, MANAGE_SETTINGS},
}


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


def scope_paths(user, perm: str) -> list[str]:
    """The minimal set of path prefixes under which ``user`` holds ``perm``."""
    paths = sorted({path for kind, path in _roles(user) if perm in PERMISSIONS.get(kind, ())})
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


def roles_of(user) -> list[str]:
    return sorted({kind for kind, _path in _roles(user)})


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


def deny(request, what: str, pk) -> Http404:
    """Log an attempt to reach an object outside the user's scope; return the 404 to raise."""
    from shishi.audit.services import record

    user = getattr(request, "user", None)
    log.warning(
        "access denied: user=%s %s=%s path=%s", getattr(user, "pk", None), what, pk, request.path
    )
    record(user, "access.denied", data={"object": what, "id": str(pk), "path": request.path[:200]})
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
