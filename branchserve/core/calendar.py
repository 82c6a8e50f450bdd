"""The working calendar: which days are working days, and deadlines counted in working days or
working hours.

China's public holidays move every year: the State Council publishes the year's arrangement
(放假调休) in the autumn before, with holidays that swallow weekdays and weekend days that become
make-up working days (调休上班). The bank loads it as data, one JSON file per year in
``settings.CALENDAR_DIR`` (``2025.json``, ``2026.json``, …)::

    {
      "year": 2026,
      "source": "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
      "sample": false,
      "note": "optional free text",
      "holidays": [{"name": "春节", "start": "2026-02-15", "end": "2026-02-23"}, …],
      "make_up_workdays": [{"date": "2026-02-14", "name": "春节调休上班"}, …]
    }

A day is a working day when it is a make-up working day, or a Monday–Friday that no holiday
covers. Each file describes the days of its own calendar year: when next year's New Year holiday
starts on 31 December, that day goes into this year's file.

**A year without a file** counts Monday–Friday as working days, logs a warning once per
process, and is listed by ``missing_years()`` / ``calendar_warnings()`` so the administrators'
home page can say so. **A broken file** is never guessed around: every function raises
``CalendarError`` until it is fixed (``branchserve calendar-check`` lists what is wrong).

Counting (see ``docs/calendar.md``):

- ``add_working_days(start, n)``: the n-th working day *after* the day of ``start``. The day
  of ``start`` itself never counts, whether it is a working day or not and whatever the time
  (as the Civil Code counts periods: 开始的当日不计入). A complaint received on Friday evening
  with 15 working days to decide is due at the end of the 15th working day counted from
  Monday. Given a datetime, the result is the end of that day (23:59:59.999999) in the local
  time zone.
- ``working_days_between(a, b)``: the working days after the day of ``a`` up to and including
  the day of ``b``, so ``working_days_between(a, add_working_days(a, n)) == n``.
- ``add_working_hours(start, hours, day_start=…, day_end=…, breaks=…)``: the moment when
  ``hours`` of working time have passed, counting only working days between ``day_start`` and
  ``day_end`` outside the ``breaks`` (e.g. lunch).

Files are read once per directory and cached; ``reload_calendar()`` reads them again.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^(\d{4})\.json$")
FIELDS = {"year", "source", "sample", "note", "holidays", "make_up_workdays"}
SATURDAY = 5
# Safety stop for the day-by-day loops (a calendar whose every day is a holiday).
MAX_DAYS = 366 * 10


class CalendarError(ValueError):
    """A calendar file (or directory) that cannot be used; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[str], path: Path | str | None = None) -> None:
        self.errors = list(errors)
        self.path = str(path) if path is not None else None
        where = f"{self.path}: " if self.path else ""
        super().__init__(where + "; ".join(self.errors))


@dataclass(frozen=True)
class Holiday:
    name: str
    start: dt.date
    end: dt.date

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class MakeUpWorkday:
    date: dt.date
    name: str = ""


@dataclass(frozen=True)
class YearCalendar:
    """One year's arrangement, as loaded from its file."""

    year: int
    source: str
    sample: bool
    holidays: tuple[Holiday, ...]
    make_up_workdays: tuple[MakeUpWorkday, ...]
    note: str = ""
    path: str = ""
    holiday_dates: Mapping[dt.date, str] = field(default_factory=dict, compare=False)
    workday_dates: frozenset[dt.date] = field(default_factory=frozenset, compare=False)

    def __post_init__(self) -> None:
        dates = {day: h.name for h in self.holidays for day in h.days()}
        object.__setattr__(self, "holiday_dates", dates)
        object.__setattr__(self, "workday_dates", frozenset(w.date for w in self.make_up_workdays))

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workday_dates:
            return True
        if day in self.holiday_dates:
            return False
        return day.weekday() < SATURDAY


# --- reading and checking files ---------------------------------------------------------------


