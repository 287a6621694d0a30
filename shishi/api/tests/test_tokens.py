"""API tokens: stored as a digest, shown once, revocable, audited."""

import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from shishi.api import services
from shishi.api.models import Token
from shishi.audit.models import Entry
from shishi.orgs import services as orgs_services
from shishi.testing import english, error_of


def test_the_plain_token_is_not_stored_only_its_digest(users):
    user = users["unit_officer"]
    token, plain = services.create_token(user, user, name="数据报送脚本")
    stored = Token.objects.filter(pk=token.pk).values().get()
    assert plain not in str(stored)
    assert stored["digest"] == hashlib.sha256(plain.encode()).hexdigest()
    assert plain.startswith(stored["prefix"]) and len(stored["prefix"]) < len(plain) // 3


def test_creating_a_token_is_audited_without_the_secret(users):
    user = users["unit_officer"]
    token, plain = services.create_token(user, user)
    entry = Entry.objects.get(action="api.token.created")
    assert entry.actor_label == "unit_officer"
    assert entry.data["prefix"] == token.prefix
    assert plain not in str(entry.data) + str(entry.changes)


def test_a_token_authenticates_as_its_login_and_notes_its_use(api, users, programme):
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    assert token.last_used_at is None
    assert api(token=plain).get("/reports").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_nobody_makes_a_token_for_someone_else(users):
    with pytest.raises(PermissionDenied):
        services.create_token(users["sysadmin"], users["unit_officer"])
    assert not Token.objects.exists()


def test_a_revoked_token_is_refused(api, users, programme):
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    services.revoke_token(user, token)
    error_of(api(token=plain).get("/reports"), 401)
    assert Entry.objects.filter(action="api.token.revoked").count() == 1
    with pytest.raises(ValidationError):
        services.revoke_token(user, token)


def test_only_the_owner_or_a_holder_of_revoke_tokens_in_scope_revokes_a_token(users):
    user = users["unit_officer"]
    token, _plain = services.create_token(user, user)
    # An account manager of the county is not enough: revoking others' tokens is its own right.
    for name in ["west_admin", "cadre", "county_admin", "auditor"]:
        with pytest.raises(PermissionDenied):
            services.revoke_token(users[name], token)
    assert not Token.objects.get().is_revoked
    for name in ["sysadmin", "audit_admin"]:  # 三员: it is the security administrator's
        with pytest.raises(PermissionDenied):
            services.revoke_token(users[name], token)
    services.revoke_token(users["security_admin"], token)
    assert Token.objects.get().is_revoked
    entry = Entry.objects.get(action="api.token.revoked")
    assert entry.actor == users["security_admin"] and entry.data["user"] == user.pk


def test_a_token_of_a_disabled_login_is_refused_audited_and_left_alone(api, users, programme):
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    assert api(token=plain).get("/reports").status_code == 200
    token.refresh_from_db()
    used = token.last_used_at
    orgs_services.set_active(users["sysadmin"], user, False)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        error = error_of(api(token=plain).get("/reports"), 401)
    assert error["code"] == "unauthenticated"
    assert error["message"] == "This API token's login is disabled."
    refused = Entry.objects.get(action="api.token.refused")
    assert refused.data == {"user": user.pk, "prefix": token.prefix, "reason": "disabled"}
    assert refused.actor is None and refused.object_id == str(token.pk)
    # Nothing of the token changed: not its use, not its state.
    token.refresh_from_db()
    assert token.last_used_at == used and token.revoked_at is None


def test_a_token_stays_dead_when_its_login_is_enabled_again(api, users, programme):
    user = users["county_admin"]
    _token, plain = services.create_token(user, user)
    orgs_services.set_active(users["sysadmin"], user, False)
    orgs_services.set_active(users["sysadmin"], user, True)
    error = error_of(api(token=plain).get("/reports"), 401)
    assert "ended when its login's password was set or the login was disabled" in error["message"]
    # A new token works.
    _token, fresh = services.create_token(user, user)
    assert api(token=fresh).get("/reports").status_code == 200


def test_setting_the_password_ends_the_logins_tokens(api, users, programme):
    user = users["county_admin"]
    _token, plain = services.create_token(user, user)
    orgs_services.set_password(user, user, "Another-horse-43")
    error = error_of(api(token=plain).get("/reports"), 401)
    assert "password was set" in error["message"]
    assert Entry.objects.get(action="api.token.refused").data["reason"] == "signed_out"


