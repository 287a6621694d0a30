"""Signed checkpoints of the audit log (``shishi audit-checkpoint``, ``shishi audit-key``).

A checkpoint anchors the log outside the database: every chain's head (position and hash),
signed with a key kept in a file (``AUDIT_SIGNING_KEY_FILE``), stored in ``audit.Checkpoint``,
written as a file anyone can keep, and published on the public site. ``shishi verify-audit
--checkpoint FILE`` then proves that the log still extends it (``verify.check_checkpoint``).

Writing one is not itself an audit entry: it changes no one's data, and an entry about it would
move the head it has just signed, so that no checkpoint could ever be the last word.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shishi.lib import checkpoint as signing
from shishi.lib.checkpoint import KeyProblem

from .models import Checkpoint, Head, signed_time


def key_path() -> Path:
    return Path(settings.AUDIT_SIGNING_KEY_FILE)


def missing_key_message(path: Path) -> str:
    return (
        f"there is no audit signing key at {path} (AUDIT_SIGNING_KEY_FILE). Create it once with "
        "`shishi audit-key --create`, then back it up apart from the database "
        "(docs/deploy.md, section 10): checkpoints are signed with it, and a new key cannot "
        "sign for the old checkpoints' fingerprint."
    )


def signing_key() -> Ed25519PrivateKey:
    """The key from its file; ``KeyProblem`` with what to do when it is missing."""
    path = key_path()
    if not path.exists():
        raise KeyProblem(missing_key_message(path))
    return signing.load_key(path)


def create_key() -> Ed25519PrivateKey:
    return signing.create_key(key_path())


def ensure_key() -> Ed25519PrivateKey:
    """The key, created first if there is none: for the demo only. Production creates it by
    hand (``shishi audit-key --create``), so that a lost key file is noticed, not replaced."""
    try:
        return signing_key()
    except KeyProblem:
        if key_path().exists():
            raise
        return create_key()


def public_key() -> Ed25519PublicKey | None:
    """The key the public page names: the newest checkpoint's (the web process does not read
    the private key's file)."""
    latest = Checkpoint.objects.order_by("-number").only("number", "public_key").first()
    return signing.public_key_from_raw(latest.public_key) if latest else None


def current_heads() -> list[tuple[int, int, str]]:
    """Every chain's (chain, position, hash), read in one statement: one consistent moment, as
    each head moves in the same transaction as its entries."""
    return sorted(
        (chain, seq, digest)
        for chain, seq, digest in Head.objects.filter(seq__gt=0).values_list("chain", "seq", "hash")
    )


def write_checkpoint(key: Ed25519PrivateKey | None = None) -> tuple[Checkpoint, bool]:
    """Sign the heads as they are now and store the checkpoint, or return the last one when no
    head has moved since (idempotent: run it daily, or twice). Its file is written either way.
    Returns (checkpoint, whether it is new)."""
    key = key or signing_key()
    public = key.public_key()
    with transaction.atomic():
        heads = current_heads()
        last = Checkpoint.objects.select_for_update().order_by("-number").first()
        unmoved = last is not None and [tuple(c) for c in last.chains] == heads
        if unmoved and last.key == signing.fingerprint(public):
            write_file(last)
            return last, False
        now = timezone.now().replace(microsecond=0)
        body = signing.body(
            number=(last.number + 1) if last else 1,
            time=signed_time(now),
            chains=heads,
            previous=last.digest if last else "",
            key=signing.fingerprint(public),
        )
        made = Checkpoint.objects.create(
            number=body["number"],
            time=now,
            entries=body["entries"],
            chains=[list(h) for h in heads],
            chain_count=len(heads),
            previous=body["previous"],
            key=body["key"],
            public_key=_raw_b64(public),
            signature=signing.sign(key, body),
            digest=signing.digest(body),
        )
    write_file(made)
    return made, True


def _raw_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(signing.public_bytes(key)).decode()


def document(checkpoint: Checkpoint) -> dict:
    """The checkpoint as the file anyone can keep (``lib.checkpoint.document``)."""
    return signing.document(
        checkpoint.body(), checkpoint.signature, signing.public_key_from_raw(checkpoint.public_key)
    )


def file_name(checkpoint: Checkpoint) -> str:
    return f"checkpoint-{checkpoint.number:06d}.json"


def file_path(checkpoint: Checkpoint) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / file_name(checkpoint)


def write_file(checkpoint: Checkpoint) -> Path:
    """``AUDIT_CHECKPOINT_DIR/checkpoint-NNNNNN.json``, written whole then renamed into place."""
    path = file_path(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.write_text(json.dumps(document(checkpoint), ensure_ascii=False, indent=2) + "\n")
    draft.replace(path)
    return path


def trusted(public: Ed25519PublicKey) -> list[Checkpoint]:
    """The stored checkpoints whose signatures hold under ``public``, newest first. A row that a
    database administrator changed fails here; one they deleted is simply not there, which is
    why checkpoints are published and kept outside."""
    fp = signing.fingerprint(public)
    return [
        c
        for c in Checkpoint.objects.filter(key=fp).order_by("-number")
        if signing.holds(c.body(), c.signature, public)
    ]