def _parse_date(value: Any, what: str, year: int | None, errors: list[str]) -> dt.date | None:
    if not isinstance(value, str):
        errors.append(_("%(what)s: a date like 2026-02-15 is required.") % {"what": what})
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors.append(
            _("%(what)s: %(value)r is not a date like 2026-02-15.") % {"what": what, "value": value}
        )
        return None
    if year is not None and day.year != year:
        errors.append(
            _("%(what)s: %(date)s is not in %(year)s.")
            % {"what": what, "date": day.isoformat(), "year": year}
        )
        return None
    return day


def parse_year(
    data: Any, *, expected_year: int | None = None, path: Path | str | None = None
) -> YearCalendar:
    """Check one year's data (the parsed JSON) and build its calendar.

    Raises ``CalendarError`` listing every problem found, not only the first.
    """
    errors: list[str] = []
    if not isinstance(data, dict):
        raise CalendarError([_("The file must hold one JSON object.")], path)
    for key in sorted(set(data) - FIELDS):
        errors.append(_("Unknown field %(field)r.") % {"field": key})

    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999:
        errors.append(_("“year” must be a year such as 2026."))
        year = None
    elif expected_year is not None and year != expected_year:
        errors.append(
            _("The file is named after %(expected)s but says “year”: %(year)s.")
            % {"expected": expected_year, "year": year}
        )
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.append(_("“source” must name where the dates come from (the State Council notice)."))
        source = ""
    sample = data.get("sample")
    if not isinstance(sample, bool):
        errors.append(_("“sample” must be true or false."))
        sample = True
    note = data.get("note", "")
    if not isinstance(note, str):
        errors.append(_("“note” must be text."))
        note = ""

    holidays: list[Holiday] = []
    seen_holidays: dict[dt.date, str] = {}
    raw_holidays = data.get("holidays")
    if not isinstance(raw_holidays, list):
        errors.append(_("“holidays” must be a list (it may be empty)."))
        raw_holidays = []
    for index, item in enumerate(raw_holidays, start=1):
        what = _("holiday %(n)s") % {"n": index}
        if not isinstance(item, dict):
            errors.append(
                _("%(what)s: must be an object with name, start and end.") % {"what": what}
            )
            continue
        for key in sorted(set(item) - {"name", "start", "end"}):
            errors.append(_("%(what)s: unknown field %(field)r.") % {"what": what, "field": key})
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(_("%(what)s: “name” is required (e.g. 春节).") % {"what": what})
            name = ""
        else:
            what = f"{what}（{name}）"
        start = _parse_date(item.get("start"), _("%(what)s, start") % {"what": what}, year, errors)
        end = _parse_date(
            item.get("end", item.get("start")), _("%(what)s, end") % {"what": what}, year, errors
        )
        if start is None or end is None:
            continue
        if end < start:
            errors.append(
                _("%(what)s: the end %(end)s is before the start %(start)s.")
                % {"what": what, "end": end.isoformat(), "start": start.isoformat()}
            )
            continue
        holiday = Holiday(name=name.strip(), start=start, end=end)
        for day in holiday.days():
            if day in seen_holidays:
                errors.append(
                    _("%(what)s: %(date)s is already in the holiday %(other)s.")
                    % {"what": what, "date": day.isoformat(), "other": seen_holidays[day]}
                )
                break
        else:
            seen_holidays.update(dict.fromkeys(holiday.days(), holiday.name))
            holidays.append(holiday)

    workdays: list[MakeUpWorkday] = []
    seen_workdays: set[dt.date] = set()
    raw_workdays = data.get("make_up_workdays")
    if not isinstance(raw_workdays, list):
        errors.append(_("“make_up_workdays” must be a list (it may be empty)."))
        raw_workdays = []
    for index, item in enumerate(raw_workdays, start=1):
        what = _("make-up working day %(n)s") % {"n": index}
        if not isinstance(item, dict):
            errors.append(_("%(what)s: must be an object with a date.") % {"what": what})
            continue
        for key in sorted(set(item) - {"date", "name"}):
            errors.append(_("%(what)s: unknown field %(field)r.") % {"what": what, "field": key})
        name = item.get("name", "")
        if not isinstance(name, str):
            errors.append(_("%(what)s: “name” must be text.") % {"what": what})
            name = ""
        workday = _parse_date(item.get("date"), what, year, errors)
        if workday is None:
            continue
        if workday in seen_workdays:
            errors.append(
                _("%(what)s: %(date)s is listed twice.")
                % {"what": what, "date": workday.isoformat()}
            )
        elif workday in seen_holidays:
            errors.append(
                _("%(what)s: %(date)s is also a day of the holiday %(holiday)s.")
                % {"what": what, "date": workday.isoformat(), "holiday": seen_holidays[workday]}
            )
        elif workday.weekday() < SATURDAY:
            message = _(
                "%(what)s: %(date)s is a weekday, a working day anyway; make-up working days "
                "are Saturdays or Sundays."
            )
            errors.append(message % {"what": what, "date": workday.isoformat()})
        else:
            seen_workdays.add(workday)
            workdays.append(MakeUpWorkday(date=workday, name=name.strip()))

    if errors or year is None:
        raise CalendarError(errors, path)
    return YearCalendar(
        year=year,
        source=source.strip(),
        sample=sample,
        note=note.strip(),
        holidays=tuple(sorted(holidays, key=lambda h: h.start)),
        make_up_workdays=tuple(sorted(workdays, key=lambda w: w.date)),
        path=str(path or ""),
    )


