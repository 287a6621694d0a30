"""Signed checkpoints of the audit log's heads, kept free of Django so that anyone can check one.

A checkpoint says, under a signature: at this time, each chain of the log ended at this position
with this hash. The hash of an entry covers every entry before it, so a log that still has those
hashes at those positions is the log that was signed, up to there, entry for entry. The key lives
in a file outside the database; whoever can change the database but not read that file cannot
make a checkpoint, and cannot unmake one that someone has saved.

The signature (Ed25519) covers ``canonical(body)``: the body's JSON with sorted keys, no spaces,
UTF-8, exactly as the hash chain's payloads (``hashchain.canonical``), so it can be rebuilt with
any JSON tool (``jq -jcS .checkpoint``) and checked with OpenSSL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .hashchain import canonical

FORMAT = "shishi-audit-checkpoint/1"
ALGORITHM = "Ed25519"


class KeyProblem(Exception):
    """A key file that is missing, unreadable or not an Ed25519 key; the message says which."""


def create_key(path: Path) -> Ed25519PrivateKey:
    """A new private key written to ``path`` (PEM, PKCS#8), readable by its owner only (0600).

    Refuses to overwrite: a second key would make every checkpoint signed with the first one
    uncheckable against the published fingerprint."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path} already exists: it is the signing key, kept as it is") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyProblem(f"there is no signing key at {path}") from None
    except OSError as exc:
        raise KeyProblem(f"the signing key at {path} cannot be read: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem(f"{path} holds no usable private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} holds a key that is not Ed25519")
    return key


def load_public_key(data: bytes, name: str) -> Ed25519PublicKey:
    """A public key from PEM (as the public page offers it) or from a private key's PEM."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise KeyProblem(f"{name} holds no PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem(f"{name} holds a key that is not Ed25519")
    return key


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """The 32 bytes of the public key itself."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def public_key_from_raw(raw_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(raw_b64))


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the public key's 32 bytes, in hex: what the public page shows, and what anyone
    who saves checkpoints should note once."""
    return hashlib.sha256(public_bytes(key)).hexdigest()


def grouped(digest: str) -> str:
    """A long hex digest in groups of four, for reading aloud or comparing by eye."""
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def body(
    *,
    number: int,
    time: str,
    chains: list[tuple[int, int, str]],
    previous: str,
    key: str,
) -> dict:
    """What a checkpoint signs. ``chains`` is each chain's (chain, position, hash) at its head;
    ``entries`` is their sum, as each chain's positions start at 1; ``previous`` is the digest
    of the checkpoint before (empty for the first), so the published list is a chain too."""
    ordered = sorted(chains)
    return {
        "format": FORMAT,
        "number": number,
        "time": time,
        "entries": sum(seq for _chain, seq, _hash in ordered),
        "chains": [{"chain": c, "seq": s, "hash": h} for c, s, h in ordered],
        "previous": previous,
        "key": key,
    }


def digest(checkpoint_body: Mapping) -> str:
    """SHA-256 of the signed bytes: a short name for the whole checkpoint."""
    return hashlib.sha256(canonical(checkpoint_body)).hexdigest()


def sign(key: Ed25519PrivateKey, checkpoint_body: Mapping) -> str:
    return base64.b64encode(key.sign(canonical(checkpoint_body))).decode()


class Problem(Exception):
    """A checkpoint file that cannot be trusted: unreadable, or its signature does not hold."""


def document(checkpoint_body: Mapping, signature: str, public_key: Ed25519PublicKey) -> dict:
    """The file anyone can save: the body as signed, the signature, and for convenience the
    public key (which a verifier must compare with the published fingerprint, not trust)."""
    return {
        "checkpoint": dict(checkpoint_body),
        "algorithm": ALGORITHM,
        "signature": signature,
        "public_key": public_pem(public_key),
        "digest": digest(checkpoint_body),
    }


def read(data: bytes | str, public_key: Ed25519PublicKey) -> dict:
    """The body of a checkpoint file, once its signature holds under ``public_key`` (never the
    key the file itself carries); ``Problem`` says why not."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise Problem(f"the checkpoint file is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("checkpoint"), dict):
        raise Problem("the checkpoint file has no 'checkpoint' object")
    checkpoint_body = doc["checkpoint"]
    if checkpoint_body.get("format") != FORMAT:
        raise Problem(f"the checkpoint file is not of the format {FORMAT}")
    if doc.get("algorithm", ALGORITHM) != ALGORITHM:
        raise Problem(f"the checkpoint is signed with {doc.get('algorithm')!r}, not {ALGORITHM}")
    expected = fingerprint(public_key)
    if checkpoint_body.get("key") != expected:
        raise Problem(
            f"checkpoint #{checkpoint_body.get('number')} names the key "
            f"{checkpoint_body.get('key')}, not the key given ({expected})"
        )
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
        public_key.verify(signature, canonical(checkpoint_body))
    except (InvalidSignature, ValueError):
        raise Problem(
            f"the signature of checkpoint #{checkpoint_body.get('number')} does not hold: the "
            "file was changed after it was signed, or was never signed by this key"
        ) from None
    try:
        for chain in checkpoint_body["chains"]:
            int(chain["chain"]), int(chain["seq"]), str(chain["hash"])
        int(checkpoint_body["number"])
    except (KeyError, TypeError, ValueError):
        raise Problem("the checkpoint's chains are not (chain, seq, hash)") from None
    return checkpoint_body


def holds(checkpoint_body: Mapping, signature: str, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` is the key's signature of the body."""
    try:
        public_key.verify(base64.b64decode(signature), canonical(checkpoint_body))
    except (InvalidSignature, ValueError):
        return False
    return True
