from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from shishi.orgs import access
from shishi.orgs.models import KIND_PLURALS, OrgKind, Role
from shishi.pagecache import remember

from . import services
from .models import Notification

NOTIFICATIONS_PER_PAGE = 50


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
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """The signed-in user's notifications, newest first. A POST marks the ones named in ``ids``
    read, or all of them without ``ids``; only the user's own are touched (mark_read filters)."""
    if request.method == "POST":
        raw = request.POST.getlist("ids")
        # Named ids mark those (bad ones are dropped, never widened to "all"); none marks all.
        ids = [int(i) for i in raw if i.isdigit()] if raw else None
        n = services.mark_read(request.user, ids)
        messages.success(
            request,
            ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", n)
            % {"n": n},
        )
        return redirect("workspace:notifications")
    page = Paginator(
        Notification.objects.filter(user=request.user).order_by("-created_at", "-id"),
        NOTIFICATIONS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(request, "workspace/notifications.html", {"page": page})
