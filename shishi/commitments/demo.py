"""The demo programme of the demo county, and generated programmes at scale (to be built)."""

from shishi.orgs.models import Org


def build_programme(county: Org, seed: int) -> None:
    """The interview's 132-item list for ``county``, through the services."""


def generate_programme(county: Org, seed: int) -> None:
    """A programme of the same shape for a generated county, with bulk inserts."""
