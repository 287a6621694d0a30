"""Encryption at rest for personal data, and the keyed digest used to look a value up."""

import pytest

from shishi.lib.crypto import Box

KEY = "k" * 40


def test_a_value_survives_encryption_and_decryption():
    box = Box(KEY)
    token = box.encrypt("13812345678")
    assert "13812345678" not in token
    assert box.decrypt(token) == "13812345678"


def test_unicode_survives_encryption():
    box = Box(KEY)
    assert box.decrypt(box.encrypt("海南省澄迈县 18号")) == "海南省澄迈县 18号"


def test_encrypting_twice_gives_different_tokens():
    box = Box(KEY)
    assert box.encrypt("13812345678") != box.encrypt("13812345678")


def test_empty_values_stay_empty():
    box = Box(KEY)
    assert box.encrypt("") == ""
    assert box.decrypt("") == ""
    assert box.digest("") == ""


def test_the_digest_is_stable_for_one_key_and_differs_between_keys():
    one, same, other = Box(KEY), Box(KEY), Box("o" * 40)
    digest = one.digest("13812345678")
    assert digest == same.digest("13812345678")
    assert len(digest) == 64
    assert digest != one.digest("13812345679")
    assert digest != other.digest("13812345678")


def test_the_digest_is_not_a_plain_hash_of_the_value():
    import hashlib

    assert Box(KEY).digest("13812345678") != hashlib.sha256(b"13812345678").hexdigest()


def test_another_key_cannot_decrypt_and_says_why():
    token = Box(KEY).encrypt("13812345678")
    with pytest.raises(ValueError, match="wrong FIELD_ENCRYPTION_KEY or damaged value"):
        Box("o" * 40).decrypt(token)


def test_a_damaged_token_cannot_be_decrypted():
    box = Box(KEY)
    token = box.encrypt("13812345678")
    damaged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ValueError, match="cannot decrypt"):
        box.decrypt(damaged)
    with pytest.raises(ValueError, match="cannot decrypt"):
        box.decrypt("not a token at all")


def test_the_fingerprint_names_the_key_and_reveals_nothing_used_to_encrypt():
    import base64
    import hashlib

    box = Box(KEY)
    assert box.fingerprint == Box(KEY).fingerprint
    assert box.fingerprint != Box("m" * 40).fingerprint
    assert KEY not in box.fingerprint
    # Not the encryption key, the lookup key or the signing key: each is derived with its own label.
    for label in (
        b"shishi-field-encryption\n",
        b"shishi-field-digest\n",
        b"shishi-backup-signature\n",
    ):
        derived = hashlib.sha256(label + KEY.encode()).digest()
        assert box.fingerprint not in (derived.hex(), base64.urlsafe_b64encode(derived).decode())


def test_a_signature_holds_only_for_the_same_data_and_key():
    box = Box(KEY)
    signature = box.sign(b'{"a": 1}')
    assert box.verify(b'{"a": 1}', signature)
    assert not box.verify(b'{"a": 2}', signature)
    assert not Box("m" * 40).verify(b'{"a": 1}', signature)
