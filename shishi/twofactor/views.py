"""The second factor's pages: set it up, give a code, and the security administrator's list."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from shishi.extensions import MenuEntry
from shishi.orgs import access
from shishi.orgs.models import User

from . import services


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("workspace:home")


def _qr_svg(uri: str) -> str:
    """The enrolment URI as an inline SVG (no script, no style: the page's CSP holds)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


@login_required
def setup(request):
    """Set up (or, once set up, see) the login's second factor."""
    user = request.user
    verified = DEVICE_ID_SESSION_KEY in request.session
    if services.enrolled(user) and not verified:
        return redirect(f"{reverse('twofactor:verify')}?next={request.get_full_path()}")
    if services.enrolled(user):
        return render(request, "twofactor/status.html", {"required": services.required_for(user)})
    device = services.start_enrolment(user)
    error = ""
    if request.method == "POST":
        codes = services.confirm_enrolment(request, device, request.POST.get("code", ""))
        if codes is not None:
            return render(request, "twofactor/codes.html", {"codes": codes, "next": _next(request)})
        error = _("That code is not right. Type the six digits the app shows now.")
    return render(
        request,
        "twofactor/setup.html",
        {
            "qr": _qr_svg(device.config_url),
            "secret": _base32(device),
            "required": services.required_for(user),
            "error": error,
            "next": _next(request),
        },
    )


def _base32(device) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def verify(request):
    """Give the code of the authenticator app, or a recovery code."""
    if not services.enrolled(request.user):
        return redirect(_next(request))
    error = ""
    if request.method == "POST":
        if services.verify(request, request.POST.get("code", "")):
            return redirect(_next(request))
        error = _(
            "That code is not right, or was used already. Wait for the next code and try again, "
            "or use a recovery code."
        )
    return render(request, "twofactor/verify.html", {"error": error, "next": _next(request)})


@login_required
def logins(request):
    """The security administrator's list: the logins in scope that must use a second factor, or
    have one, with whether it is set up, and a reset for a lost phone."""
    if not access.has_perm(request.user, access.MANAGE_ROLES):
        raise PermissionDenied
    people = access.people_for(request.user, access.MANAGE_ROLES).filter(user__isnull=False)
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    users = (
        User.objects.filter(person__in=people)
        .annotate(enrolled=Exists(enrolled))
        .select_related("person__org")
        .prefetch_related("roles")
        .order_by("username")
    )
    rows = []
    for user in users:
        required = any(r.kind in services.REQUIRED_KINDS for r in user.roles.all())
        if required or user.enrolled:
            rows.append({"user": user, "required": required, "enrolled": user.enrolled})
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "twofactor/logins.html", {"page": page})


@login_required
@require_POST
def reset(request, pk: int):
    people = access.people_for(request.user, access.MANAGE_ROLES)
    user = User.objects.filter(pk=pk, person__in=people).select_related("person__org").first()
    if user is None:
        raise access.deny(request, "orgs.user", pk)
    try:
        services.reset(request.user, user)
        messages.success(
            request, _("The second factor of %(name)s is reset.") % {"name": user.username}
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("twofactor:logins")


def menu(user) -> list[MenuEntry]:
    entries = [
        MenuEntry(reverse("twofactor:setup"), gettext_lazy("Two-factor sign-in"), "twofactor", 95)
    ]
    if access.has_perm(user, access.MANAGE_ROLES):
        entries.append(
            MenuEntry(
                reverse("twofactor:logins"), gettext_lazy("Second factors"), "secondfactors", 86
            )
        )
    return entries
