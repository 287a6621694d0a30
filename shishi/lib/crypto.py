"""Encryption at rest for personal data (Fernet: AES-128-CBC with an HMAC) and lookup digests."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class Box:
    """Encrypts and decrypts short strings with a key derived from a configured secret."""

    def __init__(self, secret: str):
        raw = hashlib.sha256(b"shishi-field-encryption\n" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))
        self._digest_key = hashlib.sha256(b"shishi-field-digest\n" + secret.encode()).digest()
        self._signing_key = hashlib.sha256(b"shishi-backup-signature\n" + secret.encode()).digest()
        # Names the key without revealing it or anything derived for use (each derivation has its
        # own label): a backup records it, and a restore refuses an archive made with another key.
        self.fingerprint = hashlib.sha256(b"shishi-key-fingerprint\n" + secret.encode()).hexdigest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode() if value else ""

    def decrypt(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "cannot decrypt: wrong FIELD_ENCRYPTION_KEY or damaged value"
            ) from None

    def digest(self, value: str) -> str:
        """A keyed hash for exact-match lookup (log in by phone) without storing the plain value."""
        if not value:
            return ""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> str:
        """A keyed hash of ``data`` (a backup's manifest): only the holder of the key can make one
        that ``verify`` accepts, so an archive's manifest cannot be edited to match altered files."""
        return hmac.new(self._signing_key, data, hashlib.sha256).hexdigest()

    def verify(self, data: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(data), signature)