def load_file(path: Path | str) -> YearCalendar:
    """Read and check one year's file. Its name, if it looks like ``2026.json``, must match the
    year inside."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CalendarError(
            [_("Cannot read the file: %(error)s") % {"error": error}], path
        ) from None
    except UnicodeDecodeError:
        raise CalendarError([_("The file is not UTF-8 text.")], path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CalendarError(
            [
                _("Not valid JSON (line %(line)s, column %(column)s): %(message)s")
                % {"line": error.lineno, "column": error.colno, "message": error.msg}
            ],
            path,
        ) from None
    match = FILE_NAME.match(path.name)
    return parse_year(data, expected_year=int(match.group(1)) if match else None, path=path)


def check_directory(directory: Path | str) -> tuple[dict[int, YearCalendar], list[CalendarError]]:
    """Every year file in ``directory``, and the errors of those that are broken. JSON files not
    named like ``2026.json`` are ignored (with a warning in the log)."""
    directory = Path(directory)
    years: dict[int, YearCalendar] = {}
    errors: list[CalendarError] = []
    if not directory.is_dir():
        logger.warning("working calendar directory %s does not exist", directory)
        return years, errors
    for path in sorted(directory.glob("*.json")):
        if not FILE_NAME.match(path.name):
            logger.warning("ignoring %s: calendar files are named like 2026.json", path)
            continue
        try:
            calendar = load_file(path)
        except CalendarError as error:
            errors.append(error)
        else:
            years[calendar.year] = calendar
    return years, errors


@functools.lru_cache(maxsize=8)
def _load_directory(directory: str) -> Mapping[int, YearCalendar]:
    years, errors = check_directory(directory)
    if errors:
        raise CalendarError([str(e) for e in errors])
    for calendar in years.values():
        if calendar.sample:
            logger.warning(
                "working calendar %s is a SAMPLE: check it against the State Council notice "
                'and set "sample": false',
                calendar.path,
            )
    return years


@functools.lru_cache(maxsize=256)
def _warn_missing(directory: str, year: int) -> None:
    logger.warning(
        "no working calendar for %s in %s: counting Monday to Friday as working days "
        "(add %s.json with that year's public holidays)",
        year,
        directory,
        year,
    )


def calendar_directory() -> Path:
    return Path(settings.CALENDAR_DIR)


def loaded_years() -> Mapping[int, YearCalendar]:
    """The years with a calendar file (raises ``CalendarError`` if a file is broken)."""
    return _load_directory(str(calendar_directory()))


def calendar_for(year: int) -> YearCalendar | None:
    """That year's calendar, or None (with a warning in the log, once) when it has no file."""
    directory = str(calendar_directory())
    calendar = _load_directory(directory).get(year)
    if calendar is None:
        _warn_missing(directory, year)
    return calendar


