"""The client's address behind nginx: taken from a trusted proxy's headers, never from anyone
else's, and the same in the audit log and in django-axes' records of failed sign-ins."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.middleware import PEER_ADDR, TrustedProxyMiddleware, client_ip

CLIENT = "203.0.113.7"
NGINX = "127.0.0.1"


@pytest.fixture
def behind_nginx(settings):
    """nginx on the same machine is the one trusted proxy, as docs/deploy.md sets it up."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]


def through_middleware(remote_addr: str, **headers) -> dict:
    """The request's META after TrustedProxyMiddleware, for a request from ``remote_addr``."""
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)
    TrustedProxyMiddleware(lambda request: None)(request)
    return request.META


def rename_village(client, tree, **extra):
    village = tree["east_village"]
    response = client.post(
        reverse("orgs:edit", args=[village.pk]),
        {"name": "东一新村", "short_name": "", "code": village.code, "version": village.version},
        **extra,
    )
    assert response.status_code == 302
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.org.changed"
    return entry


def test_the_proxy_middleware_runs_before_every_other():
    assert settings.MIDDLEWARE[0] == "shishi.middleware.TrustedProxyMiddleware"


def test_nobody_is_trusted_unless_configured():
    assert settings.TRUSTED_PROXIES == []


# --- through the whole stack --------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_audit_log_records_the_client(
    behind_nginx, users, tree, client_for
):
    entry = rename_village(
        client_for(users["east_admin"]),
        tree,
        REMOTE_ADDR=NGINX,
        headers={"X-Forwarded-For": CLIENT, "X-Real-IP": CLIENT},
    )
    assert entry.ip == CLIENT


def test_a_forged_header_from_an_untrusted_peer_is_ignored(behind_nginx, users, tree, client_for):
    entry = rename_village(
        client_for(users["east_admin"]),
        tree,
        REMOTE_ADDR="198.51.100.9",
        headers={"X-Forwarded-For": CLIENT, "X-Real-IP": CLIENT},
    )
    assert entry.ip == "198.51.100.9"


def test_without_trusted_proxies_the_headers_are_ignored_even_from_loopback(
    users, tree, client_for
):
    entry = rename_village(
        client_for(users["east_admin"]),
        tree,
        REMOTE_ADDR=NGINX,
        headers={"X-Forwarded-For": CLIENT, "X-Real-IP": CLIENT},
    )
    assert entry.ip == NGINX


def test_a_failed_sign_in_through_the_proxy_is_recorded_with_the_client_address(
    behind_nginx, client, users
):
    response = client.post(
        reverse("login"),
        {"username": "east_admin", "password": "Wrong-horse-00"},
        REMOTE_ADDR=NGINX,
        headers={"X-Forwarded-For": f"10.9.8.7, {CLIENT}"},
    )
    assert response.status_code == 200
    attempt = AccessAttempt.objects.get(username="east_admin")
    assert attempt.ip_address == CLIENT


def test_a_failed_sign_in_with_a_forged_header_is_recorded_with_the_peer(
    behind_nginx, client, users
):
    client.post(
        reverse("login"),
        {"username": "east_admin", "password": "Wrong-horse-00"},
        REMOTE_ADDR="198.51.100.9",
        headers={"X-Forwarded-For": CLIENT},
    )
    assert AccessAttempt.objects.get(username="east_admin").ip_address == "198.51.100.9"


# --- the rule -----------------------------------------------------------------------------------


def test_x_real_ip_is_taken_when_there_is_no_x_forwarded_for(behind_nginx):
    assert through_middleware(NGINX, **{"X-Real-IP": CLIENT})["REMOTE_ADDR"] == CLIENT


def test_x_forwarded_for_wins_over_x_real_ip(behind_nginx):
    meta = through_middleware(NGINX, **{"X-Forwarded-For": CLIENT, "X-Real-IP": "192.0.2.1"})
    assert meta["REMOTE_ADDR"] == CLIENT


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(settings):
    """A load balancer (10.0.0.2) in front of nginx: both are trusted, so the client is the
    address before them; what the client wrote further left is not believed."""
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    meta = through_middleware(NGINX, **{"X-Forwarded-For": f"6.6.6.6, {CLIENT}, 10.0.0.2"})
    assert meta["REMOTE_ADDR"] == CLIENT


def test_when_every_hop_is_a_trusted_proxy_the_farthest_is_the_client(behind_nginx):
    """curl on the server itself, through nginx."""
    assert through_middleware(NGINX, **{"X-Forwarded-For": "::1"})["REMOTE_ADDR"] == "::1"


def test_an_unreadable_hop_ends_the_walk_at_the_last_address_read(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    meta = through_middleware(NGINX, **{"X-Forwarded-For": f"{CLIENT}, unknown, 10.0.0.2"})
    assert meta["REMOTE_ADDR"] == "10.0.0.2"


def test_unreadable_headers_leave_the_peer(behind_nginx):
    meta = through_middleware(NGINX, **{"X-Forwarded-For": "unknown", "X-Real-IP": "nobody"})
    assert meta["REMOTE_ADDR"] == NGINX
    assert through_middleware(NGINX, **{"X-Real-IP": "nobody"})["REMOTE_ADDR"] == NGINX


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"),
        (" 203.0.113.7 ", "203.0.113.7"),
    ],
)
def test_addresses_are_read_as_proxies_write_them_and_stored_in_short_form(
    behind_nginx, written, read
):
    assert through_middleware(NGINX, **{"X-Forwarded-For": written})["REMOTE_ADDR"] == read


def test_a_proxy_seen_as_an_ipv4_mapped_ipv6_address_is_still_trusted(behind_nginx):
    assert through_middleware("::ffff:127.0.0.1", **{"X-Real-IP": CLIENT})["REMOTE_ADDR"] == CLIENT


def test_the_direct_peer_is_kept_beside_the_client(behind_nginx):
    meta = through_middleware(NGINX, **{"X-Real-IP": CLIENT})
    assert (meta["REMOTE_ADDR"], meta[PEER_ADDR]) == (CLIENT, NGINX)


def test_axes_reads_the_same_address_before_and_after_the_middleware(behind_nginx):
    request = RequestFactory().get("/", REMOTE_ADDR=NGINX, headers={"X-Forwarded-For": CLIENT})
    assert client_ip(request) == CLIENT
    TrustedProxyMiddleware(lambda request: None)(request)
    assert client_ip(request) == CLIENT
    assert settings.AXES_CLIENT_IP_CALLABLE == "shishi.middleware.client_ip"
