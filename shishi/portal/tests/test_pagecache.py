"""The public page cache (shishi/pagecache.py): a public page is rendered once per change of the
data, and never served to, or stored from, anyone whose page would be personal."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shishi.commitments import services
from shishi.pagecache import _cacheable_response
from shishi.portal.tests.test_commitments import approved, item, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(tree, users, page_cache):
    programme, made = publish(
        users,
        tree,
        2026,
        [item(tree["dept"], "新建公办幼儿园"), item(tree["east"], "农贸市场改造")],
    )
    return programme


def get(client, path, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    assert response.status_code == 200, path
    return response, len(queries)


def test_a_public_page_is_rendered_once_then_served_with_one_query(client, programme):
    path = reverse("portal:programme", args=[programme.pk])
    first, rendered = get(client, path)
    second, served = get(client, path)
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    assert served == 1 < rendered
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_a_change_reaches_the_public_page_at_once(client, users, programme):
    path = reverse("portal:programme", args=[programme.pk])
    before = get(client, path)[0].content.decode()
    assert "?adjustment=" not in before
    first = programme.commitments.get(number=1)
    approved(users, programme, "cancel", first, {}, "与其他项目重复", "同意")
    response, _queries = get(client, path)
    assert response["X-Page-Cache"] == "miss"
    assert "?adjustment=" in response.content.decode()
    assert get(client, path)[0]["X-Page-Cache"] == "hit"


def test_the_lights_move_with_the_day_even_when_nothing_changes(client, programme):
    path = reverse("portal:programme", args=[programme.pk])
    get(client, path)
    assert get(client, path)[0]["X-Page-Cache"] == "hit"
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        assert get(client, path)[0]["X-Page-Cache"] == "miss"


def test_each_language_has_its_own_copy(client, programme):
    path = reverse("portal:programme", args=[programme.pk])
    chinese = get(client, path)[0]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = get(client, path)[0]
    assert english["X-Page-Cache"] == "miss"
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert get(client, path)[0]["X-Page-Cache"] == "hit"


def test_a_signed_in_user_is_never_served_nor_stores_a_cached_page(
    client, client_for, users, programme
):
    path = reverse("portal:programme", args=[programme.pk])
    signed_in = client_for(users["county_admin"])
    page = get(signed_in, path)[0]
    assert "X-Page-Cache" not in page
    assert "Sign out" in page.content.decode() or "退出" in page.content.decode()
    anonymous = get(Client(), path)[0]
    assert anonymous["X-Page-Cache"] == "miss"
    assert "退出" not in anonymous.content.decode()
    assert "X-Page-Cache" not in get(signed_in, path)[0]


def test_the_api_is_cached_for_anonymous_readers_only(client, programme, users):
    path = f"/api/v1/programmes/{programme.pk}/summary"
    get(client, path)
    assert get(client, path)[0]["X-Page-Cache"] == "hit"
    # A token's request is never answered from the cache, whatever the token.
    response = client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert "X-Page-Cache" not in response


def test_workspace_pages_are_never_cached(client, programme):
    response = client.get(reverse("workspace:home"))
    assert response.status_code == 302
    assert "X-Page-Cache" not in response


def test_a_response_that_sets_a_cookie_or_uses_a_csrf_token_is_not_stored():
    request = RequestFactory().get("/commitments/")
    plain = _response(200)
    assert _cacheable_response(request, plain)
    with_cookie = _response(200)
    with_cookie.set_cookie("x", "1")
    assert not _cacheable_response(request, with_cookie)
    assert not _cacheable_response(request, _response(404))
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    assert not _cacheable_response(request, plain)


def test_the_cache_can_be_turned_off(client, programme, settings):
    settings.PAGE_CACHE = False
    path = reverse("portal:programme", args=[programme.pk])
    get(client, path)
    assert "X-Page-Cache" not in get(client, path)[0]


def _response(status):
    from django.http import HttpResponse

    return HttpResponse("page", status=status)


def test_services_bump_the_generation(users, programme):
    """Every service change appends to the audit log, which is what invalidates the cache."""
    from shishi.pagecache import generation

    before = generation()
    services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="defer",
        commitments=[programme.commitments.get(number=1)],
        payload={"deadline": (timezone.localdate() + dt.timedelta(days=400)).isoformat()},
        reason="资金未到位",
    )
    assert generation() != before


def test_a_remembered_figure_is_counted_again_after_a_change(page_cache, users, programme):
    from shishi.pagecache import remember

    calls = []

    def count():
        calls.append(1)
        return len(calls)

    assert remember("test", ("a",), count) == 1
    assert remember("test", ("a",), count) == 1
    assert remember("test", ("b",), count) == 2
    services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[programme.commitments.get(number=1)],
        payload={},
        reason="重复",
    )
    assert remember("test", ("a",), count) == 3