def reload_calendar() -> None:
    """Forget the files read so far: the next question reads them again."""
    _load_directory.cache_clear()
    _warn_missing.cache_clear()


# --- what the admin home page shows -----------------------------------------------------------


def relevant_years(today: dt.date | None = None) -> list[int]:
    """The years deadlines are being computed in: this year, and from 1 December next year too
    (a deadline of 15 working days set in December ends in January)."""
    today = today or timezone.localdate()
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


def missing_years(years: Iterable[int] | None = None, *, today: dt.date | None = None) -> list[int]:
    """Which of ``years`` (default: ``relevant_years(today)``) have no calendar file."""
    loaded = loaded_years()
    wanted = relevant_years(today) if years is None else years
    return sorted({year for year in wanted if year not in loaded})


def sample_years(years: Iterable[int] | None = None, *, today: dt.date | None = None) -> list[int]:
    """Which of ``years`` (default: ``relevant_years(today)``) come from a sample file."""
    loaded = loaded_years()
    wanted = relevant_years(today) if years is None else years
    return sorted({year for year in wanted if year in loaded and loaded[year].sample})


def calendar_warnings(today: dt.date | None = None) -> list[str]:
    """Messages for administrators about this year's (and in December, next year's) calendar:
    broken files, missing years, sample data. Empty when all is well."""
    try:
        missing = missing_years(today=today)
        samples = sample_years(today=today)
    except CalendarError as error:
        return [_("The working calendar cannot be read: %(error)s") % {"error": error}]
    messages = [
        _(
            "There is no working calendar for %(year)s: deadlines count Monday to Friday as "
            "working days until %(year)s.json with that year's public holidays is added."
        )
        % {"year": year}
        for year in missing
    ]
    messages += [
        _(
            "The working calendar for %(year)s is a sample shipped with branchserve: check it "
            "against the State Council's notice, then set “sample” to false in %(year)s.json."
        )
        % {"year": year}
        for year in samples
    ]
    return messages


# --- working days -----------------------------------------------------------------------------


def _zone(tz: dt.tzinfo | None) -> dt.tzinfo:
    return tz or timezone.get_current_timezone()


def _aware(value: dt.datetime) -> None:
    if timezone.is_naive(value):
        raise ValueError("a timezone-aware datetime is required")


def local_date(value: dt.date | dt.datetime, tz: dt.tzinfo | None = None) -> dt.date:
    """The day ``value`` falls on: a datetime is converted to ``tz`` (default: the current time
    zone, Asia/Shanghai unless activated otherwise) first."""
    if isinstance(value, dt.datetime):
        _aware(value)
        return value.astimezone(_zone(tz)).date()
    return value


def is_working_day(day: dt.date | dt.datetime, *, tz: dt.tzinfo | None = None) -> bool:
    """Whether ``day`` is a working day: a make-up working day, or Monday–Friday outside the
    public holidays."""
    day = local_date(day, tz)
    calendar = calendar_for(day.year)
    if calendar is None:
        return day.weekday() < SATURDAY
    return calendar.is_working_day(day)


def holiday_name(day: dt.date | dt.datetime, *, tz: dt.tzinfo | None = None) -> str | None:
    """The name of the public holiday covering ``day`` (e.g. 春节), or None."""
    day = local_date(day, tz)
    calendar = calendar_for(day.year)
    return calendar.holiday_dates.get(day) if calendar else None


def next_working_day(day: dt.date | dt.datetime, *, tz: dt.tzinfo | None = None) -> dt.date:
    """The first working day after ``day`` (``day`` itself excluded)."""
    return add_working_days(local_date(day, tz), 1)


