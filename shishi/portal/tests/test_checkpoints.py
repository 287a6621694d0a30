"""The audit log's checkpoints in public: listed without an account, each saved as a signed file,
the public key beside them, and nothing of the log's entries."""

import json

import pytest
import time_machine
from django.urls import reverse

from shishi.audit import checkpoints
from shishi.audit.models import Checkpoint
from shishi.audit.services import record
from shishi.lib import checkpoint as signing
from shishi.orgs.models import Person
from shishi.testing import english, queries_at_two_sizes

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:checkpoints")


@pytest.fixture
def key():
    return checkpoints.ensure_key()


def grow(tree, n: int) -> list[Checkpoint]:
    """``n`` more checkpoints, each after a new entry in the county's chain."""
    made = []
    for i in range(n):
        record(None, "orgs.test.noted", tree["east"], data={"n": i})
        made.append(checkpoints.write_checkpoint()[0])
    return made


def test_the_page_lists_checkpoints_newest_first_with_the_key_fingerprint(client, tree, key):
    first, second = grow(tree, 2)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert [c.number for c in response.context["rows"]] == [2, 1]
    fp = signing.fingerprint(key.public_key())
    assert signing.grouped(fp) in response.text
    assert second.digest[:16] in response.text and first.digest[:16] in response.text
    assert reverse("portal:checkpoint_file", args=[2]) in response.text
    assert reverse("portal:audit_public_key") in response.text
    assert "审计日志检查点" in response.text  # Chinese first


def test_the_page_reads_in_english_too(client, tree, key):
    grow(tree, 1)
    response = english(client).get(PAGE)
    assert "Audit log checkpoints" in response.text
    assert "How to check a checkpoint" in response.text


def test_the_page_says_so_when_nothing_has_been_signed_yet(client, db):
    response = english(client).get(PAGE)
    assert response.status_code == 200
    assert "No checkpoint has been signed yet." in response.text
    assert client.get(reverse("portal:audit_public_key")).status_code == 404


def test_older_checkpoints_are_a_page_away_by_number(client, tree, key, monkeypatch):
    monkeypatch.setattr("shishi.portal.audit.PER_PAGE", 2)
    grow(tree, 3)
    first = client.get(PAGE)
    assert [c.number for c in first.context["rows"]] == [3, 2]
    assert 'href="?before=2"' in first.text
    older = client.get(PAGE, {"before": 2})
    assert [c.number for c in older.context["rows"]] == [1]
    assert older.context["older"] is None


def test_a_checkpoint_downloads_as_the_signed_file_verify_audit_takes(client, tree, key, tmp_path):
    checkpoint = grow(tree, 1)[0]
    response = client.get(reverse("portal:checkpoint_file", args=[checkpoint.number]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert 'filename="checkpoint-000001.json"' in response["Content-Disposition"]
    assert signing.read(response.content, key.public_key()) == checkpoint.body()
    pem = client.get(reverse("portal:audit_public_key"))
    assert pem.status_code == 200
    published = signing.load_public_key(pem.content, "the published key")
    assert signing.fingerprint(published) == checkpoint.key
    assert signing.read(response.content, published) == checkpoint.body()


def test_a_checkpoint_that_does_not_exist_is_not_found(client, tree, key):
    grow(tree, 1)
    assert client.get(reverse("portal:checkpoint_file", args=[2])).status_code == 404


def test_the_open_data_lists_every_checkpoint_with_its_file(client, tree, key):
    with time_machine.travel("2031-05-01 08:00:00+08:00", tick=False):
        first, second = grow(tree, 2)
    response = client.get(reverse("portal:checkpoints_data"))
    assert response.status_code == 200
    data = response.json()
    assert data["public_key"]["fingerprint"] == signing.fingerprint(key.public_key())
    assert [c["number"] for c in data["checkpoints"]] == [1, 2]
    row = data["checkpoints"][1]
    assert row == {
        "number": 2,
        "time": "2031-05-01T00:00:00+00:00",
        "entries": second.entries,
        "chains": 2,
        "previous": first.digest,
        "key": second.key,
        "digest": second.digest,
        "file": "http://testserver" + reverse("portal:checkpoint_file", args=[2]),
    }
    assert signing.digest(json.loads(client.get(row["file"]).content)["checkpoint"]) == (
        second.digest
    )


def test_no_checkpoint_page_or_file_shows_what_the_log_holds(client, tree, users, key):
    """Hashes and counts only: not a name, a login or an action from the entries they sign."""
    grow(tree, 1)
    urls = [
        PAGE,
        reverse("portal:checkpoint_file", args=[1]),
        reverse("portal:checkpoints_data"),
        reverse("portal:audit_public_key"),
    ]
    texts = [client.get(url).content.decode() for url in urls]
    secrets = [
        "orgs.test.noted",
        "东镇",
        "county_admin",
        *Person.objects.values_list("name", flat=True),
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_the_front_page_links_the_checkpoints(client, db):
    assert PAGE in client.get(reverse("portal:home")).text


def test_the_page_costs_the_same_queries_however_many_checkpoints(client, tree, key):
    queries_at_two_sizes(lambda n: grow(tree, n), lambda: client.get(PAGE), ceiling=3)
