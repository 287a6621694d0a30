"""The calendar page: the sysadmin sets days, others with a view of the tree read them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shishi.audit.models import Entry
from shishi.testing import english
from shishi.workdays import services
from shishi.workdays.models import Day

pytestmark = pytest.mark.django_db

URL = reverse("workdays:calendar")
MONDAY = dt.date(2031, 3, 10)


@pytest.fixture(autouse=True)
def fresh_calendar():
    services.forget()
    yield
    services.forget()


def test_the_sysadmin_marks_a_date_off_through_the_page(users, client_for):
    client = english(client_for(users["sysadmin"]))
    response = client.post(URL, {"date": "2031-03-10", "kind": "off", "name": "县庆"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2031"
    assert not services.calendar().is_workday(MONDAY)
    page = client.get(response["Location"])
    assert "Saved 2031-03-10." in page.text
    assert "2031-03-10" in page.text and "县庆" in page.text and "day off" in page.text
    assert page.context["off"] == 1


def test_a_day_can_be_made_a_working_day_and_then_normal_again(users, client_for):
    client = client_for(users["sysadmin"])
    client.post(URL, {"date": "2031-03-08", "kind": "work", "name": "调休上班"})
    assert services.calendar().is_workday(dt.date(2031, 3, 8))
    client.post(URL, {"date": "2031-03-08", "kind": "normal", "name": ""})
    assert not Day.objects.exists()
    assert not services.calendar().is_workday(dt.date(2031, 3, 8))


def test_a_bad_date_is_refused_and_nothing_is_written(users, client_for):
    client = english(client_for(users["sysadmin"]))
    before = Entry.objects.count()
    response = client.post(URL, {"date": "2031-02-30", "kind": "off"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.text
    assert not Day.objects.exists()
    assert Entry.objects.count() == before


def test_a_name_too_long_is_refused_and_nothing_is_written(users, client_for):
    client = english(client_for(users["sysadmin"]))
    response = client.post(URL, {"date": "2031-03-10", "kind": "off", "name": "节" * 51})
    assert response.status_code == 200
    assert "at most 50 characters" in response.text
    assert not Day.objects.exists()


@pytest.mark.parametrize("role", ["county_admin", "auditor", "unit_officer"])
def test_others_who_see_the_tree_read_the_calendar_without_the_form(users, client_for, role):
    services.set_day(None, MONDAY, is_workday=False, name="县庆")
    response = client_for(users[role]).get(URL, {"year": 2031})
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "县庆" in response.text
    assert 'name="kind"' not in response.text


@pytest.mark.parametrize("role", ["county_admin", "auditor"])
def test_others_cannot_change_the_calendar(users, client_for, role):
    response = client_for(users[role]).post(URL, {"date": "2031-03-10", "kind": "off"})
    assert response.status_code == 403
    assert not Day.objects.exists()


def test_a_user_without_roles_cannot_open_the_calendar(users, client_for):
    assert client_for(users["nobody"]).get(URL).status_code == 403


def test_the_calendar_asks_for_sign_in(client, db):
    assert client.get(URL).status_code == 302


def test_a_nonsense_year_shows_this_year(users, client_for):
    response = client_for(users["auditor"]).get(URL, {"year": "1; DROP"})
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year


def test_the_sysadmin_has_the_calendar_in_the_navigation(users, client_for):
    response = client_for(users["sysadmin"]).get(reverse("workspace:home"))
    assert f'href="{URL}"' in response.text
    response = client_for(users["auditor"]).get(reverse("workspace:home"))
    assert f'href="{URL}"' not in response.text


def test_the_page_costs_the_same_queries_with_few_and_many_days(
    users, client_for, django_assert_max_num_queries
):
    client = client_for(users["sysadmin"])
    counts = []
    for first, last in [(1, 3), (3, 60)]:
        for i in range(first, last):
            services.set_day(
                users["sysadmin"], dt.date(2031, 1, 1) + dt.timedelta(days=i), is_workday=False
            )
        # Seven for the page; each edit raised the calendar's version, so the page reads the
        # version, then the days and the deadline policies again.
        with django_assert_max_num_queries(10) as ctx:
            response = client.get(URL, {"year": 2031})
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert len(response.context["days"]) == 59
    assert counts[0] == counts[1]