@overload
def add_working_days(start: dt.datetime, n: int, *, tz: dt.tzinfo | None = None) -> dt.datetime: ...
@overload
def add_working_days(start: dt.date, n: int, *, tz: dt.tzinfo | None = None) -> dt.date: ...
def add_working_days(
    start: dt.date | dt.datetime, n: int, *, tz: dt.tzinfo | None = None
) -> dt.date | dt.datetime:
    """The ``n``-th working day after the day of ``start``.

    The day of ``start`` never counts, whatever the time and whether or not it is a working day:
    from Friday evening (or Friday morning, or Saturday), 1 working day is the next Monday that
    is a working day. ``n = 0`` gives the day of ``start``.

    A date gives a date. An aware datetime gives the end of that day (23:59:59.999999) in
    ``tz`` (default: the current time zone), the moment the deadline passes.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = local_date(start, tz)
    counted = steps = 0
    while counted < n:
        day += dt.timedelta(days=1)
        steps += 1
        if is_working_day(day):
            counted += 1
        elif steps > MAX_DAYS + 7 * n:
            raise CalendarError([f"no {n} working days within {steps} days of {start}"])
    if isinstance(start, dt.datetime):
        return dt.datetime.combine(day, dt.time.max, tzinfo=_zone(tz))
    return day


def working_days_between(
    a: dt.date | dt.datetime, b: dt.date | dt.datetime, *, tz: dt.tzinfo | None = None
) -> int:
    """The number of working days after the day of ``a`` up to and including the day of ``b``
    (negative when ``b`` is before ``a``). ``working_days_between(a, add_working_days(a, n))``
    is ``n``; a complaint received on Friday and decided the next Monday took 1 working day."""
    first, last = local_date(a, tz), local_date(b, tz)
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    count = 0
    day = first
    while day < last:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count


# --- working hours ----------------------------------------------------------------------------


def _working_intervals(
    day_start: dt.time, day_end: dt.time, breaks: Sequence[tuple[dt.time, dt.time]]
) -> list[tuple[dt.time, dt.time]]:
    if day_start >= day_end:
        raise ValueError("day_start must be before day_end")
    intervals: list[tuple[dt.time, dt.time]] = []
    cursor = day_start
    for begin, end in sorted(breaks):
        if not (day_start <= begin < end <= day_end) or begin < cursor:
            raise ValueError("breaks must lie within the working day, in order, not overlapping")
        if begin > cursor:
            intervals.append((cursor, begin))
        cursor = end
    if cursor < day_end:
        intervals.append((cursor, day_end))
    return intervals


def add_working_hours(
    start: dt.datetime,
    hours: float | dt.timedelta,
    *,
    day_start: dt.time = dt.time(9, 0),
    day_end: dt.time = dt.time(17, 0),
    breaks: Sequence[tuple[dt.time, dt.time]] = (),
    tz: dt.tzinfo | None = None,
) -> dt.datetime:
    """The moment ``hours`` of working time after ``start``.

    Working time is ``day_start``–``day_end`` on working days, outside ``breaks`` (e.g.
    ``[(time(12), time(13, 30))]`` for lunch), in ``tz`` (default: the current time zone; pass
    an outlet's ``zone``). Time before, between and after working hours does not count: 2 hours
    from Friday 16:00 with a 09:00–17:00 day is Monday 10:00 (or the next working day's, after
    a holiday). A deadline that uses up a day's last minute ends at ``day_end`` that day.
    ``hours = 0`` gives ``start`` if it is within working time, else the next moment that is.
    """
    _aware(start)
    remaining = hours if isinstance(hours, dt.timedelta) else dt.timedelta(hours=hours)
    if remaining < dt.timedelta(0):
        raise ValueError("hours must not be negative")
    zone = _zone(tz)
    intervals = _working_intervals(day_start, day_end, breaks)
    local = start.astimezone(zone)
    day = local.date()
    for _step in range(MAX_DAYS):
        if is_working_day(day):
            for begin, end in intervals:
                begin_at = dt.datetime.combine(day, begin, tzinfo=zone)
                end_at = dt.datetime.combine(day, end, tzinfo=zone)
                if end_at <= local:
                    continue
                begin_at = max(begin_at, local)
                available = end_at - begin_at
                if remaining <= available:
                    return begin_at + remaining
                remaining -= available
        day += dt.timedelta(days=1)
    raise CalendarError([f"no working time within {MAX_DAYS} days of {start}"])
