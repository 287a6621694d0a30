"""The public page cache (shishi/pagecache.py): a public page is rendered once per change of what
it shows, kept per county, and never served to, or stored from, anyone whose page would be
personal."""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shishi.commitments import services
from shishi.orgs import services as orgs
from shishi.orgs.models import OrgKind
from shishi.pagecache import _cacheable_response, generation, remember, remember_each
from shishi.testing import approved, commitment_data, make_programme, number
from shishi.workdays.services import set_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(tree, page_cache):
    return make_programme(
        tree["county"],
        2026,
        [
            commitment_data(tree["dept"], "新建公办幼儿园"),
            commitment_data(tree["east"], "农贸市场改造"),
        ],
    )


@pytest.fixture
def elsewhere(tree, page_cache):
    """A second county of the same city, with its own published list."""
    county = orgs.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="北县", code="990102000000"
    )
    unit = orgs.create_org(
        None, parent=county, kind=OrgKind.DEPARTMENT, name="北县教育局", code="D990102001"
    )
    return make_programme(county, 2026, [commitment_data(unit, "北县学校改造")])


def get(client, path, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    assert response.status_code == 200, path
    return response, len(queries)


def state(client, path) -> str:
    return get(client, path)[0]["X-Page-Cache"]


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
    approved(
        users["unit_officer"], users["county_admin"], programme, "cancel", [number(programme, 1)]
    )
    response, _queries = get(client, path)
    assert response["X-Page-Cache"] == "miss"
    assert "?adjustment=" in response.content.decode()
    assert state(client, path) == "hit"


def test_a_process_trusts_the_generation_it_read_for_its_window_then_reads_it_again(
    client, users, programme, settings
):
    settings.PAGE_CACHE_FRESH_MS = 60_000
    path = reverse("portal:programme", args=[programme.pk])
    assert state(client, path) == "miss"
    second, served = get(client, path)
    assert second["X-Page-Cache"] == "hit" and served == 0  # not even the generation's query
    approved(
        users["unit_officer"], users["county_admin"], programme, "cancel", [number(programme, 1)]
    )
    # Within the window the change has not reached this process yet: the copy it has.
    assert "?adjustment=" not in get(client, path)[0].content.decode()
    settings.PAGE_CACHE_FRESH_MS = 0  # the window over: the generation is read again
    fresh, _queries = get(client, path)
    assert fresh["X-Page-Cache"] == "miss" and "?adjustment=" in fresh.content.decode()


def test_a_change_in_one_county_leaves_another_countys_pages_in_place(
    client, users, programme, elsewhere
):
    ours = [
        reverse("portal:programme", args=[programme.pk]),
        reverse("portal:commitment", args=[programme.pk, 1]),
        f"/api/v1/programmes/{programme.pk}/summary",
        f"/api/v1/commitments?programme={programme.pk}",
        f"/api/v1/commitments/{number(programme, 1).pk}",
    ]
    theirs = [
        reverse("portal:programme", args=[elsewhere.pk]),
        reverse("portal:changes", args=[elsewhere.pk]),
        f"/api/v1/programmes/{elsewhere.pk}/summary",
        f"/api/v1/commitments?programme={elsewhere.pk}",
    ]
    spanning = [reverse("portal:programmes"), reverse("portal:home"), "/api/v1/programmes"]
    for path in ours + theirs + spanning:
        assert state(client, path) == "miss", path
    approved(
        users["unit_officer"], users["county_admin"], programme, "cancel", [number(programme, 1)]
    )
    assert [state(client, p) for p in theirs] == ["hit"] * len(theirs)
    assert [state(client, p) for p in ours] == ["miss"] * len(ours)
    assert [state(client, p) for p in spanning] == ["miss"] * len(spanning)
    assert [state(client, p) for p in ours + spanning] == ["hit"] * len(ours + spanning)


def test_a_change_the_public_never_sees_flushes_nothing(client, client_for, users, tree, programme):
    paths = [reverse("portal:programme", args=[programme.pk]), reverse("portal:programmes")]
    for path in paths:
        get(client, path)
    # A proposal (not public until approved), a refused request, an export, a token.
    services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="defer",
        commitments=[number(programme, 1)],
        payload={"deadline": (timezone.localdate() + dt.timedelta(days=400)).isoformat()},
        reason="资金未到位",
    )
    officer = client_for(users["east_admin"])
    refused = officer.get(reverse("orgs:detail", args=[tree["west_village"].pk]))
    assert refused.status_code == 404
    admin = client_for(users["county_admin"])
    exported = admin.get(reverse("commitments:export", args=[programme.pk, "csv"]))
    assert exported.status_code == 200
    b"".join(exported.streaming_content)
    from shishi.api.services import create_token

    create_token(users["unit_officer"], users["unit_officer"], name="手机")
    anonymous = Client()
    assert [state(anonymous, p) for p in paths] == ["hit", "hit"]


