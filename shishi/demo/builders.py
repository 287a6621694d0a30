"""Which builders fill a county, in order. Each takes (county, seed) and is idempotent."""

from __future__ import annotations

from collections.abc import Callable

from shishi.orgs.models import Org


def _commitments(county: Org, seed: int) -> None:
    from shishi.commitments.demo import build_programme

    build_programme(county, seed)


def _commitments_at_scale(county: Org, seed: int) -> None:
    from shishi.commitments.demo import generate_programme

    generate_programme(county, seed)


def _calendar(county: Org, seed: int) -> None:
    from shishi.workdays.models import Day
    from shishi.workdays.services import seed_from_library

    if not Day.objects.exists():
        seed_from_library()


# The demo county: the full story, through the services.
COUNTY_BUILDERS: list[Callable[[Org, int], None]] = [_calendar, _commitments]
# Generated counties: the same shape, with bulk inserts.
GENERATE_BUILDERS: list[Callable[[Org, int], None]] = [_calendar, _commitments_at_scale]
