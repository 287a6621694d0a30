"""Every large table carries the county it belongs to: the future distribution key.

Past one machine, Shishi's plan is PostgreSQL sharded by county (Citus; see docs/deploy.md,
"Past one machine"). That stays possible only if every table that grows with the number of
counties or with activity says which county each row belongs to. This test walks every model of
the ``shishi.*`` apps (the automatic many-to-many tables included) and fails for any model that has
no ``county`` / ``county_id`` field and is not named below with its reason. A new model must
either carry its county or be added to one of these lists, in review, with a reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from shishi.orgs.models import Org

# Global tables: small, or needed before any county is known. Under Citus they become reference
# tables, replicated to every node.
REFERENCE = {
    # A few dozen configurable categories, shared by every county.
    "commitments.Category": "configuration: a few dozen rows for the whole country",
    # One row per public holiday or exchanged working day: a few dozen a year, national.
    "workdays.Day": "national working-day calendar",
    "workdays.Version": "one row: the calendar's version, read by every process",
    "workdays.DeadlinePolicy": "one row per kind of deadline: configuration",
    # One head per county chain (keyed by the county's id: "chain") and the global one: read by
    # every public page for its generation, locked by the chain's writers.
    "audit.Head": "one row per county: each chain's head, keyed by the county",
    # One signed statement of every chain's head a day (fewer on a quiet day): the anchor of the
    # whole log, published as one list.
    "audit.Checkpoint": "one row a day for the whole log, signing every county's head",
    # Sign-in looks a login up by username or phone before any county is known; roles and
    # tokens are read with their login on every request. About one login per cadre: large
    # nationally (millions), but global by nature.
    "orgs.User": "logins: looked up before the county is known",
    "orgs.Role": "read with the login on every request; a login may hold roles in several counties",
    "orgs.GrantRule": "configuration: who may grant which role, a few dozen rows for everyone",
    "api.Token": "looked up by digest before the county is known",
    # Django's database sessions with the login's id (orgs/sessions.py): read by key on every
    # signed-in request, before anything about a county is known; one row per browser signed in.
    "orgs.Session": "looked up by session key before the county is known",
}

# Children: each row belongs to one row of a county-carrying (or reference) table through a
# foreign key with CASCADE, and lives with its parent ("co-located by its parent's county").
# Under Citus a distributed child needs the column itself: it is copied from the parent by the
# migration that distributes the tables (docs/deploy.md).
CHILDREN = {
    "commitments.Target": ("commitment", "commitments.Commitment"),
    "commitments.Milestone": ("commitment", "commitments.Commitment"),
    "commitments.Evidence": ("report", "commitments.ProgressReport"),
    "commitments.Decision": ("adjustment", "commitments.Adjustment"),
    # Automatic many-to-many tables.
    "commitments.Commitment_co_units": ("commitment", "commitments.Commitment"),
    "commitments.Adjustment_commitments": ("adjustment", "commitments.Adjustment"),
    "commitments.Adjustment_results": ("adjustment", "commitments.Adjustment"),
    "orgs.User_groups": ("user", "orgs.User"),
    "orgs.User_user_permissions": ("user", "orgs.User"),
}

# Known gaps: tables that belong to a county but do not yet carry it. Each is a debt to pay
# before sharding; the test below fails once one gains its county, so the entry is removed.
KNOWN_GAPS = {
    # Few rows (administrative changes are rare), but per county; its org FK is PROTECT.
    "orgs.OrgMove": "should carry the moved organisation's county",
}


def shishi_models():
    for config in apps.get_app_configs():
        if config.name.startswith("shishi."):
            yield from config.get_models(include_auto_created=True)


def county_field(model) -> models.Field | None:
    """The model's ``county`` / ``county_id`` field when it is a usable key, else None."""
    for field in model._meta.concrete_fields:
        if field.name not in {"county", "county_id"} and field.attname != "county_id":
            continue
        if isinstance(field, models.ForeignKey) and field.related_model is Org:
            return field
        if isinstance(field, models.BigIntegerField | models.IntegerField):
            return field
    return None


MODELS = {model._meta.label: model for model in shishi_models()}
CARRIERS = sorted(label for label, model in MODELS.items() if county_field(model) is not None)


def test_the_lists_name_existing_models():
    named = set(REFERENCE) | set(CHILDREN) | set(KNOWN_GAPS)
    assert not named - set(MODELS), "the lists name models that do not exist (renamed?)"
    overlap = (
        (set(REFERENCE) & set(CHILDREN))
        | (set(REFERENCE) & set(KNOWN_GAPS))
        | (set(CHILDREN) & set(KNOWN_GAPS))
    )
    assert not overlap


def test_every_large_table_carries_its_county():
    exempt = set(REFERENCE) | set(CHILDREN) | set(KNOWN_GAPS)
    missing = sorted(
        label
        for label, model in MODELS.items()
        if label not in exempt and county_field(model) is None
    )
    assert not missing, (
        f"{missing} carry no county: add `county = models.ForeignKey(Org, ...)` (the future "
        "distribution key), or name the model in REFERENCE, CHILDREN or KNOWN_GAPS with a reason"
    )


@pytest.mark.parametrize("label", sorted(CHILDREN))
def test_a_child_belongs_to_its_parent(label):
    fk_name, parent_label = CHILDREN[label]
    field = MODELS[label]._meta.get_field(fk_name)
    assert isinstance(field, models.ForeignKey), f"{label}.{fk_name} is not a foreign key"
    assert field.related_model._meta.label == parent_label
    assert not field.null, f"{label}.{fk_name} may be empty: the row would have no county"
    assert field.remote_field.on_delete is models.CASCADE, (
        f"{label}.{fk_name} does not cascade: the row does not belong to its parent"
    )
    parent = MODELS.get(parent_label)
    assert parent_label in REFERENCE or (parent is not None and county_field(parent)), (
        f"{label}'s parent {parent_label} carries no county"
    )


@pytest.mark.parametrize("label", sorted(KNOWN_GAPS))
def test_known_gaps_are_still_gaps(label):
    assert county_field(MODELS[label]) is None, (
        f"{label} now carries its county: remove it from KNOWN_GAPS"
    )


def test_the_core_tables_carry_their_county():
    """The tables docs/deploy.md names as distributed by county."""
    for label in [
        "orgs.Org",
        "orgs.Person",
        "audit.Entry",
        "commitments.Programme",
        "commitments.Commitment",
        "commitments.ProgressReport",
        "commitments.Adjustment",
        "commitments.Snapshot",
    ]:
        assert label in CARRIERS, label


@pytest.mark.django_db
@pytest.mark.parametrize("label", CARRIERS)
def test_the_county_column_exists_and_leads_an_index(label):
    """In the migrated database: the column is there, and some index starts with it, so a
    county's rows are one index range (and the future distribution key is indexed)."""
    model = MODELS[label]
    column = county_field(model).column
    table = model._meta.db_table
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        constraints = connection.introspection.get_constraints(cursor, table)
    assert column in columns, f"{table} has no column {column}: a migration is missing"
    leading = [
        name
        for name, c in constraints.items()
        if (c["index"] or c["unique"]) and c["columns"] and c["columns"][0] == column
    ]
    assert leading, f"no index of {table} starts with {column}"
