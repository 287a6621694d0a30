from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from shishi.extensions import contributions
from shishi.orgs import access
from shishi.orgs.models import KIND_PLURALS, OrgKind, Role
from shishi.pagecache import remember


def panels(request) -> list:
    """Every app's panels for this user on the home page (``desk`` on its AppConfig), in order:
    what waits for them in each mechanism, with links to where the work is done."""
    found = [panel for _label, desk in contributions("desk") for panel in desk(request)]
    return sorted(found, key=lambda p: p.order)


@login_required
def home(request):
    user = request.user
    roles = list(Role.objects.filter(user=user).select_related("org").order_by("kind"))
    can_see_people = access.has_perm(user, access.VIEW_PEOPLE)

    def totals():
        counts = {
            row["kind"]: row["n"]
            for row in access.orgs_for(user)
            .filter(is_active=True)
            .values("kind")
            .annotate(n=Count("id"))
            .order_by()
        }
        people = access.people_for(user).filter(is_active=True).count() if can_see_people else None
        return counts, people

    # Counted once per change of the data for everyone with the same scope: for a province-wide
    # role the counts scan the province.
    scope = (
        tuple(access.scope_paths(user, access.VIEW_ORGS)),
        tuple(access.scope_paths(user, access.VIEW_PEOPLE)) if can_see_people else None,
    )
    counts, people = remember("workspace.home", scope, totals)
    figures = [(KIND_PLURALS[k], counts[k]) for k in OrgKind.values if counts.get(k)]
    return render(
        request,
        "workspace/home.html",
        {
            "roles": roles,
            "figures": figures,
            "people": people,
            "person": getattr(user, "person", None),
            "panels": panels(request),
        },
    )
