"""The rate limits' counters in the database (RATE_LIMIT_CACHE=database), shared by every web
process: `migrate` makes their table, and the counts and refusals are those of memory."""

import pytest
from django.db import connection

from shishi import ratelimit

pytestmark = pytest.mark.django_db

TABLE = "test_rate_limits"


@pytest.fixture
def database_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "limits": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": TABLE},
    }
    ratelimit.create_table(using="default")
    return settings


def test_the_table_is_made_once_and_again_is_harmless(database_cache):
    assert TABLE in connection.introspection.table_names()
    ratelimit.create_table(using="default")


def test_counts_in_the_database_refuse_past_the_limit(database_cache):
    database_cache.RATE_LIMIT_FORMS = 2
    ratelimit.hit(ratelimit.FORMS, "198.51.100.1")
    ratelimit.hit(ratelimit.FORMS, "198.51.100.1")
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit(ratelimit.FORMS, "198.51.100.1")
    assert 1 <= refused.value.retry_after <= 60
    ratelimit.hit(ratelimit.FORMS, "198.51.100.2")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608 (a fixed name)
        assert cursor.fetchone()[0] == 2


def test_memory_is_the_default_and_needs_no_table(settings):
    assert settings.CACHES["limits"]["BACKEND"].endswith("LocMemCache")
    ratelimit.create_table(using="default")
    assert "shishi_rate_limits" not in connection.introspection.table_names()