def test_the_calendar_belongs_to_every_county(client, users, programme, elsewhere):
    paths = [reverse("portal:programme", args=[p.pk]) for p in (programme, elsewhere)]
    for path in paths:
        get(client, path)
    set_day(users["sysadmin"], timezone.localdate() + dt.timedelta(days=3), is_workday=False)
    assert [state(client, p) for p in paths] == ["miss", "miss"]


def test_the_lights_move_with_the_day_even_when_nothing_changes(client, programme):
    path = reverse("portal:programme", args=[programme.pk])
    get(client, path)
    assert state(client, path) == "hit"
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        assert state(client, path) == "miss"


def test_each_language_has_its_own_copy(client, programme):
    path = reverse("portal:programme", args=[programme.pk])
    chinese = get(client, path)[0]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = get(client, path)[0]
    assert english["X-Page-Cache"] == "miss"
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert state(client, path) == "hit"


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
    assert state(client, path) == "hit"
    # A token's request is never answered from the cache, whatever the token.
    response = client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert "X-Page-Cache" not in response


def test_only_pages_marked_public_are_cached(client, programme):
    response = client.get(reverse("workspace:home"))
    assert response.status_code == 302
    assert "X-Page-Cache" not in response
    # The open data streams: never stored.
    data = client.get(reverse("portal:data", args=[programme.pk, "csv"]))
    assert data.status_code == 200 and "X-Page-Cache" not in data


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


def test_a_public_change_moves_its_countys_generation_and_the_whole(users, programme, elsewhere):
    ours, theirs, whole = (
        generation(programme.county_id),
        generation(elsewhere.county_id),
        generation(),
    )
    report = services.submit_progress(
        users["unit_officer"], number(programme, 1), text="已开工", percent_complete=10
    )
    # Awaiting review: nothing public yet.
    assert (generation(programme.county_id), generation()) == (ours, whole)
    services.review_progress(users["county_admin"], report, accept=True)
    assert generation(programme.county_id) != ours
    assert generation() != whole
    assert generation(elsewhere.county_id) == theirs


def test_a_remembered_figure_is_counted_again_after_a_change(page_cache, users, programme):
    calls = []

    def count():
        calls.append(1)
        return len(calls)

    assert remember("test", ("a",), count) == 1
    assert remember("test", ("a",), count) == 1
    assert remember("test", ("b",), count) == 2
    approved(
        users["unit_officer"], users["county_admin"], programme, "cancel", [number(programme, 1)]
    )
    assert remember("test", ("a",), count) == 3


def test_a_figure_per_county_is_counted_again_only_for_the_county_that_changed(
    page_cache, tree, programme, elsewhere
):
    asked = []

    def compute(ids):
        asked.append(sorted(ids))
        return {i: len(asked) for i in ids}

    ours, theirs = programme.county_id, elsewhere.county_id
    assert remember_each("test", [ours, theirs], compute) == {ours: 1, theirs: 1}
    assert remember_each("test", [ours, theirs], compute) == {ours: 1, theirs: 1}
    orgs.update_org(None, tree["east"], name="东镇新")  # a public change in our county only
    assert remember_each("test", [ours, theirs], compute) == {ours: 2, theirs: 1}
    assert asked == [sorted([ours, theirs]), [ours]]


def test_the_front_page_after_one_countys_change_counts_only_that_county(
    client, tree, programme, elsewhere
):
    first, _n = get(client, "/")
    assert "测试县" in first.content.decode() and "北县" in first.content.decode()
    orgs.create_org(
        None, parent=tree["east_village"], kind=OrgKind.BRANCH, name="东一村新支部",
        code="B9901011002019",
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/")
    assert again["X-Page-Cache"] == "miss"
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counted) == 1
    counties = re.search(r'"county_id" IN \(([^)]*)\)', counted[0]).group(1)
    assert counties.replace(" ", "").split(",") == [str(tree["county"].pk)]
