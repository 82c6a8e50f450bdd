"""The working calendar: working days across public holidays and make-up working days, working
hours, checked files and missing years."""

from __future__ import annotations

import datetime as dt
import json
import logging
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from branchserve.core import calendar
from branchserve.core.calendar import (
    CalendarError,
    add_working_days,
    add_working_hours,
    calendar_warnings,
    holiday_name,
    is_working_day,
    load_file,
    missing_years,
    reload_calendar,
    working_days_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = Path(settings.BASE_DIR) / "core" / "calendar_data"
LUNCH = [(dt.time(12, 0), dt.time(13, 30))]


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def year_file(directory: Path, year: int, **changes: object) -> Path:
    data: dict[str, object] = {
        "year": year,
        "source": "test",
        "sample": False,
        "holidays": [{"name": "国庆节", "start": f"{year}-10-01", "end": f"{year}-10-07"}],
        "make_up_workdays": [],
    }
    data.update(changes)
    path = directory / f"{year}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def shipped_calendar(settings):
    """The shipped files, and messages in English (one test checks the Chinese)."""
    settings.CALENDAR_DIR = SHIPPED
    with translation.override("en"):
        yield
    reload_calendar()


# --- the shipped sample -----------------------------------------------------------------------


def test_shipped_years_are_marked_as_samples():
    years = calendar.loaded_years()
    assert {2025, 2026} <= set(years)
    for year in (2025, 2026):
        assert years[year].sample is True
        assert "国务院办公厅" in years[year].source
        assert years[year].note


def test_shipped_files_pass_calendar_check():
    out = StringIO()
    call_command("calendar_check", stdout=out)
    assert "2025.json" in out.getvalue()
    assert "2026.json" in out.getvalue()


def test_holidays_and_make_up_days_of_2025():
    assert not is_working_day(dt.date(2025, 10, 1))  # National Day, a Wednesday
    assert not is_working_day(dt.date(2025, 10, 8))  # last day of the Golden Week
    assert is_working_day(dt.date(2025, 9, 28))  # Sunday, make-up working day
    assert is_working_day(dt.date(2025, 10, 11))  # Saturday, make-up working day
    assert not is_working_day(dt.date(2025, 10, 12))  # an ordinary Sunday
    assert is_working_day(dt.date(2025, 10, 9))  # an ordinary Thursday
    assert holiday_name(dt.date(2025, 10, 3)) == "国庆节、中秋节"
    assert holiday_name(dt.date(2025, 10, 9)) is None


# --- working days -----------------------------------------------------------------------------


def test_add_working_days_across_the_golden_week():
    # Tuesday 30 September 2025; 1–8 October are holidays.
    assert add_working_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 9)
    # Thursday 9, Friday 10, then Saturday 11 October is a make-up working day.
    assert add_working_days(dt.date(2025, 9, 30), 3) == dt.date(2025, 10, 11)
    assert add_working_days(dt.date(2025, 9, 30), 4) == dt.date(2025, 10, 13)


def test_add_working_days_counts_a_weekend_make_up_day():
    # From Friday 26 September 2025 the next working day is Sunday 28 (调休上班).
    assert add_working_days(dt.date(2025, 9, 26), 1) == dt.date(2025, 9, 28)
    assert add_working_days(dt.date(2025, 9, 26), 2) == dt.date(2025, 9, 29)


def test_counting_starts_the_next_day_whatever_the_time():
    # Friday morning and Friday evening give the same deadline: Monday is working day 1.
    morning = add_working_days(at(2026, 3, 6, 8, 0), 1)
    evening = add_working_days(at(2026, 3, 6, 19, 30), 1)
    assert morning == evening == at(2026, 3, 9, 23, 59, 59, 999999)
    # So does a complaint received on the Saturday.
    assert add_working_days(at(2026, 3, 7, 10, 0), 1) == morning


def test_a_15_working_day_deadline_over_the_spring_festival():
    # Received Friday 13 February 2026 at 19:00. Saturday 14 is a make-up working day, 15–23
    # are the Spring Festival holiday, Saturday 28 is another make-up working day.
    received = at(2026, 2, 13, 19, 0)
    due = add_working_days(received, 15)
    assert due == at(2026, 3, 12, 23, 59, 59, 999999)
    assert working_days_between(received, due) == 15
    assert working_days_between(received, at(2026, 3, 11, 9, 0)) == 14


def test_datetimes_count_in_the_local_time_zone():
    # Monday 07:00 in Shanghai is still Sunday in UTC: the count starts from Monday.
    monday_morning = at(2026, 3, 9, 7, 0).astimezone(dt.UTC)
    assert monday_morning.date() == dt.date(2026, 3, 8)
    assert add_working_days(monday_morning, 1) == at(2026, 3, 10, 23, 59, 59, 999999)
    assert add_working_days(monday_morning, 1, tz=dt.UTC).date() == dt.date(2026, 3, 9)


