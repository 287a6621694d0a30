"""Fixtures for every test under ``shishi/`` (the shared ones live in the root conftest.py)."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings):
    """Argon2 is slow on purpose; tests use MD5 unless marked ``real_hashers``."""
    if request.node.get_closest_marker("real_hashers") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_messages():
    """Messages from services in English, whether or not the catalogues are compiled. Pages still
    follow each request's language (the locale middleware activates it)."""
    with translation.override("en"):
        yield
