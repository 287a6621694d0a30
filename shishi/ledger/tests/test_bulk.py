"""``ledger.bulk.insert``: bulk_create's result, by COPY on PostgreSQL for many rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shishi.commitments.models import Category
from shishi.ledger.bulk import COPY_FROM, insert

pytestmark = pytest.mark.django_db


def categories(n, start=0):
    return [
        Category(code=f"c{i}", name=f"类别{i}", name_en=f"Category {i}", order=i)
        for i in range(start, start + n)
    ]


@pytest.mark.parametrize("n", [3, COPY_FROM + 50])
def test_it_inserts_every_row_and_gives_each_object_its_id(n):
    made = insert(Category, categories(n))
    assert all(c.pk for c in made) and len({c.pk for c in made}) == n
    stored = {
        c.pk: (c.code, c.name, c.order) for c in Category.objects.filter(code__startswith="c")
    }
    assert stored == {c.pk: (c.code, c.name, c.order) for c in made}
    assert not made[0]._state.adding
    # The sequence moved on: a row saved afterwards gets an id of its own.
    later = Category.objects.create(code="later", name="后", name_en="Later", order=0)
    assert later.pk not in stored


def test_a_broken_constraint_is_djangos_integrity_error_and_nothing_stays():
    rows = categories(COPY_FROM + 10)
    rows[-1].code = rows[0].code
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(Category, rows)
    assert not Category.objects.filter(code__startswith="c").exists()


def test_it_stores_what_bulk_create_stores_for_every_kind_of_value(tree):
    # Dates, amounts, choices, foreign keys, empty values and the times Django fills in: each row
    # inserted by ``insert`` reads back as the same row inserted by ``bulk_create``.
    from shishi.commitments.models import Commitment, Status
    from shishi.testing import make_programme

    programme = make_programme(tree["county"], 2026, [], publish=False)
    category = Category.objects.first()

    def rows(start):
        return [
            Commitment(
                programme=programme, county=tree["county"], number=start + i, title=f"实事{i}",
                category=category, responsible_unit=tree["dept"], start_date=dt.date(2026, 1, 1),
                deadline=dt.date(2026, 12, 31), budget_planned=Decimal("12.5") if i % 2 else None,
                status=Status.IN_PROGRESS if i % 3 else "planned",
            )
            for i in range(COPY_FROM + 1)
        ]  # fmt: skip

    insert(Commitment, rows(1000))
    Commitment.objects.bulk_create(rows(5000))
    fields = ["title", "category", "budget_planned", "start_date", "deadline", "status", "version"]

    def stored(start):
        qs = Commitment.objects.filter(number__gte=start, number__lt=start + 1000)
        return list(qs.order_by("number").values_list(*fields))

    assert stored(1000) == stored(5000)
    made = Commitment.objects.filter(number__gte=1000, number__lt=2000)
    assert not made.filter(created_at__isnull=True).exists()
