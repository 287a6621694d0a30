"""Inserting the rows of a large import: ``bulk_create``, or on PostgreSQL, COPY.

A 100,000-row import inserts several hundred thousand rows (commitments, their targets and
milestones, people). ``bulk_create`` builds one INSERT per batch with every value a parameter;
COPY streams the rows in one command at a fraction of the cost. The ids come first from the
table's own sequence (``nextval``, in one query), so every object has its id afterwards, as
``bulk_create`` gives it, and rows that refer to it can be inserted next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

COPY_FROM = 200  # fewer rows than this go by bulk_create: COPY's set-up costs more than it saves
BATCH = 1000  # rows per INSERT where bulk_create is used


def insert(model: type[M], objs: Sequence[M]) -> Sequence[M]:
    """Insert ``objs`` (new, without ids) of ``model`` and set their ids, as
    ``bulk_create(objs)`` does: the same values (each field's ``pre_save`` and database
    conversion), the same constraints checked, the same errors (an ``IntegrityError``)."""
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        return model._default_manager.bulk_create(objs, batch_size=BATCH)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    columns = ", ".join(
        connection.ops.quote_name(c) for c in [pk.column, *(f.column for f in fields)]
    )
    table = connection.ops.quote_name(meta.db_table)
    values = [_value_of(f) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN"  # noqa: S608 - names from the model
            ) as copy,
        ):
            for obj, pk_value in zip(objs, ids, strict=True):
                obj.pk = pk_value
                copy.write_row([pk_value, *(value(obj) for value in values)])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


# Fields whose database value is the Python value itself when it has one of these types (on
# PostgreSQL, which takes them as they are): their conversion, the costliest step of a bulk
# insert, is skipped. Any other field, or value, goes through the field's own conversion.
_PLAIN_FIELDS = (
    models.CharField,  # TextChoices are str
    models.TextField,
    models.IntegerField,  # and its small, big and positive kinds
    models.BooleanField,
    models.DateField,  # and DateTimeField
    models.DecimalField,
    models.ForeignKey,
)
# Not datetimes: Django makes a naive one aware in the site's time zone, PostgreSQL would read it
# in the connection's.
_PLAIN_TYPES = frozenset({str, int, bool, dt.date, type(None)})


def _value_of(field: models.Field) -> Callable[[models.Model], Any]:
    """How to get ``field``'s database value from an object, as ``bulk_create`` does."""
    attname = field.attname

    def converted(obj: models.Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    generic = type(field).__module__.startswith("django.db.models.fields") and isinstance(
        field, _PLAIN_FIELDS
    )
    if not generic or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return converted

    def plain(obj: models.Model) -> Any:
        value = getattr(obj, attname)
        if type(value) in _PLAIN_TYPES or (type(value) is Decimal and value.is_finite()):
            return value
        return converted(obj)

    return plain
