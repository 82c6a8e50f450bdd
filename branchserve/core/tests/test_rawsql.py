"""Rows read with ``rawsql`` are the instances the ORM would have given."""

from __future__ import annotations

from django.db import connection
from django.db.models import signals

from branchserve.core import rawsql
from branchserve.core.testing import BaseTestCase
from branchserve.org.models import Counter, OrgUnit


def fields_of(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}  # type: ignore[attr-defined]


class RawSqlTests(BaseTestCase):
    def fetch_counter(self, pk: int) -> Counter:
        sql = f"SELECT {rawsql.columns(Counter)} FROM {Counter._meta.db_table} WHERE id = %s"
        (found,) = rawsql.fetch_models(Counter, sql, [pk])
        return found

    def test_rows_become_the_orm_instances(self) -> None:
        self.assertTrue(rawsql._reader(Counter, connection.vendor, "")[3])  # without __init__
        counter = self.fetch_counter(self.c11_1.pk)
        expected = Counter.objects.get(pk=self.c11_1.pk)
        self.assertEqual(fields_of(counter), fields_of(expected))
        self.assertEqual(counter, expected)
        self.assertFalse(counter._state.adding)
        self.assertEqual(counter._state.db, "default")
        self.assertEqual(counter.outlet.code, "O11")  # a relation loads as usual
        counter.number = 7
        counter.save(update_fields=["number"])  # an update, not an insert
        self.assertEqual(Counter.objects.get(pk=counter.pk).number, 7)

    def test_joined_rows_give_one_instance_per_model(self) -> None:
        sql = (
            f"SELECT {rawsql.columns(Counter, 'c')}, {rawsql.columns(OrgUnit, 'o')}, 42 "
            f"FROM {Counter._meta.db_table} c JOIN {OrgUnit._meta.db_table} o "
            f"ON o.id = c.outlet_id WHERE c.id = %s"
        )
        ((counter, outlet, extra),) = rawsql.fetch_joined(
            sql, [self.c12_1.pk], Counter, OrgUnit, extra=1
        )
        self.assertEqual(fields_of(counter), fields_of(Counter.objects.get(pk=self.c12_1.pk)))
        self.assertEqual(fields_of(outlet), fields_of(OrgUnit.objects.get(code="O12")))
        self.assertEqual(extra, 42)

    def test_a_model_with_init_receivers_is_built_through_init(self) -> None:
        seen: list[Counter] = []

        def receiver(instance: Counter, **_kwargs: object) -> None:
            seen.append(instance)

        signals.post_init.connect(receiver, sender=Counter)
        rawsql._reader.cache_clear()
        try:
            counter = self.fetch_counter(self.c21_1.pk)
        finally:
            signals.post_init.disconnect(receiver, sender=Counter)
            rawsql._reader.cache_clear()
        self.assertEqual(seen, [counter])
        self.assertEqual(fields_of(counter), fields_of(Counter.objects.get(pk=self.c21_1.pk)))
