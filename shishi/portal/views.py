from django.db.models import Count, Q
from django.shortcuts import render

from shishi.orgs.models import Org, OrgKind
from shishi.pagecache import public_page, remember_each


@public_page()
def home(request):
    """The public front page: the counties on this site and the size of each.

    Only organisation names and counts are shown: nothing about any person.
    """
    counties = list(
        Org.objects.filter(kind=OrgKind.COUNTY, is_active=True)
        .select_related("parent")
        .order_by("path")[:200]
    )
    # Every county's change renders this page again; only that county is counted again.
    counts = remember_each("portal.home", [c.pk for c in counties], _sizes)
    rows = [(county, counts.get(county.pk) or {}) for county in counties]
    return render(request, "portal/home.html", {"rows": rows})


def _sizes(county_ids: list[int]) -> dict[int, dict]:
    """The towns, villages and communities, branches and departments of each county."""
    return {
        row.pop("county"): row
        for row in Org.objects.filter(county__in=county_ids, is_active=True)
        .values("county")
        .annotate(
            towns=Count("id", filter=Q(kind=OrgKind.TOWN)),
            villages=Count("id", filter=Q(kind__in=[OrgKind.VILLAGE, OrgKind.COMMUNITY])),
            branches=Count("id", filter=Q(kind=OrgKind.BRANCH)),
            departments=Count("id", filter=Q(kind=OrgKind.DEPARTMENT)),
        )
        .order_by()
    }
