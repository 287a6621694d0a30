"""Static files in production: collectstatic names each by a hash of its content and gzips it,
pages link the hashed names, and those are served to be kept for a year.

The rest of the suite uses plain names (conftest.py); these tests switch to the storage the
settings name, collecting into a directory of their own.
"""

import gzip
import json
import re

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings

import shishi.settings

YEAR = 365 * 24 * 3600


PRODUCTION = shishi.settings.STORAGES["staticfiles"]


@pytest.fixture(scope="module")
def collected_once(tmp_path_factory):
    """A STATIC_ROOT filled by collectstatic with production's storage, once for this file."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(
        STATIC_ROOT=root, STORAGES={**django_settings.STORAGES, "staticfiles": PRODUCTION}
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def collected(settings, collected_once):
    """Production's storage, reading the manifest in ``collected_once``."""
    settings.STATIC_ROOT = collected_once
    settings.STORAGES = {**settings.STORAGES, "staticfiles": PRODUCTION}
    return collected_once


def hashed(root, name: str) -> str:
    return json.loads((root / "staticfiles.json").read_text())["paths"][name]


def test_collectstatic_names_each_file_by_its_content_and_gzips_it(collected):
    name = hashed(collected, "css/shishi.css")
    assert re.fullmatch(r"css/shishi\.[0-9a-f]{12}\.css", name)
    content = (collected / name).read_bytes()
    assert content == (collected / "css/shishi.css").read_bytes()
    assert gzip.decompress((collected / f"{name}.gz").read_bytes()) == content


def test_pages_link_the_hashed_names(collected, client, db):
    page = client.get("/").text
    assert f'href="/static/{hashed(collected, "css/shishi.css")}"' in page
    assert f'src="/static/{hashed(collected, "vendor/htmx.min.js")}"' in page
    assert 'href="/static/css/shishi.css"' not in page


def test_the_api_docs_page_links_the_hashed_names_too(collected, client, db):
    page = client.get("/api/v1/docs").text
    assert f"/static/{hashed(collected, 'ninja/swagger-ui-bundle.js')}" in page


def test_a_hashed_file_is_served_to_be_kept_for_a_year(collected, client):
    response = client.get(f"/static/{hashed(collected, 'css/shishi.css')}")
    assert response.status_code == 200
    cache = response["Cache-Control"]
    assert "immutable" in cache
    assert int(re.search(r"max-age=(\d+)", cache)[1]) >= YEAR


def test_a_plain_name_is_not_kept_for_a_year(collected, client):
    """Its content changes with a release while its name stays."""
    response = client.get("/static/css/shishi.css")
    assert response.status_code == 200
    assert "immutable" not in response.get("Cache-Control", "")
