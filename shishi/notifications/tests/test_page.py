"""The notifications page, the count in the navigation, and marking read."""

import pytest
from django.urls import reverse

from shishi.notifications.models import Notification
from shishi.notifications.notices import TEXT
from shishi.notifications.services import notify
from shishi.testing import english

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


def message(user, text, **kwargs):
    return notify(user, TEXT, {"text": text}, **kwargs)


def test_the_page_asks_for_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={URL}"


def test_the_page_lists_the_users_notifications_newest_first(users, client_for):
    first = message(users["unit_officer"], "退回：照片看不清", url="/work/")
    second = message(users["unit_officer"], "已采纳")
    message(users["east_admin"], "别人的通知")
    response = english(client_for(users["unit_officer"])).get(URL)
    assert response.status_code == 200
    assert [n.pk for n in response.context["page"]] == [second.pk, first.pk]
    assert "退回：照片看不清" in response.text and 'href="/work/"' in response.text
    assert "别人的通知" not in response.text
    assert "2 unread notifications." in response.text


def test_the_navigation_shows_the_count_waiting(users, client_for):
    client = english(client_for(users["cadre"]))
    assert f'href="{URL}">Notifications</a>' in client.get(reverse("workspace:home")).text
    message(users["cadre"], "一")
    message(users["cadre"], "二")
    html = client.get(reverse("workspace:home")).text
    assert f'href="{URL}">Notifications (2 new)</a>' in html


def test_marking_all_read_clears_the_count(users, client_for):
    for text in ["一", "二", "三"]:
        message(users["cadre"], text)
    other = message(users["east_admin"], "别人的")
    client = english(client_for(users["cadre"]))
    response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"] == URL
    assert not Notification.objects.filter(user=users["cadre"], read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None
    page = client.get(URL)
    assert "3 notifications marked read." in page.text
    assert page.context["unread"] == 0
    assert ">Notifications</a>" in page.text and "new)</a>" not in page.text
    assert "Mark all as read" not in page.text


def test_marking_one_read_leaves_the_others(users, client_for):
    one = message(users["cadre"], "一")
    two = message(users["cadre"], "二")
    client_for(users["cadre"]).post(URL, {"ids": [str(one.pk)]})
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.read_at is not None and two.read_at is None


def test_no_one_marks_anothers_notifications_read(users, client_for):
    theirs = message(users["east_admin"], "别人的")
    english(client_for(users["cadre"])).post(URL, {"ids": [str(theirs.pk)]})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_nonsense_ids_mark_nothing(users, client_for):
    note = message(users["cadre"], "一")
    response = client_for(users["cadre"]).post(URL, {"ids": ["abc", "-1", "9" * 30]})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.read_at is None


def test_a_user_without_notifications_is_told_so(users, client_for):
    response = english(client_for(users["nobody"])).get(URL)
    assert response.status_code == 200
    assert "No notifications yet." in response.text


def test_the_page_costs_the_same_queries_with_few_and_many_notifications(
    users, client_for, django_assert_max_num_queries
):
    client = client_for(users["cadre"])
    counts = []
    for n in (2, 80):
        for i in range(n):
            message(users["cadre"], f"通知{i}")
        with django_assert_max_num_queries(8) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert len(response.context["page"]) == 50
    assert counts[0] == counts[1]