def test_zero_and_negative_working_days():
    assert add_working_days(dt.date(2025, 10, 1), 0) == dt.date(2025, 10, 1)
    with pytest.raises(ValueError):
        add_working_days(dt.date(2025, 10, 1), -1)
    with pytest.raises(ValueError):
        add_working_days(dt.datetime(2025, 10, 1, 9, 0), 1)  # naive


def test_working_days_between_in_both_directions():
    assert working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 9)) == 1
    assert working_days_between(dt.date(2025, 10, 9), dt.date(2025, 9, 30)) == -1
    assert working_days_between(dt.date(2025, 10, 2), dt.date(2025, 10, 2)) == 0
    # Across the new year: 2025-12-31 (Wed) to 2026-01-05 (Mon): Jan 1–3 holiday, Sunday 4 is
    # a make-up working day, Monday 5 a working day.
    assert working_days_between(dt.date(2025, 12, 31), dt.date(2026, 1, 5)) == 2


@given(
    start=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 12, 31)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_and_between_agree(start, n):
    due = add_working_days(start, n)
    assert is_working_day(due)
    assert working_days_between(start, due) == n
    assert working_days_between(start, due - dt.timedelta(days=1)) == n - 1


# --- working hours ----------------------------------------------------------------------------


def test_working_hours_skip_lunch():
    start = at(2026, 3, 10, 11, 0)  # a Tuesday
    assert add_working_hours(start, 2, breaks=LUNCH) == at(2026, 3, 10, 14, 30)
    assert add_working_hours(start, 2) == at(2026, 3, 10, 13, 0)
    # Starting during lunch counts from 13:30.
    assert add_working_hours(at(2026, 3, 10, 12, 15), 1, breaks=LUNCH) == at(2026, 3, 10, 14, 30)


def test_working_hours_carry_over_the_evening_and_night():
    assert add_working_hours(at(2026, 3, 10, 16, 30), 1) == at(2026, 3, 11, 9, 30)
    assert add_working_hours(at(2026, 3, 10, 20, 0), 1) == at(2026, 3, 11, 10, 0)
    assert add_working_hours(at(2026, 3, 10, 7, 0), 1) == at(2026, 3, 10, 10, 0)
    # A deadline that uses up the day ends at closing time, not the next morning.
    assert add_working_hours(at(2026, 3, 10, 9, 0), 8) == at(2026, 3, 10, 17, 0)
    assert add_working_hours(at(2026, 3, 10, 9, 0), 8.5) == at(2026, 3, 11, 9, 30)


def test_working_hours_skip_the_weekend_and_holidays():
    # Friday 16:00 + 2 h: 1 h on Friday, 1 h on Monday.
    assert add_working_hours(at(2026, 3, 6, 16, 0), 2) == at(2026, 3, 9, 10, 0)
    # Friday 13 February 2026: the next day is a make-up working Saturday.
    assert add_working_hours(at(2026, 2, 13, 16, 0), 2) == at(2026, 2, 14, 10, 0)
    # The Golden Week: from Tuesday 30 September 2025 to Thursday 9 October.
    assert add_working_hours(at(2025, 9, 30, 16, 0), 2) == at(2025, 10, 9, 10, 0)
    assert add_working_hours(
        at(2025, 9, 30, 16, 0),
        dt.timedelta(hours=3),
        day_start=dt.time(8, 30),
        day_end=dt.time(17, 30),
        breaks=LUNCH,
    ) == at(2025, 10, 9, 10, 0)  # 1.5 h on Tuesday until 17:30, 1.5 h from 08:30


def test_working_hours_zero_and_bad_arguments():
    assert add_working_hours(at(2026, 3, 10, 10, 0), 0) == at(2026, 3, 10, 10, 0)
    assert add_working_hours(at(2026, 3, 7, 10, 0), 0) == at(2026, 3, 9, 9, 0)  # Saturday
    with pytest.raises(ValueError):
        add_working_hours(dt.datetime(2026, 3, 10, 10, 0), 1)
    with pytest.raises(ValueError):
        add_working_hours(at(2026, 3, 10, 10, 0), -1)
    with pytest.raises(ValueError):
        add_working_hours(at(2026, 3, 10, 10, 0), 1, day_start=dt.time(17), day_end=dt.time(9))
    with pytest.raises(ValueError):
        add_working_hours(at(2026, 3, 10, 10, 0), 1, breaks=[(dt.time(8), dt.time(10))])


def test_working_hours_in_an_outlets_time_zone():
    urumqi = ZoneInfo("Asia/Urumqi")  # UTC+6, two hours behind Beijing time
    start = at(2026, 3, 10, 16, 0)  # 14:00 in Urumqi
    assert add_working_hours(start, 2, tz=urumqi) == dt.datetime(2026, 3, 10, 16, 0, tzinfo=urumqi)


# --- files ------------------------------------------------------------------------------------


