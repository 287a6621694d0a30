"""The public front page: counties and their size, in Chinese by default, nothing about people."""

import pytest
from django.urls import reverse

from shishi.lib.masking import mask_phone
from shishi.orgs import services
from shishi.orgs.models import OrgKind, Person
from shishi.testing import sign_in_second_factor

pytestmark = pytest.mark.django_db

HOME = reverse("portal:home")


def add_county(tree, number: int, towns: int) -> None:
    county = services.create_org(
        None,
        parent=tree["city"],
        kind=OrgKind.COUNTY,
        name=f"第{number}县",
        code=f"9901{number:02d}000000",
    )
    for t in range(towns):
        town = services.create_org(
            None,
            parent=county,
            kind=OrgKind.TOWN,
            name=f"第{number}县{t}镇",
            code=f"9901{number:02d}{100 + t:03d}000",
        )
        services.create_person(None, org=town, name=f"镇长{number}{t}", phone="13700000000")


def test_the_home_page_lists_counties_with_their_counts(client, tree):
    response = client.get(HOME)
    assert response.status_code == 200
    [(county, counts)] = response.context["rows"]
    assert county == tree["county"]
    assert (counts["towns"], counts["villages"], counts["branches"], counts["departments"]) == (
        2,
        3,
        3,
        1,
    )
    assert "测试县" in response.text and "云港市" in response.text


def test_the_home_page_leaves_out_inactive_counties(client, tree):
    services.update_org(None, tree["county"], is_active=False)
    response = client.get(HOME)
    assert response.context["rows"] == []
    assert "测试县" not in response.text


def test_the_home_page_shows_no_person(client, users):
    response = client.get(HOME)
    assert response.status_code == 200
    people = list(Person.objects.all())
    assert len(people) == 12
    for person in people:
        assert person.name not in response.text
        if person.phone:
            assert person.phone not in response.text
            assert mask_phone(person.phone) not in response.text


def test_the_home_page_is_chinese_by_default(client, tree):
    response = client.get(HOME)
    assert '<html lang="zh-hans">' in response.text


def test_a_browser_set_to_english_still_gets_chinese_until_someone_chooses(client, tree):
    response = client.get(HOME, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-hans">' in response.text


def test_the_language_switcher_turns_the_site_english(client, tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": HOME})
    assert response.status_code == 302
    assert response["Location"] == HOME
    page = client.get(HOME)
    assert '<html lang="en">' in page.text
    assert "Practical matters for the people" in page.text
    client.post(reverse("set_language"), {"language": "zh-hans", "next": HOME})
    assert '<html lang="zh-hans">' in client.get(HOME).text


def test_the_language_switcher_is_on_every_page(client, users, tree):
    switcher = f'action="{reverse("set_language")}"'
    assert switcher in client.get(HOME).text
    assert switcher in client.get(reverse("login")).text
    assert switcher in client.get("/no-such-page/").text
    client.force_login(users["auditor"], backend="shishi.orgs.backends.UsernameOrPhoneBackend")
    sign_in_second_factor(client, users["auditor"])
    for url in [
        reverse("workspace:home"),
        reverse("orgs:detail", args=[tree["county"].pk]),
        reverse("orgs:search"),
        reverse("orgs:person", args=[users["cadre"].person.pk]),
        reverse("workspace:audit"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert switcher in response.text, url
        assert 'name="language" value="en"' in response.text, url


def test_the_home_page_costs_the_same_with_one_and_many_counties(
    client, tree, django_assert_max_num_queries
):
    counts = []
    for number, towns in [(2, 1), (3, 6), (4, 6), (5, 6)]:
        add_county(tree, number, towns)
        with django_assert_max_num_queries(2) as ctx:
            response = client.get(HOME)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert len(response.context["rows"]) == 5
    assert len(set(counts)) == 1
