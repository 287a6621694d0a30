"""Signing in by username or mobile number, lockout after repeated failures, sessions, sign-out."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from shishi.orgs import services
from shishi.orgs.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-42"  # the users fixture's (conftest.py)
LOGIN = reverse("login")


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def sign_in(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in_as(client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def fail(client, username, times):
    for _ in range(times):
        response = sign_in(client, username, "Wrong-horse-00")
        assert response.status_code == 200


# --- signing in ---------------------------------------------------------------------------------


def test_a_user_signs_in_with_the_username(client, users):
    response = sign_in(client, "east_admin")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:home")
    assert signed_in_as(client) == users["east_admin"]


def test_the_username_is_not_case_sensitive(client, users):
    sign_in(client, " East_Admin ")
    assert signed_in_as(client) == users["east_admin"]


@pytest.mark.parametrize("phone", ["13800000002", "138 0000 0002", "+86 138-0000-0002"])
def test_a_user_signs_in_with_the_mobile_number_on_their_record(client, users, phone):
    response = sign_in(client, phone)
    assert response.status_code == 302
    assert signed_in_as(client) == users["east_admin"]


def test_a_phone_is_found_by_its_digest_not_by_its_text(users):
    assert services.find_user_by_phone("+86 138 0000 0002") == users["east_admin"]
    assert services.find_user_by_phone("13800000009") is None
    assert services.find_user_by_phone("") is None


def test_a_disabled_login_is_not_found_by_phone_and_cannot_sign_in(client, users):
    user = users["east_admin"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert services.find_user_by_phone("13800000002") is None
    assert sign_in(client, "east_admin").status_code == 200
    assert signed_in_as(client) is None


def test_a_phone_shared_by_two_logins_signs_neither_in(client, users):
    """Whose account would it be? Neither: the username works, the ambiguous phone does not."""
    person = services.create_person(
        None, org=users["west_admin"].person.org, name="同号人", phone="13800000002"
    )
    services.create_login(None, person, username="samephone", password=PASSWORD)
    assert services.find_user_by_phone("13800000002") is None
    assert sign_in(client, "13800000002").status_code == 200
    assert signed_in_as(client) is None
    assert sign_in(client, "samephone").status_code == 302


def test_a_wrong_password_says_so_and_mentions_the_lockout(client, users):
    response = sign_in(client, "east_admin", "Wrong-horse-00")
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert "do not match" in error
    assert f"After {settings.AXES_FAILURE_LIMIT} failed attempts" in error
    assert "do not match" in response.text
    assert signed_in_as(client) is None


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(client, users):
    unknown = sign_in(client, "no_such_user")
    wrong = sign_in(client, "east_admin", "Wrong-horse-00")
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()


def test_a_signed_in_user_opening_the_login_page_goes_to_the_workspace(client, users):
    sign_in(client, "east_admin")
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:home")


# --- lockout ------------------------------------------------------------------------------------


def test_repeated_failures_lock_the_login_even_against_the_right_password(client, users):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, "east_admin", limit - 1)
    locked = sign_in(client, "east_admin", "Wrong-horse-00")
    assert locked.status_code == 429
    assert "orgs/locked_out.html" in [t.name for t in locked.templates]
    response = sign_in(client, "east_admin")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert signed_in_as(client) is None


def test_a_lockout_counts_per_login_whatever_its_spelling(client, users):
    """Case, spaces and phone formats must not each get their own count of attempts."""
    spellings = ["east_admin", "EAST_ADMIN", "East_Admin ", "13800000002", "+86 138 0000 0002"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, spellings[attempt % len(spellings)], "Wrong-horse-00")
    assert sign_in(client, "east_admin").status_code == 429
    assert sign_in(client, "13800000002").status_code == 429
    assert signed_in_as(client) is None


def test_a_lockout_of_one_login_leaves_others_alone(client, users):
    fail(client, "east_admin", settings.AXES_FAILURE_LIMIT - 1)
    sign_in(client, "east_admin", "Wrong-horse-00")
    assert sign_in(client, "west_admin").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, users):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, "east_admin", limit - 1)
    assert sign_in(client, "east_admin").status_code == 302
    assert not AccessAttempt.objects.filter(username="east_admin").exists()
    client.post(reverse("logout"))
    fail(client, "east_admin", limit - 1)
    assert sign_in(client, "east_admin").status_code == 302


def test_a_sign_in_by_phone_resets_the_count_of_the_login(client, users):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, "13800000002", limit - 1)
    assert sign_in(client, "13800000002").status_code == 302
    client.post(reverse("logout"))
    fail(client, "13800000002", limit - 1)
    assert sign_in(client, "13800000002").status_code == 302


# --- sessions and signing out -------------------------------------------------------------------


def test_sessions_end_with_the_browser_and_after_a_working_day():
    from shishi import settings as shishi_settings

    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert shishi_settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_the_session_cookie_has_no_expiry_date_and_the_session_a_working_day(client, users):
    response = sign_in(client, "east_admin")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert cookie["httponly"]
    assert client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_signing_out_is_a_post(client, users):
    sign_in(client, "east_admin")
    assert client.get(reverse("logout")).status_code == 405
    assert signed_in_as(client) == users["east_admin"]
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert signed_in_as(client) is None
    assert client.get(reverse("workspace:home")).status_code == 302
