"""The workspace home: the signed-in user's roles and their part of the organisation."""

import pytest
from django.conf import settings
from django.urls import reverse

from shishi.orgs.models import RoleKind
from shishi.testing import add_villages
from shishi.workdays.services import calendar

pytestmark = pytest.mark.django_db

HOME = reverse("workspace:home")


def test_the_workspace_asks_for_sign_in(client, db):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={HOME}"


def test_the_workspace_shows_the_users_roles_and_scope(users, tree, client_for):
    client = client_for(users["east_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(HOME)
    assert response.status_code == 200
    assert [(r.kind, r.org) for r in response.context["roles"]] == [
        (RoleKind.TOWN_ADMIN, tree["east"])
    ]
    assert "town administrator" in response.text
    assert "东镇" in response.text
    assert "Welcome, 测试east_admin" in response.text
    assert sum(n for _label, n in response.context["figures"]) == 4
    assert response.context["people"] == 4


def test_a_role_that_cannot_see_people_gets_no_people_count(users, client_for):
    response = client_for(users["cadre"]).get(HOME)
    assert response.context["people"] is None
    assert sum(n for _label, n in response.context["figures"]) == 1


def test_a_user_without_roles_is_told_how_to_get_one(users, client_for):
    client = client_for(users["nobody"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(HOME)
    assert response.context["roles"] == []
    assert response.context["figures"] == []
    assert "You have no role yet" in response.text


@pytest.mark.parametrize(
    ("role", "orgs", "audit"),
    [("auditor", True, True), ("east_admin", True, False), ("nobody", False, False)],
)
def test_the_navigation_offers_only_what_the_roles_allow(users, client_for, role, orgs, audit):
    response = client_for(users[role]).get(HOME)
    assert (f'href="{reverse("orgs:tree")}"' in response.text) is orgs
    assert (f'href="{reverse("workspace:audit")}"' in response.text) is audit


def test_the_workspace_is_chinese_by_default_and_english_on_request(users, client_for):
    client = client_for(users["east_admin"])
    assert '<html lang="zh-hans">' in client.get(HOME).text
    client.post(reverse("set_language"), {"language": "en", "next": HOME})
    response = client.get(HOME)
    assert '<html lang="en">' in response.text
    assert "Your roles" in response.text


def test_the_workspace_has_the_language_switcher(users, client_for):
    response = client_for(users["cadre"]).get(HOME)
    assert f'action="{reverse("set_language")}"' in response.text


def test_the_workspace_costs_the_same_whatever_the_size_of_the_scope(
    users, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["county_admin"])
    calendar()  # each process keeps the calendar; a request then only checks its version
    counts = []
    for first, last in [(0, 3), (3, 40)]:
        add_villages(tree["west"], first, last)
        # Nine for the page (one counts the notifications waiting, for the navigation), four
        # for the commitments panel: the calendar's version, the lights' counts, the reports to
        # review, the adjustments to decide.
        with django_assert_max_num_queries(13) as ctx:
            response = client.get(HOME)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert response.context["people"] == 52
    assert counts[0] == counts[1]
