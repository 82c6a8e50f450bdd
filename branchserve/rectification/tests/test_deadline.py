"""Deadlines in working days from the calendar (core/calendar_data/2026.json), overdue, counts
for boards, the default owner and dedupe."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from branchserve.core.calendar import reload_calendar
from branchserve.org.models import Assignment, Staff
from branchserve.rectification import actions
from branchserve.rectification.choices import RectificationKind, RectificationState
from branchserve.rectification.queries import open_counts, overdue_counts
from branchserve.rectification.tests.base import RectificationTestCase

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


class DeadlineTest(RectificationTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        reload_calendar()

    def due(self, opened: dt.datetime, days: int = 3) -> dt.date:
        r = self.open(
            source=self.c21_1, title="期限", now=opened, due_working_days=days, dedupe=False
        )
        return r.due_on

    def test_across_a_weekend(self) -> None:
        # Friday 13 March 2026: Monday 16, Tuesday 17, Wednesday 18.
        self.assertEqual(self.due(at("2026-03-13")), dt.date(2026, 3, 18))
        # Opened on Saturday: the day itself never counts.
        self.assertEqual(self.due(at("2026-03-14"), 1), dt.date(2026, 3, 16))

    def test_across_national_day_with_a_make_up_saturday(self) -> None:
        # 30 Sep 2026 (Wed); 1–7 Oct holiday; Thu 8, Fri 9 and Sat 10 (make-up working day).
        self.assertEqual(self.due(at("2026-09-30")), dt.date(2026, 10, 10))

    def test_across_spring_festival(self) -> None:
        # Fri 13 Feb 2026; Sat 14 is a make-up working day; 15–23 Feb holiday; Tue 24, Wed 25.
        self.assertEqual(self.due(at("2026-02-13")), dt.date(2026, 2, 25))

    def test_the_day_is_the_unit_s_local_day(self) -> None:
        # Thursday 23:30 UTC is Friday 07:30 in Shanghai: counted from Friday.
        thursday_night_utc = dt.datetime(2026, 3, 12, 23, 30, tzinfo=dt.UTC)
        self.assertEqual(self.due(thursday_night_utc), dt.date(2026, 3, 18))

    def test_overdue_and_days_left(self) -> None:
        r = self.open(source=self.c21_1, title="期限", now=at("2026-03-13"))  # due Wed 18
        self.assertEqual(r.working_days_left(at("2026-03-13")), 3)
        self.assertEqual(r.working_days_left(at("2026-03-16")), 2)
        self.assertEqual(r.working_days_left(at("2026-03-18", 23)), 0)
        self.assertFalse(r.is_overdue(at("2026-03-18", 23)))
        self.assertTrue(r.is_overdue(at("2026-03-19", 0)))
        self.assertEqual(r.working_days_left(at("2026-03-20")), -2)
        # Closed or cancelled: never overdue.
        actions.do_cancel(r, user=self.dora, reason="重复")
        self.assertFalse(self.fresh(r).is_overdue(at("2026-04-01")))

    def test_counts_for_boards(self) -> None:
        # Setup: r_open, r_progress, r_ready, r_submitted at O11, opened 2026-03-10 (due 13th).
        self.open(source=self.c21_1, unit=self.o21, title="城北", now=at("2026-03-16"))
        closed = self.open(source=self.o12, unit=self.o12, title="南湖", now=at("2026-03-16"))
        actions.do_cancel(closed, user=self.dora, reason="重复")
        units = [self.o11.pk, self.o12.pk, self.sb1.pk, self.o21.pk, self.province.pk]
        self.assertEqual(
            open_counts(units),
            {self.o11.pk: 4, self.o12.pk: 0, self.sb1.pk: 4, self.o21.pk: 1, self.province.pk: 5},
        )
        # On Friday 13 March nothing is late yet; on Monday 16 the four at O11 are.
        self.assertEqual(set(overdue_counts(units, now=at("2026-03-13", 23)).values()), {0})
        self.assertEqual(
            overdue_counts(units, now=at("2026-03-19")),
            {self.o11.pk: 4, self.o12.pk: 0, self.sb1.pk: 4, self.o21.pk: 0, self.province.pk: 4},
        )
        self.assertEqual(overdue_counts([self.o21.pk], now=at("2026-03-20"))[self.o21.pk], 1)


class OwnerAndDedupeTest(RectificationTestCase):
    def test_default_owner_is_the_outlet_head(self) -> None:
        self.assertEqual(self.r_open.owner, Staff.objects.get(user=self.alice))
        charlie = Staff.objects.get(user=self.charlie)
        r = self.open(source=self.c21_1, unit=self.o21, title="城北")
        self.assertEqual(r.owner, charlie)
        # O12 has no outlet head: nobody yet.
        self.assertIsNone(self.open(source=self.o12, unit=self.o12, title="南湖").owner)
        # An ended assignment does not count.
        Assignment.objects.filter(staff=charlie).update(ends_on=dt.date(2026, 1, 31))
        r2 = self.open(source=self.o21, unit=self.o21, title="城北 2")
        self.assertIsNone(r2.owner)

    def test_default_owner_of_a_sub_branch(self) -> None:
        self.assertEqual(
            self.open(source=self.sb1, unit=self.sb1, title="支行").owner,
            Staff.objects.get(user=self.dora),
        )

    def test_explicit_owner(self) -> None:
        bob = Staff.objects.get(user=self.bob)
        self.assertEqual(self.open(source=self.o11, title="指定", owner=bob).owner, bob)

    def test_dedupe(self) -> None:
        again = self.open(source=self.c11_1, title="第二次")
        self.assertEqual(again.pk, self.r_open.pk)
        self.assertEqual(self.fresh(again).title, "客户反映等候过久")
        # Another kind for the same source is another rectification.
        other = self.open(source=self.c11_1, title="投诉", kind=RectificationKind.COMPLAINT)
        self.assertNotEqual(other.pk, self.r_open.pk)
        # Without dedupe: a new one.
        forced = self.open(source=self.c11_1, title="强制", dedupe=False)
        self.assertNotEqual(forced.pk, self.r_open.pk)
        # Once the open ones are done, the same source opens a new one.
        actions.do_cancel(self.r_open, user=self.dora, reason="重复")
        actions.do_cancel(forced, user=self.dora, reason="重复")
        fresh = self.open(source=self.c11_1, title="再次")
        self.assertNotIn(fresh.pk, {self.r_open.pk, forced.pk})
        self.assertEqual(fresh.state, RectificationState.OPEN)

    def test_any_source_model(self) -> None:
        user_source = User.objects.get(username="bob")
        r = self.open(source=user_source, title="来源为用户")
        self.assertEqual(r.source, user_source)
        self.assertEqual(r.source_label(), "bob")
        self.assertIsNone(r.source_url())

    def test_bad_input(self) -> None:
        for kwargs, code in (
            ({"kind": "nonsense"}, "unknown_kind"),
            ({"due_working_days": -1}, "invalid_deadline"),
            ({"title": "  "}, "title_required"),
        ):
            with self.subTest(code=code):
                kwargs.setdefault("title", "x")
                with self.assertRaises(actions.ActionError) as caught:
                    self.open(source=self.o12, **kwargs)
                self.assertEqual(caught.exception.code, code)
