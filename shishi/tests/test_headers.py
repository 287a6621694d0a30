"""Headers: a Content-Security-Policy with no inline script or style on every page (kept with a
cached public page), and Cache-Control: private, no-store on everything a signed-in user or an
API token receives, while public pages keep their public caching."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

import shishi
from shishi.testing import commitment_data, make_programme

pytestmark = pytest.mark.django_db

PRIVATE = "private, no-store"


@pytest.fixture
def programme(tree):
    return make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建公办幼儿园")])


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


# --- Content-Security-Policy ----------------------------------------------------------------------


def test_a_public_page_forbids_inline_script_and_style(client, programme):
    found = directives(client.get(reverse("portal:programme", args=[programme.pk])))
    assert found["script-src"] == "'self'"
    assert found["style-src"] == "'self'"
    assert found["default-src"] == "'self'"
    assert found["object-src"] == "'none'"
    assert found["frame-ancestors"] == "'none'"
    assert found["form-action"] == "'self'"
    assert "unsafe" not in " ".join(found.values())


def test_a_page_served_from_the_page_cache_carries_the_policy(client, programme, page_cache):
    url = reverse("portal:programme", args=[programme.pk])
    first = client.get(url)
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit"
    assert again["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_signed_in_pages_and_error_pages_carry_the_policy(client_for, users):
    client = client_for(users["county_admin"])
    assert "script-src 'self'" in client.get(reverse("workspace:home"))["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


def test_htmx_is_told_not_to_add_its_inline_style_nor_to_evaluate_code(client):
    page = client.get(reverse("login")).text
    assert '<meta name="htmx-config"' in page
    assert '"includeIndicatorStyles":false' in page
    assert '"allowEval":false' in page


# What the policy would refuse, were it in a template: a <style> element, a style attribute, a
# script element with code in it, an event handler attribute, a javascript: link.
INLINE = re.compile(
    r"<style\b|\sstyle\s*=|<script\b(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I
)


def test_no_template_holds_inline_script_or_style():
    root = Path(shishi.__file__).parent
    templates = [p for p in root.rglob("templates/**/*.html")]
    assert len(templates) > 20
    offending = {
        str(p.relative_to(root)): INLINE.findall(p.read_text(encoding="utf-8")) for p in templates
    }
    assert {name: hits for name, hits in offending.items() if hits} == {}


def test_the_inline_check_sees_what_it_looks_for():
    for sample in [
        "<style>p{}</style>",
        '<p style="color:red">',
        "<script>alert(1)</script>",
        '<button onclick="x()">',
        '<a href="javascript:x()">',
    ]:
        assert INLINE.search(sample), sample
    for sample in ['<script src="/static/x.js" defer></script>', '<p class="styled">']:
        assert not INLINE.search(sample), sample


# --- Cache-Control --------------------------------------------------------------------------------


def test_a_signed_in_page_is_private_and_not_stored(client_for, users):
    response = client_for(users["county_admin"]).get(reverse("workspace:home"))
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_an_htmx_fragment_for_a_signed_in_user_is_private(client_for, users):
    response = client_for(users["county_admin"]).get(
        reverse("notifications:list"), headers={"HX-Request": "true"}
    )
    assert response["Cache-Control"] == PRIVATE


def test_an_export_of_people_is_private(client_for, users):
    response = client_for(users["county_admin"]).get(reverse("orgs:export"))
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_a_ledger_export_is_private(client_for, users, programme):
    response = client_for(users["county_admin"]).get(
        reverse("commitments:export", args=[programme.pk, "csv"])
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_a_public_page_seen_by_a_signed_in_user_is_private(client_for, users, programme):
    response = client_for(users["county_admin"]).get(
        reverse("portal:programme", args=[programme.pk])
    )
    assert response["Cache-Control"] == PRIVATE


def test_a_public_page_for_a_visitor_keeps_public_caching(client, programme, page_cache):
    url = reverse("portal:programme", args=[programme.pk])
    first, again = client.get(url), client.get(url)
    assert "private" not in first.get("Cache-Control", "")
    assert again["X-Page-Cache"] == "hit"


def test_an_api_answer_to_a_token_is_private(client, programme, users):
    from shishi.api.services import create_token

    plain = create_token(users["unit_officer"], users["unit_officer"])[1]
    response = client.get("/api/v1/reports", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


def test_a_public_api_read_is_not_private(client, programme):
    response = client.get("/api/v1/programmes")
    assert response.status_code == 200
    assert "private" not in response.get("Cache-Control", "")
