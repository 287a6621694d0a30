from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from shishi.orgs import access
from shishi.orgs.models import KIND_PLURALS, OrgKind, Role


@login_required
def home(request):
    user = request.user
    roles = list(Role.objects.filter(user=user).select_related("org").order_by("kind"))
    counts = {
        row["kind"]: row["n"]
        for row in access.orgs_for(user)
        .filter(is_active=True)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    }
    figures = [(KIND_PLURALS[k], counts[k]) for k in OrgKind.values if counts.get(k)]
    people = (
        access.people_for(user).filter(is_active=True).count()
        if access.has_perm(user, access.VIEW_PEOPLE)
        else None
    )
    return render(
        request,
        "workspace/home.html",
        {
            "roles": roles,
            "figures": figures,
            "people": people,
            "person": getattr(user, "person", None),
        },
    )
