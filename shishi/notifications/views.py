"""The signed-in user's notifications, and the bell in the workspace's navigation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from shishi.extensions import MenuEntry
from shishi.lib.parse import whole_number

from . import services

PER_PAGE = 50


def menu(user) -> list[MenuEntry]:
    """The bell: always there, with the count of notifications waiting (one indexed count)."""
    waiting = services.waiting(user).count()
    label = (
        ngettext("Notifications (%(n)d new)", "Notifications (%(n)d new)", waiting) % {"n": waiting}
        if waiting
        else gettext("Notifications")
    )
    return [MenuEntry(reverse("notifications:list"), label, "notifications", order=90)]


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """The user's notifications, newest first, each rendered in the reader's language. A POST
    marks the ones named in ``ids`` read, or all of them without ``ids``; only the user's own
    are touched (mark_read filters)."""
    if request.method == "POST":
        raw = request.POST.getlist("ids")
        # Named ids mark those (bad ones are dropped, never widened to "all"); none marks all.
        ids = [n for n in map(whole_number, raw) if n is not None] if raw else None
        n = services.mark_read(request.user, ids)
        messages.success(
            request,
            ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", n)
            % {"n": n},
        )
        return redirect("notifications:list")
    page = Paginator(
        services.shown(request.user).order_by("-created_at", "-id"), PER_PAGE
    ).get_page(request.GET.get("page"))
    # A digest says how many of its items still wait (one query for the page's digests).
    waiting = services.still_waiting(page)
    rows = [
        (note, services.render(note, waiting.get(note.pk)), services.state_label(note))
        for note in page
    ]
    unread = services.shown(request.user).filter(read_at__isnull=True).count()
    return render(
        request, "notifications/list.html", {"page": page, "rows": rows, "unread": unread}
    )
