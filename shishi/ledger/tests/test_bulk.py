"""``ledger.bulk.insert``: bulk_create's result, by COPY on PostgreSQL for many rows."""

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
