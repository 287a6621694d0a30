"""The sign-in policy: the per-address limit beside the per-login lockout, and sign-ins, failures,
lockouts and sign-outs in the audit log."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shishi.audit.models import Entry

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-42"  # the users fixture's (conftest.py)
WRONG = "Wrong-horse-00"
LOGIN = reverse("login")
SPRAYER = "198.51.100.7"
NEIGHBOUR = "203.0.113.9"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def sign_in(client, username, password=PASSWORD, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def spray(client, count, address=SPRAYER):
    """One wrong password for each of ``count`` different usernames, from one address."""
    return [sign_in(client, f"guess{n}", WRONG, address) for n in range(count)]


# --- the per-address limit ----------------------------------------------------------------------


def test_the_address_limit_is_above_the_limit_per_login():
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 30
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT


def test_spraying_many_usernames_from_one_address_is_refused(client, users):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    answers = spray(client, limit - 1)
    assert [a.status_code for a in answers] == [200] * (limit - 1)
    locking = sign_in(client, f"guess{limit}", WRONG, SPRAYER)
    assert locking.status_code == 429
    refused = sign_in(client, "east_admin", PASSWORD, SPRAYER)
    assert refused.status_code == 429
    assert "Sign-in paused from this address" in refused.text
    assert "for one account or several" in refused.text
    retry = int(refused["Retry-After"])
    assert 0 < retry <= settings.AXES_COOLOFF_TIME.total_seconds()
    assert client.session.get("_auth_user_id") is None


def test_another_address_is_not_refused(client, users):
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT + 1)
    assert sign_in(client, "guess0", WRONG, SPRAYER).status_code == 429
    other = Client()
    assert sign_in(other, "east_admin", PASSWORD, NEIGHBOUR).status_code == 302


def test_a_login_locked_from_a_sprayed_address_is_not_locked_elsewhere(client, users):
    """Refusals during an address lockout are not counted, so they lock nobody's account."""
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        assert sign_in(client, "east_admin", PASSWORD, SPRAYER).status_code == 429
    assert sign_in(Client(), "east_admin", PASSWORD, NEIGHBOUR).status_code == 302


def test_the_address_is_free_again_after_the_cool_off(client, users):
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    refused = sign_in(client, "east_admin", PASSWORD, SPRAYER)
    assert refused.status_code == 429
    later = timezone.now() + dt.timedelta(seconds=int(refused["Retry-After"]) + 1)
    with time_machine.travel(later):
        assert sign_in(client, "east_admin", PASSWORD, SPRAYER).status_code == 302


def test_the_address_refusal_is_in_chinese_by_default(users):
    client = Client()
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    refused = sign_in(client, "east_admin", PASSWORD, SPRAYER)
    assert refused.status_code == 429
    assert "登录已暂停" in refused.text


def test_a_login_lockout_names_the_account_and_the_time_left(client, users):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "east_admin", WRONG)
    refused = sign_in(client, "east_admin")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts for this account" in refused.text
    assert 0 < int(refused["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()


# --- the audit log ------------------------------------------------------------------------------


def test_a_sign_in_and_a_sign_out_are_audited(client, users):
    user = users["east_admin"]
    sign_in(client, "East_Admin")
    client.post(reverse("logout"))
    entries = list(Entry.objects.filter(action__startswith="orgs.login.sign").order_by("seq"))
    assert [e.action for e in entries] == ["orgs.login.signed_in", "orgs.login.signed_out"]
    for entry in entries:
        assert entry.actor == user
        assert entry.object_type == "orgs.person" and entry.object_id == str(user.person.pk)
        # The login's county chain, where the county's auditor reads it.
        assert entry.county_id == user.person.county_id
        assert entry.ip == "127.0.0.1"


def test_a_failed_sign_in_is_audited_without_an_actor_or_the_password(client, users):
    sign_in(client, "east_admin", WRONG)
    entry = Entry.objects.get(action="orgs.login.failed")
    assert entry.actor is None and entry.actor_label == "system"
    assert entry.data == {"username": "east_admin"}
    assert entry.object_id == str(users["east_admin"].person.pk)
    assert WRONG not in str(entry.data) + str(entry.changes) + entry.object_repr


def test_a_failed_sign_in_by_phone_masks_the_number(client, users):
    sign_in(client, "+86 138 0000 0002", WRONG)
    entry = Entry.objects.get(action="orgs.login.failed")
    assert entry.data == {"username": "138****0002"}


def test_a_failed_sign_in_of_an_unknown_name_keeps_the_name_as_typed(client, users):
    sign_in(client, "  No_Such_User ", WRONG)
    entry = Entry.objects.get(action="orgs.login.failed")
    assert entry.data == {"username": "No_Such_User"}
    assert entry.object_id == "" and entry.county_id is None


def test_a_lockout_of_a_login_is_audited_once(client, users):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "east_admin", WRONG)
    for _attempt in range(3):
        assert sign_in(client, "east_admin").status_code == 429
    assert Entry.objects.filter(action="orgs.login.failed").count() == settings.AXES_FAILURE_LIMIT
    [locked] = Entry.objects.filter(action="orgs.login.locked")
    assert locked.data["by"] == "login" and locked.data["username"] == "east_admin"
    assert locked.object_id == str(users["east_admin"].person.pk)
    assert not Entry.objects.filter(action="orgs.login.signed_in").exists()


def test_a_lockout_of_an_address_is_audited_with_the_address(client, users):
    spray(client, settings.LOGIN_ADDRESS_FAILURE_LIMIT)
    sign_in(client, "east_admin", PASSWORD, SPRAYER)
    failed = Entry.objects.filter(action="orgs.login.failed")
    assert failed.count() == settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert set(failed.values_list("ip", flat=True)) == {SPRAYER}
    [locked] = Entry.objects.filter(action="orgs.login.locked")
    assert locked.data["by"] == "address" and locked.ip == SPRAYER


def test_a_successful_sign_in_is_not_a_failure(client, users):
    sign_in(client, "east_admin")
    assert not Entry.objects.filter(action__in=["orgs.login.failed", "orgs.login.locked"]).exists()