def test_invalid_files_are_rejected_with_every_problem(tmp_path):
    path = year_file(
        tmp_path,
        2027,
        source="",
        sample="yes",
        colour="red",
        holidays=[
            {"name": "春节", "start": "2027-02-10", "end": "2027-02-05"},
            {"name": "元旦", "start": "2026-12-31", "end": "2027-01-01"},
            {"name": "清明节", "start": "2027-04-31"},
            {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
            {"name": "中秋节", "start": "2027-10-07", "end": "2027-10-08"},
        ],
        make_up_workdays=[
            {"date": "2027-10-02"},  # inside the National Day holiday (a Saturday)
            {"date": "2027-09-28"},  # a Tuesday
            {"date": "2027-09-26"},
            {"date": "2027-09-26"},
        ],
    )
    with pytest.raises(CalendarError) as caught:
        load_file(path)
    errors = "\n".join(caught.value.errors)
    assert "Unknown field 'colour'" in errors
    assert "“source”" in errors
    assert "“sample” must be true or false" in errors
    assert "the end 2027-02-05 is before the start 2027-02-10" in errors
    assert "2026-12-31 is not in 2027" in errors
    assert "'2027-04-31' is not a date" in errors
    assert "2027-10-07 is already in the holiday 国庆节" in errors
    assert "2027-10-02 is also a day of the holiday 国庆节" in errors
    assert "2027-09-28 is a weekday" in errors
    assert "2027-09-26 is listed twice" in errors
    assert str(path) in str(caught.value)


def test_file_name_must_match_its_year_and_json_must_parse(tmp_path):
    path = year_file(tmp_path, 2027)
    misnamed = path.rename(tmp_path / "2028.json")
    with pytest.raises(CalendarError, match="named after 2028"):
        load_file(misnamed)
    broken = tmp_path / "2029.json"
    broken.write_text('{"year": 2029,', encoding="utf-8")
    with pytest.raises(CalendarError, match="Not valid JSON"):
        load_file(broken)


def test_errors_are_in_chinese_in_the_chinese_ui(tmp_path):
    path = year_file(tmp_path, 2027, make_up_workdays=[{"date": "2027-10-03"}])
    with translation.override("zh-hans"), pytest.raises(CalendarError) as caught:
        load_file(path)
    assert "国庆节" in caught.value.errors[0]
    assert "节假日" in caught.value.errors[0]


def test_a_broken_file_stops_deadlines_and_the_check_command(tmp_path, settings):
    year_file(tmp_path, 2026)
    year_file(tmp_path, 2027, holidays="none")
    settings.CALENDAR_DIR = tmp_path
    with pytest.raises(CalendarError, match=r"2027\.json"):
        is_working_day(dt.date(2026, 3, 10))
    warnings = calendar_warnings(dt.date(2026, 3, 10))
    assert len(warnings) == 1
    assert "2027.json" in warnings[0]
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("calendar_check", stdout=out)
    assert "“holidays” must be a list" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("calendar_check", str(tmp_path / "2027.json"), stdout=StringIO())
    call_command("calendar_check", str(tmp_path / "2026.json"), stdout=StringIO())


# --- a year without a file --------------------------------------------------------------------


def test_a_missing_year_counts_weekdays_and_warns(tmp_path, settings, caplog):
    year_file(tmp_path, 2026)
    settings.CALENDAR_DIR = tmp_path
    with caplog.at_level(logging.WARNING, logger="branchserve.core.calendar"):
        # 1 October 2027 is a Friday: without a 2027 file it is an ordinary working day.
        assert is_working_day(dt.date(2027, 10, 1))
        assert not is_working_day(dt.date(2027, 10, 2))
        assert add_working_days(dt.date(2027, 9, 30), 1) == dt.date(2027, 10, 1)
    missing_logs = [r for r in caplog.records if "no working calendar for 2027" in r.getMessage()]
    assert len(missing_logs) == 1  # once per process, not once per day asked about
    assert not is_working_day(dt.date(2026, 10, 1))  # 2026 has its file

    assert missing_years(today=dt.date(2026, 6, 1)) == []
    assert missing_years(today=dt.date(2026, 12, 1)) == [2027]  # December looks ahead
    assert missing_years([2025, 2026, 2027]) == [2025, 2027]
    warnings = calendar_warnings(dt.date(2026, 12, 1))
    assert len(warnings) == 1
    assert "2027" in warnings[0]


def test_sample_years_are_reported_to_administrators():
    warnings = calendar_warnings(dt.date(2026, 6, 1))
    assert len(warnings) == 1
    assert "2026" in warnings[0]
    assert "sample" in warnings[0]


def test_reload_reads_files_again(tmp_path, settings):
    settings.CALENDAR_DIR = tmp_path
    assert is_working_day(dt.date(2027, 10, 1))
    year_file(tmp_path, 2027)
    assert is_working_day(dt.date(2027, 10, 1))  # still cached
    reload_calendar()
    assert not is_working_day(dt.date(2027, 10, 1))
