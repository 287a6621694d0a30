"""Two-factor sign-in: required for administrators and auditors, optional for others; enrolment
with a QR code and recovery codes; a forged or replayed code refused and audited; reset by the
security administrator only."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from shishi.audit.models import Entry
from shishi.notifications.models import Notification
from shishi.testing import sign_in_second_factor, totp_code
from shishi.twofactor import services

HOME = "/work/"
SETUP = reverse("twofactor:setup")
VERIFY = reverse("twofactor:verify")
NEXT = "/work/notifications/"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def password_only(client_for, user):
    return client_for(user, second_factor=False)


def actions(user) -> list[str]:
    return list(
        Entry.objects.filter(action__startswith="twofactor.", object_id=str(user.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize(
    "role", ["county_admin", "east_admin", "auditor", "sysadmin", "security_admin", "audit_admin"]
)
def test_an_administrator_or_auditor_must_set_it_up_before_the_workspace(users, client_for, role):
    client = password_only(client_for, users[role])
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fwork%2F"


@pytest.mark.parametrize("role", ["cadre", "unit_officer", "secretary", "supervisor"])
def test_it_is_optional_for_other_roles(users, client_for, role):
    client = password_only(client_for, users[role])
    assert client.get(HOME).status_code == 200
    assert "Optional for your role" in client.get(SETUP).text


def test_enrolment_shows_a_qr_code_and_confirms_with_the_apps_code(users, client_for):
    user = users["county_admin"]
    client = password_only(client_for, user)
    page = client.get(SETUP, {"next": "/work/orgs/"})
    assert "<svg" in page.text and "<script" not in page.context["qr"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.context["secret"].replace(" ", "") in device.config_url
    wrong = client.post(SETUP, {"code": "000000", "next": NEXT})
    assert "That code is not right" in wrong.text
    # After a failure django-otp makes the next attempt wait a second.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2)):
        device.refresh_from_db()
        done = client.post(SETUP, {"code": totp_code(device), "next": NEXT})
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == set(codes)
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(NEXT).status_code == 200
    assert actions(user) == ["twofactor.enrolment_failed", "twofactor.enrolled"]


def enrolled(client_for, user):
    """A client signed in with the password only, of a user who has an authenticator."""
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    services._new_recovery_codes(user)
    return password_only(client_for, user), device


@pytest.mark.parametrize("role", ["county_admin", "cadre"])
def test_a_login_with_a_factor_gives_its_code_after_the_password(users, client_for, role):
    user = users[role]
    client, device = enrolled(client_for, user)
    response = client.get(NEXT)
    assert response["Location"] == f"{VERIFY}?next=%2Fwork%2Fnotifications%2F"
    answered = client.post(VERIFY, {"code": totp_code(device), "next": NEXT})
    assert answered["Location"] == NEXT
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(NEXT).status_code == 200
    assert actions(user) == ["twofactor.verified"]


def test_a_forged_code_is_refused_and_audited(users, client_for):
    user = users["county_admin"]
    client, device = enrolled(client_for, user)
    response = client.post(VERIFY, {"code": "123456"})
    assert response.status_code == 200
    assert "That code is not right" in response.text
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(HOME).status_code == 302
    assert actions(user) == ["twofactor.failed"]


def test_a_replayed_code_is_refused(users, client_for, client):
    user = users["county_admin"]
    first, device = enrolled(client_for, user)
    code = totp_code(device)
    assert first.post(VERIFY, {"code": code})["Location"] == HOME
    first.logout()
    again = password_only(client_for, user)
    response = again.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in again.session
    assert actions(user) == ["twofactor.verified", "twofactor.failed"]


def test_a_recovery_code_signs_in_once(users, client_for):
    user = users["county_admin"]
    client, _device = enrolled(client_for, user)
    code = StaticToken.objects.filter(device__user=user).first().token
    assert client.post(VERIFY, {"code": code})["Location"] == HOME
    client.logout()
    again = password_only(client_for, user)
    assert again.post(VERIFY, {"code": code}).status_code == 200
    assert DEVICE_ID_SESSION_KEY not in again.session
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_failures_slow_down_the_next_attempt(users, client_for):
    user = users["county_admin"]
    client, device = enrolled(client_for, user)
    client.post(VERIFY, {"code": "111111"})
    # django-otp's throttle: after a failure, even the right code waits a second.
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_the_next_page_is_never_another_site(users, client_for):
    client, device = enrolled(client_for, users["cadre"])
    response = client.post(VERIFY, {"code": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == HOME


def test_the_public_site_and_sign_out_are_not_behind_the_door(users, client_for):
    client = password_only(client_for, users["county_admin"])
    assert client.get("/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302


# --- reset ----------------------------------------------------------------------------------------


def test_the_security_administrator_resets_a_lost_factor(users, client_for):
    from django.test import Client

    user = users["county_admin"]
    signed_in = Client()
    signed_in.force_login(user)
    sign_in_second_factor(signed_in, user)
    assert signed_in.get(HOME).status_code == 200
    services._new_recovery_codes(user)
    admin = client_for(users["security_admin"])
    listing = admin.get(reverse("twofactor:logins"))
    row = next(r for r in listing.context["page"].object_list if r["user"] == user)
    assert row["required"] and row["enrolled"]
    admin.post(reverse("twofactor:reset", args=[user.pk]))
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    entry = Entry.objects.filter(action="twofactor.reset").latest("seq")
    assert (entry.actor, entry.object_id) == (users["security_admin"], str(user.pk))
    assert Notification.objects.filter(user=user, kind="twofactor.reset").exists()
    # The session that gave a code of the removed device is signed out.
    assert signed_in.get(HOME)["Location"].startswith(reverse("login"))
    # At the next sign-in, the login sets it up again.
    assert password_only(client_for, user).get(HOME)["Location"].startswith(SETUP)


@pytest.mark.parametrize("role", ["sysadmin", "county_admin", "audit_admin"])
def test_nobody_else_resets_a_factor(users, client_for, role):
    user = users["cadre"]
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client = client_for(users[role])
    assert client.get(reverse("twofactor:logins")).status_code == 403
    assert client.post(reverse("twofactor:reset", args=[user.pk])).status_code == 404
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_the_security_administrator_does_not_reset_their_own(users):
    admin = users["security_admin"]
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    with pytest.raises(PermissionDenied):
        services.reset(admin, admin)
    assert TOTPDevice.objects.filter(user=admin).exists()
    assert Entry.objects.filter(action="twofactor.reset_refused").exists()
