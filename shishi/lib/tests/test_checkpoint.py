"""Signed checkpoints without Django: what is signed, and what a verifier refuses."""

import json

import pytest

from shishi.lib import checkpoint as signing
from shishi.lib.hashchain import GENESIS


def made(tmp_path, **changes):
    key = signing.create_key(tmp_path / "key.pem")
    body = signing.body(
        number=3,
        time="2031-05-01T00:00:00+00:00",
        chains=[(7, 4, "b" * 64), (0, 2, "a" * 64)],
        previous=GENESIS,
        key=signing.fingerprint(key.public_key()),
    )
    body.update(changes)
    return key, signing.document(body, signing.sign(key, body), key.public_key())


def test_a_body_lists_chains_in_order_and_counts_their_entries(tmp_path):
    _key, doc = made(tmp_path)
    assert doc["checkpoint"]["chains"] == [
        {"chain": 0, "seq": 2, "hash": "a" * 64},
        {"chain": 7, "seq": 4, "hash": "b" * 64},
    ]
    assert doc["checkpoint"]["entries"] == 6


def test_a_checkpoint_reads_back_under_its_key(tmp_path):
    key, doc = made(tmp_path)
    assert signing.read(json.dumps(doc), key.public_key()) == doc["checkpoint"]


def test_a_changed_body_or_another_key_is_refused(tmp_path):
    key, doc = made(tmp_path)
    doc["checkpoint"]["entries"] = 5
    with pytest.raises(signing.Problem, match="does not hold"):
        signing.read(json.dumps(doc), key.public_key())
    other = signing.create_key(tmp_path / "other.pem")
    _key, doc = made(tmp_path / "again")
    with pytest.raises(signing.Problem, match="names the key"):
        signing.read(json.dumps(doc), other.public_key())


def test_a_file_that_is_no_checkpoint_is_refused_with_a_reason(tmp_path):
    key = signing.create_key(tmp_path / "key.pem")
    for data, reason in [
        ("not json", "not JSON"),
        ("[]", "no 'checkpoint' object"),
        ('{"checkpoint": {"format": "x"}}', "not of the format"),
    ]:
        with pytest.raises(signing.Problem, match=reason):
            signing.read(data, key.public_key())


def test_a_key_is_never_overwritten_and_a_bad_key_file_is_named(tmp_path):
    path = tmp_path / "key.pem"
    signing.create_key(path)
    with pytest.raises(signing.KeyProblem, match="already exists"):
        signing.create_key(path)
    (tmp_path / "bad.pem").write_text("nonsense")
    with pytest.raises(signing.KeyProblem, match="holds no usable private key"):
        signing.load_key(tmp_path / "bad.pem")
    with pytest.raises(signing.KeyProblem, match="there is no signing key"):
        signing.load_key(tmp_path / "none.pem")


def test_the_public_key_reads_from_its_pem_or_from_the_private_key(tmp_path):
    key = signing.create_key(tmp_path / "key.pem")
    pem = signing.public_pem(key.public_key()).encode()
    for data in (pem, (tmp_path / "key.pem").read_bytes()):
        public = signing.load_public_key(data, "given")
        assert signing.fingerprint(public) == signing.fingerprint(key.public_key())
    with pytest.raises(signing.KeyProblem, match="no PEM public key"):
        signing.load_public_key(b"nonsense", "given")
