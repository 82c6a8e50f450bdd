"""Rows read with ``rawsql`` are the instances the ORM would have given."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from django.db import connection
from django.db.models import signals
from django.utils import timezone

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

    def test_prep_gives_what_get_db_prep_save_gives(self) -> None:
        from branchserve.queueing.choices import TicketEventKind
        from branchserve.queueing.models import Ticket, TicketEvent

        db = rawsql.database()
        now = timezone.now()
        event: Any = TicketEvent._meta
        ticket: Any = Ticket._meta
        cases = [
            (event.get_field("kind"), "called"),
            (event.get_field("kind"), TicketEventKind.CALLED),  # an enum: through Django
            (event.get_field("kind"), None),
            (event.get_field("at"), now),
            (event.get_field("at"), dt.datetime(2026, 1, 5, 9, 30)),  # naive: through Django
            (event.get_field("staff"), 7),
            (event.get_field("staff"), "7"),  # a string id: through Django (an int)
            (event.get_field("staff"), None),
            (event.get_field("data"), {"rule": "ageing"}),
            (ticket.get_field("recalls"), 2),
            (ticket.get_field("green_channel"), True),
        ]
        for field, value in cases:
            with self.subTest(field=field.name, value=value), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the naive datetime's
                expected = field.get_db_prep_save(value, db)
                got = rawsql.prep(field, value, db)
                self.assertEqual(type(got), type(expected))
                self.assertEqual(repr(got), repr(expected))
        self.assertEqual(rawsql.prep(event.get_field("staff"), "7", db), 7)

    def test_new_is_init_without_its_descriptors(self) -> None:
        from branchserve.queueing.models import TicketEvent

        staff = self.bob.staff
        values = {"pk": 5, "outlet": self.o11, "kind": "called", "staff": staff, "device": None}
        built = rawsql.new(TicketEvent, at=timezone.now(), **values)
        expected = TicketEvent(at=built.at, **values)
        self.assertEqual(fields_of(built), fields_of(expected))
        self.assertEqual(built.data, {})  # a default, a new dict
        self.assertIs(built.outlet, self.o11)  # cached, no query
        self.assertIs(built.staff, staff)
        with self.assertNumQueries(0):
            self.assertIsNone(built.device)
        self.assertTrue(built._state.adding)
        with self.assertRaises(TypeError):
            rawsql.new(TicketEvent, colour="red")
        rawsql.relate(built, counter=self.c11_1, staff=None)
        self.assertEqual((built.counter_id, built.counter), (self.c11_1.pk, self.c11_1))
        self.assertEqual((built.staff_id, built.staff), (None, None))
