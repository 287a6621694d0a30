"""A password change or a disabled login ends the login's sessions; a person changes their own
password on a page of their own."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.orgs import services
from shishi.orgs.models import Session, User
from shishi.testing import sign_in_second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-42"  # the users fixture's (conftest.py)
NEW = "Another-horse-43"
HOME = reverse("workspace:home")


def browser(username, password=PASSWORD) -> Client:
    """A fresh browser signed in through the sign-in page, in English."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response
    return client


def signed_in(client) -> bool:
    return client.get(HOME).status_code == 200


def test_a_session_knows_its_login(users):
    browser("cadre")
    assert Session.objects.filter(user=users["cadre"]).count() == 1


# --- changing one's own password ----------------------------------------------------------------


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(users):
    here, there = browser("cadre"), browser("cadre")
    elsewhere = browser("secretary")
    response = here.post(
        reverse("orgs:password"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == HOME
    assert signed_in(here)
    assert not signed_in(there)
    assert signed_in(elsewhere)
    assert Session.objects.filter(user=users["cadre"]).count() == 1
    entry = Entry.objects.get(action="orgs.login.password_set")
    assert entry.actor == users["cadre"] and entry.data["sessions_ended"] == 1
    browser("cadre", NEW)


def test_the_old_password_is_needed_and_a_weak_one_refused(users):
    client = browser("cadre")
    wrong = client.post(
        reverse("orgs:password"),
        {"old_password": "Not-it-at-all-1", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200 and "old password was entered incorrectly" in wrong.text
    weak = client.post(
        reverse("orgs:password"),
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert weak.status_code == 200 and "too short" in weak.text
    assert not Entry.objects.filter(action="orgs.login.password_set").exists()
    assert User.objects.get(username="cadre").check_password(PASSWORD)


def test_the_password_page_needs_a_sign_in(client):
    response = client.get(reverse("orgs:password"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- a password set by an account manager --------------------------------------------------------


def test_a_password_set_by_a_manager_ends_every_session_of_the_login(users):
    first, second = browser("cadre"), browser("cadre")
    services.set_password(users["county_admin"], users["cadre"], NEW)
    assert not signed_in(first) and not signed_in(second)
    assert not Session.objects.filter(user=users["cadre"]).exists()


# --- disabling a login --------------------------------------------------------------------------


def test_disabling_a_login_ends_its_sessions_at_once(users):
    cadre = users["cadre"]
    session = browser("cadre")
    manager = browser("county_admin")
    sign_in_second_factor(manager, users["county_admin"])
    response = manager.post(reverse("orgs:person_active", args=[cadre.person.pk]), {"active": "0"})
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:person", args=[cadre.person.pk])
    assert not signed_in(session)
    assert not Session.objects.filter(user=cadre).exists()
    cadre.refresh_from_db()
    assert not cadre.is_active and cadre.signed_out_at is not None
    entry = Entry.objects.get(action="orgs.login.disabled")
    assert entry.actor == users["county_admin"]
    assert entry.changes == {"is_active": [True, False]}
    assert entry.data["sessions_ended"] == 1
    assert entry.county_id == cadre.person.county_id


def test_an_enabled_login_signs_in_again_but_old_sessions_stay_ended(users):
    cadre = users["cadre"]
    session = browser("cadre")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    services.set_active(users["county_admin"], cadre, False)
    services.set_active(users["county_admin"], cadre, True)
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert not signed_in(stale)
    assert signed_in(browser("cadre"))
    assert Entry.objects.get(action="orgs.login.enabled").changes == {"is_active": [False, True]}


def test_the_person_page_offers_to_disable_and_enable(users, client_for):
    cadre = users["cadre"]
    url = reverse("orgs:person", args=[cadre.person.pk])
    page = client_for(users["county_admin"]).get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("orgs:person_active", args=[cadre.person.pk]) in page.text
    services.set_active(users["county_admin"], cadre, False)
    page = client_for(users["county_admin"]).get(url)
    assert 'name="active" value="1"' in page.text


def test_only_an_account_manager_in_scope_disables_a_login(users, client_for):
    cadre = users["cadre"]
    url = reverse("orgs:person_active", args=[cadre.person.pk])
    # Sees the person, may not manage the account: 404, as for anything outside one's scope.
    for name in ["west_admin", "east_admin", "auditor"]:
        assert client_for(users[name]).post(url, {"active": "0"}).status_code == 404
    cadre.refresh_from_db()
    assert cadre.is_active
    with pytest.raises(PermissionDenied):
        services.set_active(users["east_admin"], cadre, False)
    assert not Entry.objects.filter(action="orgs.login.disabled").exists()


def test_nobody_disables_their_own_login(users):
    admin = users["county_admin"]
    with pytest.raises(ValidationError):
        services.set_active(admin, admin, False)
    admin.refresh_from_db()
    assert admin.is_active


def test_disabling_a_disabled_login_changes_nothing(users):
    services.set_active(users["county_admin"], users["cadre"], False)
    services.set_active(users["county_admin"], users["cadre"], False)
    assert Entry.objects.filter(action="orgs.login.disabled").count() == 1


def test_guessing_the_old_password_counts_toward_the_lockout(users):
    """A stolen session must not be a way round the lockout."""
    client = browser("cadre")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            reverse("orgs:password"),
            {"old_password": "Guess-horse-00", "new_password1": NEW, "new_password2": NEW},
        )
        assert response.status_code == 200
    locked = client.post(
        reverse("orgs:password"),
        {"old_password": "Guess-horse-00", "new_password1": NEW, "new_password2": NEW},
    )
    assert locked.status_code == 429
    failed = Entry.objects.filter(action="orgs.login.failed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT
    assert {e.data["username"] for e in failed} == {"cadre"}
    assert Entry.objects.filter(action="orgs.login.locked").count() == 1
    # Even the right old password is refused now.
    right = client.post(
        reverse("orgs:password"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert right.status_code == 429
    assert User.objects.get(username="cadre").check_password(PASSWORD)
