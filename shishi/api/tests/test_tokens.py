"""API tokens: stored as a digest, shown once, revocable, audited."""

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from shishi.api import services
from shishi.api.models import Token
from shishi.audit.models import Entry

from .helpers import error_of


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
