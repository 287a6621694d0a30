"""API tokens: stored as a digest, shown once, revocable, audited."""

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from shishi.api import services
from shishi.api.models import Token
from shishi.audit.models import Entry
from shishi.testing import error_of


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


def test_only_the_owner_or_an_account_manager_in_scope_revokes_a_token(users):
    user = users["unit_officer"]
    token, _plain = services.create_token(user, user)
    with pytest.raises(PermissionDenied):
        services.revoke_token(users["west_admin"], token)
    with pytest.raises(PermissionDenied):
        services.revoke_token(users["cadre"], token)
    services.revoke_token(users["county_admin"], token)
    assert Token.objects.get().is_revoked


def test_a_token_of_a_disabled_login_is_refused(api, users, programme):
    user = users["county_admin"]
    _token, plain = services.create_token(user, user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    error_of(api(token=plain).get("/reports"), 401)


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


def test_the_tokens_page_lists_only_ones_own_and_revokes_them(users, client_for):
    from django.urls import reverse

    mine, _plain = services.create_token(users["unit_officer"], users["unit_officer"])
    theirs, _plain = services.create_token(users["cadre"], users["cadre"])
    client = client_for(users["unit_officer"])
    url = reverse("tokens:list")
    page = client.get(url)
    assert f"{mine.prefix}…" in page.text and f"{theirs.prefix}…" not in page.text
    # Another's token cannot be revoked from here, whatever id is posted.
    client.post(url, {"action": "revoke", "token": str(theirs.pk)})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = client.post(url, {"action": "revoke", "token": str(mine.pk)})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert Entry.objects.filter(action="api.token.revoked", actor=users["unit_officer"]).exists()


def test_the_command_revokes_a_token_by_its_prefix(users):
    token, plain = services.create_token(None, users["cadre"])
    out = io.StringIO()
    call_command("revoke_api_token", token.prefix, stdout=out)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert f"revoked {token.prefix}… of cadre" in out.getvalue()
    assert services.authenticate(plain) is None


def test_the_command_revokes_every_live_token_of_a_login(users):
    for _i in range(2):
        services.create_token(None, users["cadre"])
    call_command("revoke_api_token", user="cadre", stdout=io.StringIO())
    assert not Token.objects.filter(user=users["cadre"], revoked_at__isnull=True).exists()


def test_the_command_says_when_nothing_matches(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No live token matches"):
        call_command("revoke_api_token", "shishi_nothing", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("revoke_api_token", stdout=io.StringIO())
