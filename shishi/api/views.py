"""The page where a signed-in user sees their API tokens, makes one (shown once) and revokes one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from shishi.extensions import MenuEntry
from shishi.lib.parse import whole_number
from shishi.web import form_errors

from . import services
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


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's own tokens, newest first. POST ``create`` makes one and shows it once; POST
    ``revoke`` with an id revokes one of the user's own (the service checks)."""
    form = TokenForm(request.POST if request.POST.get("action") == "create" else None)
    plain = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create" and form.is_valid():
            try:
                _token, plain = services.create_token(
                    request.user, request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                form = TokenForm()
        elif action == "revoke":
            raw = request.POST.get("token", "")
            token_id = whole_number(raw)
            token = (
                Token.objects.filter(user=request.user, pk=token_id).first()
                if token_id is not None
                else None
            )
            if token is None:
                messages.error(request, _("No such token of yours."))
            else:
                try:
                    services.revoke_token(request.user, token)
                except (ValidationError, PermissionDenied) as exc:
                    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
                else:
                    messages.success(
                        request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix}
                    )
            return redirect("tokens:list")
    rows = Token.objects.filter(user=request.user).order_by("-created_at", "-id")[:100]
    # Like every signed-in page, with Cache-Control: private, no-store (PrivateResponsesMiddleware),
    # so no browser or proxy keeps the secret this page shows once.
    return render(request, "api/tokens.html", {"form": form, "tokens": rows, "plain": plain})
