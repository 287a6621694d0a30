"""Fixtures shared by the commitments tests (helpers that are not fixtures live in
shishi/testing.py)."""

import pytest

from shishi.commitments import services
from shishi.commitments.models import Programme


@pytest.fixture
def programme(tree, users) -> Programme:
    """The test county's empty draft list for 2026, made by its county administrator."""
    return services.create_programme(
        users["county_admin"], county=tree["county"], year=2026, title="2026年测试县民生实事"
    )