def test_a_password_set_at_the_console_ends_the_tokens_too(api, users, programme):
    """The stamp covers the password itself, so no path that sets one can leave tokens alive."""
    user = users["county_admin"]
    _token, plain = services.create_token(user, user)
    user.set_password("Console-horse-44")
    user.save(update_fields=["password"])
    error_of(api(token=plain).get("/reports"), 401)


def test_a_token_expires_after_the_configured_days(api, users, programme, settings):
    settings.API_TOKEN_DAYS = 30
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    assert token.expires_at == token.created_at + dt.timedelta(days=30)
    with time_machine.travel(token.expires_at - dt.timedelta(seconds=1)):
        assert api(token=plain).get("/reports").status_code == 200
    with time_machine.travel(token.expires_at):
        error = error_of(api(token=plain).get("/reports"), 401)
    day = timezone.localtime(token.expires_at).strftime("%Y-%m-%d")
    assert error["message"].startswith(f"This API token expired on {day}")
    assert Entry.objects.get(action="api.token.refused").data["reason"] == "expired"


def test_a_dead_token_retried_is_audited_once_a_minute(api, users, programme):
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    services.revoke_token(user, token)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(3):
            error_of(api(token=plain).get("/reports"), 401)
    assert Entry.objects.filter(action="api.token.refused").count() == 1
    with time_machine.travel(start + services.REFUSAL_INTERVAL, tick=False):
        error_of(api(token=plain).get("/reports"), 401)
    assert Entry.objects.filter(action="api.token.refused").count() == 2


def test_an_unknown_token_is_refused_without_an_audit_entry(api, users, programme):
    error = error_of(api(token="shishi_" + "x" * 43).get("/reports"), 401)
    assert error["message"] == "The API token is not valid, or has been revoked."
    assert not Entry.objects.filter(action="api.token.refused").exists()


def test_a_refused_token_answers_in_chinese_when_asked(client, users, programme):
    user = users["county_admin"]
    token, plain = services.create_token(user, user)
    services.revoke_token(user, token)
    response = client.get(
        "/api/v1/reports",
        headers={"Authorization": f"Bearer {plain}", "Accept-Language": "zh-hans"},
    )
    assert error_of(response, 401)["message"] == "此 API 令牌已被撤销。"


def test_the_command_prints_a_token_once_and_it_works(api, users, programme):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "county_admin", stdout=out, stderr=err)
    plain = out.getvalue().strip()
    assert plain.startswith(services.TOKEN_PREFIX)
    assert plain not in err.getvalue()
    assert api(token=plain).get("/reports").status_code == 200
    assert Entry.objects.get(action="api.token.created").actor_label == "system"


