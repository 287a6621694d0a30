"""The page where a signed-in user sees their API tokens, makes one (shown once) and revokes one;
the page where the holder of ``REVOKE_TOKENS`` sees and revokes the tokens of others in scope."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shishi.extensions import MenuEntry
from shishi.orgs import access
from shishi.orgs.access import deny
from shishi.web import form_errors

from . import services
from .access import REVOKE_TOKENS
from .models import Token


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("What the token is for, e.g. 报送脚本; only you see it."),
    )


def menu(user) -> list[MenuEntry]:
    return [MenuEntry(reverse("tokens:list"), gettext_lazy("API tokens"), "tokens", 95)]


STATES = {
    "": gettext_lazy("live"),
    "revoked": gettext_lazy("revoked"),
    "disabled": gettext_lazy("login disabled"),
    "signed_out": gettext_lazy("ended: password set or login disabled"),
    "expired": gettext_lazy("expired"),
}
PER_PAGE = 100


def _rows(tokens) -> list[dict]:
    now = timezone.now()
    rows = []
    for token in tokens:
        state = token.refusal(now)
        rows.append({"token": token, "state": state, "label": STATES[state]})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's own tokens, newest first, with when each expires and whether it still counts.
    POST makes one and shows it once; each live one is revoked through ``revoke``."""
    form = TokenForm(request.POST or None)
    plain = ""
    if request.method == "POST" and form.is_valid():
        try:
            _token, plain = services.create_token(
                request.user, request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            form = TokenForm()
    rows = Token.objects.filter(user=request.user).select_related("user")
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "rows": _rows(rows.order_by("-created_at", "-id")[:PER_PAGE]),
            "plain": plain,
            "days": settings.API_TOKEN_DAYS,
            "can_revoke_others": access.has_perm(request.user, REVOKE_TOKENS),
        },
    )
    if plain:
        # The one page that shows the secret: no browser or proxy keeps it.
        response["Cache-Control"] = "no-store"
    return response


@login_required
def others(request: HttpRequest) -> HttpResponse:
    """The live tokens of the logins in the user's ``REVOKE_TOKENS`` scope, newest first,
    optionally of one username; each can be revoked from here."""
    if not access.has_perm(request.user, REVOKE_TOKENS):
        raise PermissionDenied
    username = request.GET.get("user", "").strip()[:150]
    qs = (
        services.tokens_for(request.user)
        .exclude(user=request.user)
        .filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("user__person__org")
        .order_by("-created_at", "-id")
    )
    if username:
        qs = qs.filter(user__username__iexact=username)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "api/others.html",
        {"page": page, "rows": _rows(page), "username": username},
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one token: one's own, or one in one's ``REVOKE_TOKENS`` scope; any other is 404."""
    token = services.tokens_for(request.user).filter(pk=pk).select_related("user").first()
    if token is None:
        raise deny(request, "api.token", pk)
    try:
        services.revoke_token(request.user, token)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    if token.user_id == request.user.pk:
        return redirect("tokens:list")
    return redirect("tokens:others")
