"""Masking personal data for screens that do not need it in full."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; short or odd values keep only their last two digits."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 2:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + digits[-2:]


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张**``: the family name only, as on public notices."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def normalize_phone(value: str | None) -> str:
    """Digits only, without a leading +86 / 0086 country code."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits


def is_mobile(value: str) -> bool:
    """A mainland mobile number: 11 digits starting with 1."""
    return len(value) == 11 and value.isdigit() and value.startswith("1")