def test_the_command_refuses_an_unknown_login(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody-here")


# --- the tokens page and the revoke command ---------------------------------------------------------


def test_the_tokens_page_makes_a_token_and_shows_it_once(users, client_for):
    from django.urls import reverse

    client = client_for(users["unit_officer"])
    url = reverse("tokens:list")
    page = client.post(url, {"action": "create", "name": "报送脚本"})
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    token = Token.objects.get(user=users["unit_officer"])
    assert token.name == "报送脚本"
    plain = page.context["plain"]
    assert plain.startswith(token.prefix) and plain in page.text
    again = client.get(url)
    assert plain not in again.text and f"{token.prefix}…" in again.text


def test_the_tokens_page_lists_only_ones_own_with_expiry_and_revokes_them(users, client_for):
    from django.urls import reverse

    mine, _plain = services.create_token(users["unit_officer"], users["unit_officer"])
    theirs, _plain = services.create_token(users["cadre"], users["cadre"])
    client = english(client_for(users["unit_officer"]))
    page = client.get(reverse("tokens:list"))
    assert f"{mine.prefix}…" in page.text and f"{theirs.prefix}…" not in page.text
    assert timezone.localtime(mine.expires_at).strftime("%Y-%m-%d %H:%M") in page.text
    assert "expires 90 days after it is made" in page.text
    response = client.post(reverse("tokens:revoke", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("tokens:list")
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert Entry.objects.filter(action="api.token.revoked", actor=users["unit_officer"]).exists()


def test_the_tokens_page_says_which_tokens_no_longer_count(users, client_for):
    from django.urls import reverse

    user = users["unit_officer"]
    with time_machine.travel(timezone.now() - dt.timedelta(days=91)):
        old, _plain = services.create_token(user, user)
    live, _plain = services.create_token(user, user)
    page = english(client_for(user)).get(reverse("tokens:list"))
    assert "<td>expired</td>" in page.text
    assert reverse("tokens:revoke", args=[old.pk]) not in page.text
    assert reverse("tokens:revoke", args=[live.pk]) in page.text


def test_another_persons_token_cannot_be_revoked_without_the_right(users, client_for):
    from django.urls import reverse

    theirs, _plain = services.create_token(users["cadre"], users["cadre"])
    for name in ["unit_officer", "county_admin"]:
        client = client_for(users[name])
        assert client.post(reverse("tokens:revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert Entry.objects.filter(action="access.denied", data__object="api.token").count() == 2


def test_revoking_is_a_post(users, client_for):
    from django.urls import reverse

    mine, _plain = services.create_token(users["cadre"], users["cadre"])
    client = client_for(users["cadre"])
    assert client.get(reverse("tokens:revoke", args=[mine.pk])).status_code == 405
    mine.refresh_from_db()
    assert mine.revoked_at is None


def test_the_security_administrator_lists_and_revokes_tokens_in_scope(users, client_for):
    from django.urls import reverse

    theirs, _plain = services.create_token(users["cadre"], users["cadre"])
    other, _plain = services.create_token(users["west_admin"], users["west_admin"])
    client = english(client_for(users["security_admin"]))
    page = client.get(reverse("tokens:others"))
    assert page.status_code == 200
    assert f"{theirs.prefix}…" in page.text and f"{other.prefix}…" in page.text
    only = client.get(reverse("tokens:others"), {"user": "cadre"})
    assert f"{theirs.prefix}…" in only.text and f"{other.prefix}…" not in only.text
    response = client.post(reverse("tokens:revoke", args=[theirs.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("tokens:others")
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None
    after = client.get(reverse("tokens:others"))
    assert f"<code>{theirs.prefix}…</code>" not in after.text
    assert f"<code>{other.prefix}…</code>" in after.text


def test_the_list_of_others_tokens_needs_the_right(users, client_for):
    from django.urls import reverse

    services.create_token(users["cadre"], users["cadre"])
    for name in ["county_admin", "auditor", "cadre"]:
        assert client_for(users[name]).get(reverse("tokens:others")).status_code == 403


def test_the_list_of_others_tokens_stays_in_scope(users, client_for, tree):
    """A security administrator of one town sees that town's logins' tokens, not the other's."""
    from django.urls import reverse

    from shishi.orgs.models import RoleKind

    orgs_services.grant_role(None, users["nobody"], tree["east"], RoleKind.SECURITY_ADMIN)
    east, _plain = services.create_token(users["cadre"], users["cadre"])
    west, _plain = services.create_token(users["west_admin"], users["west_admin"])
    client = client_for(users["nobody"])
    page = client.get(reverse("tokens:others"))
    assert f"{east.prefix}…" in page.text and f"{west.prefix}…" not in page.text
    assert client.post(reverse("tokens:revoke", args=[west.pk])).status_code == 404
    west.refresh_from_db()
    assert west.revoked_at is None


def test_the_command_revokes_a_token_by_its_prefix(users):
    token, plain = services.create_token(None, users["cadre"])
    out = io.StringIO()
    call_command("revoke_api_token", token.prefix, stdout=out)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert f"revoked {token.prefix}… of cadre" in out.getvalue()
    entry = Entry.objects.get(action="api.token.revoked")
    assert entry.actor is None and entry.data["prefix"] == token.prefix
    with pytest.raises(services.Refused):
        services.authenticate(plain)


def test_the_command_revokes_every_live_token_of_a_login(users):
    for _i in range(2):
        services.create_token(None, users["cadre"])
    kept, _plain = services.create_token(None, users["secretary"])
    call_command("revoke_api_token", user="cadre", stdout=io.StringIO())
    assert not Token.objects.filter(user=users["cadre"], revoked_at__isnull=True).exists()
    assert Entry.objects.filter(action="api.token.revoked").count() == 2
    kept.refresh_from_db()
    assert kept.revoked_at is None


def test_the_command_says_when_nothing_matches(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No live token matches"):
        call_command("revoke_api_token", "shishi_nothing", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("revoke_api_token", stdout=io.StringIO())


# --- what the token pages cost ---------------------------------------------------------------------


def test_the_token_pages_cost_the_same_whatever_the_number_of_tokens(users, client_for):
    from django.urls import reverse

    from shishi.testing import queries_at_two_sizes

    def grow(n):
        for name in ["cadre", "secretary", "sysadmin"]:
            for _i in range(n):
                services.create_token(users[name], users[name])

    client = client_for(users["security_admin"])
    # The session and its login, the roles, the tokens (and the page count for the others').
    queries_at_two_sizes(grow, lambda: client.get(reverse("tokens:list")), 6)
    queries_at_two_sizes(grow, lambda: client.get(reverse("tokens:others")), 8)
