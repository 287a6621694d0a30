"""Helpers for tests of every app (fixtures live in conftest.py)."""

from shishi.orgs import services
from shishi.orgs.models import OrgKind


def add_villages(town, first: int, last: int, *, people: int = 1, branch: bool = False) -> None:
    """Villages ``first``..``last``-1 under ``town`` (codes ending 300+i), each with ``people``
    people, placed in a branch of the village when ``branch``: for tests at two data sizes."""
    prefix = town.name[0]
    for i in range(first, last):
        village = services.create_org(
            None,
            parent=town,
            kind=OrgKind.VILLAGE,
            name=f"{prefix}{i}村",
            code=f"{town.code[:9]}{300 + i:03d}",
        )
        home = village
        if branch:
            home = services.create_org(
                None,
                parent=village,
                kind=OrgKind.BRANCH,
                name=f"{prefix}{i}村党支部",
                code=f"B-{village.code}-01",
            )
        for p in range(people):
            services.create_person(
                None, org=home, name=f"{prefix}{i}村民{p}", phone=f"139{i:04d}{p:04d}"
            )
