"""Importing the organisation and its staff from a roster: an Excel workbook (.xlsx) or a CSV
file that a bank's HR or operations staff fill in. The format is described in
``docs/import.md``; ``branchserve org-template OUT`` writes a template.

- **xlsx**: one sheet per record type, 单位 (units), 窗口 (counters) and 人员 (staff, one row per
  assignment); a sheet named 说明 is ignored. The first non-empty row of a sheet is its header.
- **CSV**: one file; the column 记录类型 says what each row is (单位 / 窗口 / 人员) and the other
  columns are those of the three sheets side by side (a row fills only its own columns).

Headers are Chinese, English aliases are accepted (``docs/import.md`` lists them). Every row is
checked — against the file and against what the system already holds — before anything is
written; any bad row and nothing is imported. Importing the same file again changes nothing:
units and counters are matched by code, staff by employee number, assignments by staff + unit
+ role + start date. Rows never delete anything, and an empty optional cell keeps what the
system has.

Staff get a login (Django ``User``) whose username is their employee number, with no usable
password unless ``initial_password`` is given: an administrator sets one before they can log
in. Import never changes an existing login's password and never grants admin-site access.

``import_roster`` is the one call (used by ``branchserve import-org`` and, later, an upload
page); it is ``check_roster`` (read and validate, no writes) then ``do_import_roster`` (write in
one transaction, audited). The caller decides who may import.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.org.choices import ALLOWED_PARENTS, ROLE_UNIT_KINDS, Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff

DEFAULT_TIME_ZONE = "Asia/Shanghai"
MAX_COUNTER_NUMBER = 32767  # PositiveSmallIntegerField
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-()]*$")


class RecordType(StrEnum):
    UNIT = "unit"
    COUNTER = "counter"
    STAFF = "staff"


# The roster's vocabulary is Chinese, whatever the language of the UI: these names are part of
# the file format (like column headers), not UI text. The first name of each is the one the
# template and the documentation use; English values and aliases are accepted too.
KIND_NAMES: dict[str, tuple[str, ...]] = {
    UnitKind.PROVINCE: ("省分行", "分行", "省行", "province", "province branch"),
    UnitKind.BUSINESS_DEPARTMENT: ("营业部", "business department"),
    UnitKind.SUB_BRANCH: ("支行", "sub branch", "subbranch"),
    UnitKind.OUTLET: ("网点", "营业网点", "营业室", "分理处", "储蓄所", "outlet"),
}
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    Role.TELLER: ("柜员", "综合柜员", "teller"),
    Role.LOBBY_MANAGER: ("大堂经理", "lobby manager"),
    Role.OUTLET_HEAD: ("网点负责人", "网点主任", "outlet head"),
    Role.SUB_BRANCH_PRESIDENT: ("支行行长", "行长", "sub branch president"),
    Role.SUB_BRANCH_SERVICE_MANAGER: ("支行服务经理", "sub branch service manager"),
    Role.PROVINCE_SERVICE_MANAGER: (
        "省分行服务经理",
        "服务管理部门",
        "province service manager",
    ),
    Role.AUDITOR: ("审计员", "稽核员", "auditor"),
    Role.SYSTEM_ADMIN: ("系统管理员", "system admin", "system administrator"),
}
RECORD_NAMES: dict[RecordType, tuple[str, ...]] = {
    RecordType.UNIT: ("单位", "单位表", "机构", "unit", "units", "org units"),
    RecordType.COUNTER: ("窗口", "窗口表", "counter", "counters"),
    RecordType.STAFF: ("人员", "人员表", "员工", "staff", "people", "employees"),
}
IGNORED_SHEETS = ("说明", "填写说明", "instructions", "readme")
IGNORED_COLUMNS = ("备注", "序号", "note", "notes", "remark", "remarks")
RECORD_TYPE_COLUMN = ("记录类型", "类型", "record type", "record")


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as in the template
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    help: str = ""  # shown in the template (Chinese: the format is Chinese)


UNIT_COLUMNS = (
    Column("code", "单位代码", ("unit code", "code"), True, 32, "唯一；字母、数字、-、_、."),
    Column("name", "单位名称", ("unit name", "name"), True, 100, "中文全称"),
    Column("kind", "单位类型", ("kind", "unit kind"), True, None, "省分行、营业部、支行或网点"),
    Column("parent", "上级单位代码", ("parent", "parent code"), False, 32, "省分行不填；其余必填"),
    Column("time_zone", "时区", ("time zone", "timezone"), False, 64, "默认 Asia/Shanghai"),
    Column(
        "opening_hours",
        "营业时间",
        ("opening hours", "hours"),
        False,
        None,
        "仅网点：如 周一至周五 09:00-17:00；周六 09:30-16:00（未列出的日子不营业）",
    ),
    Column("address", "地址", ("address",), False, 200, ""),
)
COUNTER_COLUMNS = (
    Column("outlet", "网点代码", ("outlet", "outlet code"), True, 32, "窗口所属网点"),
    Column("number", "窗口号", ("number", "counter number"), True, None, "1、2、3……"),
    Column("code", "窗口代码", ("counter code", "code"), False, 40, "不填则为 网点代码-窗口号"),
    Column("name", "窗口名称", ("counter name", "name"), False, 60, "如 现金窗口"),
)
STAFF_COLUMNS = (
    Column(
        "employee_no",
        "工号",
        ("员工号", "员工编号", "employee number", "employee no"),
        True,
        20,
        "即登录用户名",
    ),
    Column("name", "姓名", ("name",), True, 40, ""),
    Column("phone", "手机号", ("手机", "电话", "联系电话", "phone", "mobile"), False, 20, ""),
    Column("unit", "单位代码", ("unit", "unit code"), True, 32, "任职单位"),
    Column("role", "岗位", ("角色", "role"), True, None, "柜员、大堂经理、网点负责人……"),
    Column("starts_on", "开始日期", ("任职开始日期", "start date", "starts on"), True, None, ""),
    Column("ends_on", "结束日期", ("任职结束日期", "end date", "ends on"), False, None, "在任不填"),
)
COLUMNS: dict[RecordType, tuple[Column, ...]] = {
    RecordType.UNIT: UNIT_COLUMNS,
    RecordType.COUNTER: COUNTER_COLUMNS,
    RecordType.STAFF: STAFF_COLUMNS,
}


def sheet_title(record: RecordType) -> str:
    return RECORD_NAMES[record][0]


def csv_headers() -> list[str]:
    """The CSV template's columns: the record type, then every sheet's columns once."""
    headers = [RECORD_TYPE_COLUMN[0]]
    for columns in COLUMNS.values():
        headers += [c.header for c in columns if c.header not in headers]
    return headers


def normalise(text: Any) -> str:
    """A header or keyword as compared: full-width folded, hints in brackets and ``*`` removed,
    case, spaces, ``-`` and ``_`` ignored."""
    value = unicodedata.normalize("NFKC", str(text))
    value = re.sub(r"\(.*?\)", "", value).replace("*", "")
    return re.sub(r"[\s_\-]+", " ", value).strip().lower()


def _lookup(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        normalise(alias): value for value, aliases in names.items() for alias in (*aliases, value)
    }


KIND_LOOKUP = _lookup(KIND_NAMES)
IGNORED_COLUMN_KEYS = {normalise(name) for name in IGNORED_COLUMNS}
IGNORED_SHEET_KEYS = {normalise(name) for name in IGNORED_SHEETS}
RECORD_TYPE_KEYS = {normalise(name) for name in RECORD_TYPE_COLUMN}
ROLE_LOOKUP = _lookup(ROLE_NAMES)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
RECORD_LOOKUP = {normalise(a): r for r, names in RECORD_NAMES.items() for a in (*names, r.value)}


def kind_name(kind: str) -> str:
    return KIND_NAMES[kind][0]


def role_name(role: str) -> str:
    return ROLE_NAMES[role][0]


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: where (sheet as named in the file — the file's name for CSV —, row number as
    a spreadsheet shows it, column header) and why, in the active language."""

    sheet: str
    row: int | None
    column: str
    message: str


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _tallies() -> dict[str, Tally]:
    return {"units": Tally(), "counters": Tally(), "staff": Tally(), "assignments": Tally()}


@dataclass
class ImportReport:
    source: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, Tally] = field(default_factory=_tallies)
    logins_created: int = 0
    dry_run: bool = False
    applied: bool = False  # written and committed

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_with_errors(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.row is not None})

    @property
    def rows_ok(self) -> int:
        return self.rows - self.rows_with_errors


# --- reading files ------------------------------------------------------------------------


@dataclass
class RawRow:
    record: RecordType
    sheet: str
    row: int
    cells: dict[str, Any]  # column key → raw value
    headers: dict[str, str]  # column key → the header as written in the file


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []
        self.skipped_rows = 0  # rows dropped for a bad record type (still counted as read)

    def add(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.items.append(RowError(sheet, row, column, message))

    def at(self, raw: RawRow, key: str, message: str) -> None:
        self.add(raw.sheet, raw.row, raw.headers.get(key, key), message)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _map_headers(
    headers: list[Any], records: Iterable[RecordType], *, sheet: str, row: int, errors: _Errors
) -> tuple[dict[RecordType, dict[int, Column]], int | None]:
    """Which column index holds which field, per record type, and the record-type column's
    index (CSV)."""
    mapping: dict[RecordType, dict[int, Column]] = {r: {} for r in records}
    record_index: int | None = None
    for index, header in enumerate(headers):
        if _is_blank(header) or normalise(header) in IGNORED_COLUMN_KEYS:
            continue
        key = normalise(header)
        if key in RECORD_TYPE_KEYS and len(mapping) > 1:
            record_index = index
            continue
        found = False
        for rec, columns in mapping.items():
            for column in COLUMNS[rec]:
                if key in {normalise(column.header), *(normalise(a) for a in column.aliases)}:
                    found = True
                    other = next((i for i, c in columns.items() if c.key == column.key), None)
                    if other is not None:
                        errors.add(
                            sheet,
                            row,
                            str(header),
                            _("Column “%(column)s” appears twice (also “%(other)s”).")
                            % {"column": header, "other": headers[other]},
                        )
                    else:
                        columns[index] = column
        if not found:
            errors.add(
                sheet, row, str(header), _("Unknown column “%(column)s”.") % {"column": header}
            )
    return mapping, record_index


def _check_required_columns(
    record: RecordType, columns: dict[int, Column], *, sheet: str, row: int, errors: _Errors
) -> None:
    present = {c.key for c in columns.values()}
    for column in COLUMNS[record]:
        if column.required and column.key not in present:
            errors.add(
                sheet,
                row,
                column.header,
                _("Required column “%(column)s” is missing.") % {"column": column.header},
            )


def _rows_of_table(
    table: Iterable[tuple[int, list[Any]]],
    *,
    sheet: str,
    record: RecordType | None,
    errors: _Errors,
) -> list[RawRow]:
    """Rows of one sheet (``record`` given) or of a CSV file (record type per row)."""
    rows = iter(table)
    first = next(((n, h) for n, h in rows if not all(_is_blank(v) for v in h)), None)
    if first is None:
        return []
    header_row, headers = first
    records = [record] if record else list(RecordType)
    mapping, record_index = _map_headers(
        headers, records, sheet=sheet, row=header_row, errors=errors
    )
    if record is None and record_index is None:
        errors.add(
            sheet,
            header_row,
            RECORD_TYPE_COLUMN[0],
            _("Required column “%(column)s” is missing.") % {"column": RECORD_TYPE_COLUMN[0]},
        )
        return []
    expected = "、".join(sheet_title(r) for r in RecordType)
    result: list[RawRow] = []
    seen_records: set[RecordType] = set()
    for number, values in rows:
        if all(_is_blank(v) for v in values):
            continue
        values = list(values) + [None] * (len(headers) - len(values))
        if record is not None:
            row_record = record
        else:
            assert record_index is not None
            raw_type = values[record_index]
            if _is_blank(raw_type):
                errors.add(
                    sheet,
                    number,
                    str(headers[record_index]),
                    _("The record type is required (%(expected)s).") % {"expected": expected},
                )
                errors.skipped_rows += 1
                continue
            found = RECORD_LOOKUP.get(normalise(raw_type))
            if found is None:
                errors.add(
                    sheet,
                    number,
                    str(headers[record_index]),
                    _("Unknown record type “%(value)s”: use %(expected)s.")
                    % {"value": raw_type, "expected": expected},
                )
                errors.skipped_rows += 1
                continue
            row_record = found
        columns = mapping[row_record]
        if row_record not in seen_records:
            seen_records.add(row_record)
            _check_required_columns(row_record, columns, sheet=sheet, row=header_row, errors=errors)
        cells: dict[str, Any] = {}
        header_names: dict[str, str] = {}
        for index, value in enumerate(values[: len(headers)]):
            if index in columns:
                cells[columns[index].key] = value
                header_names[columns[index].key] = str(headers[index])
            elif (
                record is None
                and index != record_index
                and not _is_blank(value)
                and not _is_blank(headers[index])
                and any(index in m for m in mapping.values())
            ):
                errors.add(
                    sheet,
                    number,
                    str(headers[index]),
                    _("Column “%(column)s” does not apply to %(record)s rows; leave it empty.")
                    % {"column": headers[index], "record": sheet_title(row_record)},
                )
        result.append(RawRow(row_record, sheet, number, cells, header_names))
    return result


def _read_xlsx(source: Path | IO[bytes], errors: _Errors, name: str) -> list[RawRow]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(source, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        errors.add(
            name,
            None,
            "",
            _("This is not a readable Excel (.xlsx) file: %(error)s") % {"error": error},
        )
        return []
    rows: list[RawRow] = []
    seen: dict[RecordType, str] = {}
    expected = "、".join(sheet_title(r) for r in RecordType)
    for worksheet in workbook.worksheets:
        key = normalise(worksheet.title)
        if key in IGNORED_SHEET_KEYS:
            continue
        record = RECORD_LOOKUP.get(key)
        if record is None:
            if worksheet.max_row > 1 or worksheet.max_column > 1 or worksheet["A1"].value:
                errors.add(
                    worksheet.title,
                    None,
                    "",
                    _(
                        "Unknown sheet “%(sheet)s”: use %(expected)s (a sheet named 说明 is "
                        "ignored)."
                    )
                    % {"sheet": worksheet.title, "expected": expected},
                )
            continue
        if record in seen:
            errors.add(
                worksheet.title,
                None,
                "",
                _("Sheet “%(sheet)s” holds the same records as sheet “%(other)s”.")
                % {"sheet": worksheet.title, "other": seen[record]},
            )
            continue
        seen[record] = worksheet.title
        table = (
            (cells[0].row, [cell.value for cell in cells])
            for cells in worksheet.iter_rows()
            if cells
        )
        rows += _rows_of_table(table, sheet=worksheet.title, record=record, errors=errors)
    return rows


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_csv(data: bytes, errors: _Errors, name: str) -> list[RawRow]:
    text = _decode(data)
    if text is None:
        errors.add(name, None, "", _("The file is neither UTF-8 nor GB18030 (GBK) text."))
        return []
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = ((number, list(values)) for number, values in enumerate(reader, start=1))
    return _rows_of_table(table, sheet=name, record=None, errors=errors)


@dataclass
class RosterFile:
    name: str
    rows: list[RawRow]
    errors: list[RowError]
    count: int  # data rows read, including those that could not be sorted into a record type


def read_roster(source: Path | str | IO[bytes], *, name: str | None = None) -> RosterFile:
    """The rows of a roster file (a path, or an uploaded file with its ``name``), and the
    problems with the file's layout (unknown sheets or columns, missing columns …)."""
    errors = _Errors()
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        opened: IO[bytes] | Path = path
    else:
        opened = source
        name = name or getattr(source, "name", "") or "roster"
    name = Path(name).name
    suffix = Path(name).suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            rows = _read_xlsx(opened, errors, name)
        elif suffix in {".csv", ".txt"}:
            data = opened.read_bytes() if isinstance(opened, Path) else opened.read()
            rows = _read_csv(data, errors, name)
        else:
            errors.add(
                name,
                None,
                "",
                _("Unsupported file type “%(name)s”: save the roster as .xlsx (Excel) or .csv.")
                % {"name": name},
            )
            rows = []
    except OSError as error:
        errors.add(name, None, "", _("Cannot read the file: %(error)s") % {"error": error})
        rows = []
    return RosterFile(name, rows, errors.items, len(rows) + errors.skipped_rows)


# --- cells --------------------------------------------------------------------------------


class CellError(ValueError):
    pass


def _text(value: Any, *, fold: bool = True) -> str:
    """A cell as text: numbers without a trailing ``.0``, full-width characters folded (unless
    ``fold`` is off, for people's names)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = str(value)
    if fold:
        text = unicodedata.normalize("NFKC", text)
    return text.replace("\u200b", "").replace("\ufeff", "").strip()


def parse_code(value: Any, max_length: int | None) -> str:
    code = _text(value)
    if max_length and len(code) > max_length:
        raise CellError(_("Too long: at most %(max)s characters.") % {"max": max_length})
    if not CODE_PATTERN.match(code):
        raise CellError(
            _("“%(value)s”: codes may contain only letters, digits, “-”, “_” and “.”.")
            % {"value": code}
        )
    return code


def parse_kind(value: Any) -> str:
    kind = KIND_LOOKUP.get(normalise(value))
    if kind is None:
        raise CellError(
            _("Unknown unit kind “%(value)s”: use %(expected)s.")
            % {"value": _text(value), "expected": "、".join(kind_name(k) for k in UnitKind)}
        )
    return kind


def parse_role(value: Any) -> str:
    role = ROLE_LOOKUP.get(normalise(value))
    if role is None:
        raise CellError(
            _("Unknown role “%(value)s”: use %(expected)s.")
            % {"value": _text(value), "expected": "、".join(role_name(r) for r in Role)}
        )
    return role


def parse_time_zone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(
            _("Unknown time zone “%(value)s” (e.g. Asia/Shanghai).") % {"value": name}
        ) from None
    return name


DATE_PATTERN = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    match = DATE_PATTERN.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if match:
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
        else:
            if 1900 <= day.year <= 2100:
                return day
    raise CellError(_("“%(value)s” is not a date such as 2025-01-31.") % {"value": text})


def parse_counter_number(value: Any) -> int:
    text = _text(value)
    if text.isdigit() and 1 <= int(text) <= MAX_COUNTER_NUMBER:
        return int(text)
    raise CellError(
        _("“%(value)s” is not a counter number (a whole number from 1 to %(max)s).")
        % {"value": text, "max": MAX_COUNTER_NUMBER}
    )


def parse_phone(value: Any) -> str:
    phone = _text(value)
    if len(phone) > 20 or not PHONE_PATTERN.match(phone) or sum(c.isdigit() for c in phone) < 5:
        raise CellError(_("“%(value)s” is not a phone number.") % {"value": phone})
    return phone


# Opening hours: "周一至周五 09:00-17:00；周六 09:30-16:00", "每天 09:00-17:00",
# "Mon-Fri 09:00-17:00; Sat 09:30-16:00", "周日 休息". Days not listed are closed.
DAY_WORDS: dict[str, tuple[int, ...]] = {
    "每天": tuple(range(7)),
    "每日": tuple(range(7)),
    "daily": tuple(range(7)),
    "every day": tuple(range(7)),
    "工作日": (0, 1, 2, 3, 4),
    "weekdays": (0, 1, 2, 3, 4),
    "周末": (5, 6),
    "weekends": (5, 6),
    "weekend": (5, 6),
}
DAY_NAMES: dict[str, int] = {
    **{c: i for i, c in enumerate("一二三四五六日")},
    "天": 6,
    "七": 6,
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
CLOSED_WORDS = {"休息", "闭门", "不营业", "closed"}
TIME_RANGE = re.compile(r"(\d{1,2}:\d{2})\s*(?:-|~|–|—|至|到|to)\s*(\d{1,2}:\d{2})")
RANGE_SEPARATOR = re.compile(r"\s*(?:至|到|-|~|–|—|to)\s*")


def _day(token: str) -> int:
    word = re.sub(r"^(星期|礼拜|周)", "", token.strip().lower()).strip(" .")
    if word in DAY_NAMES:
        return DAY_NAMES[word]
    raise CellError(_("unknown day “%(day)s”") % {"day": token.strip()})


def _days(spec: str) -> tuple[int, ...]:
    days: list[int] = []
    for part in re.split(r"\s*[、,/&]\s*|\s+and\s+", spec.strip().lower()):
        if not part:
            continue
        if part in DAY_WORDS:
            days += DAY_WORDS[part]
            continue
        ends = RANGE_SEPARATOR.split(part)
        if len(ends) == 2:
            first, last = _day(ends[0]), _day(ends[1])
            span = (last - first) % 7
            days += [(first + i) % 7 for i in range(span + 1)]
        elif len(ends) == 1:
            days.append(_day(part))
        else:
            raise CellError(_("unknown day “%(day)s”") % {"day": part})
    if not days:
        raise CellError(_("no days before the hours in “%(part)s”") % {"part": spec})
    return tuple(days)


def _time(text: str) -> dt.time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours > 23 or minutes > 59:
        raise CellError(_("“%(time)s” is not a time like 09:00") % {"time": text})
    return dt.time(hours, minutes)


def _segments(text: str) -> list[str]:
    segments: list[str] = []
    for piece in re.split(r"[;\n]", text):
        piece = piece.strip()
        if not piece:
            continue
        parts = [p.strip() for p in re.split(r"[,，]", piece) if p.strip()]
        if len(parts) > 1 and all(
            TIME_RANGE.search(p) or any(w in p.lower() for w in CLOSED_WORDS) for p in parts
        ):
            segments += parts
        else:
            segments.append(piece)
    return segments


def parse_opening_hours(value: Any) -> dict[int, tuple[dt.time, dt.time] | None]:
    """Weekday (Monday = 0) → (opens, closes), or None for a day said to be closed."""
    text = _text(value)
    hours: dict[int, tuple[dt.time, dt.time] | None] = {}
    try:
        for segment in _segments(text):
            match = TIME_RANGE.search(segment)
            closed = next((w for w in CLOSED_WORDS if segment.lower().endswith(w)), None)
            if match and not segment[match.end() :].strip():
                spec = segment[: match.start()]
                opens, closes = _time(match.group(1)), _time(match.group(2))
                if closes <= opens:
                    raise CellError(
                        _("the closing time %(closes)s is not after the opening time %(opens)s")
                        % {"closes": match.group(2), "opens": match.group(1)}
                    )
                span: tuple[dt.time, dt.time] | None = (opens, closes)
            elif closed:
                spec = segment[: -len(closed)]
                span = None
            else:
                raise CellError(_("no hours such as 09:00-17:00 in “%(part)s”") % {"part": segment})
            for day in _days(spec):
                if day in hours:
                    raise CellError(_("%(day)s is given twice") % {"day": WEEKDAY_NAMES[day]})
                hours[day] = span
    except CellError as error:
        raise CellError(
            _(
                "Cannot read the opening hours “%(value)s”: %(problem)s "
                "(write e.g. 周一至周五 09:00-17:00；周六 09:30-16:00)."
            )
            % {"value": text, "problem": error}
        ) from None
    return hours


# --- checking -----------------------------------------------------------------------------


@dataclass
class UnitRow:
    raw: RawRow
    code: str
    name: str = ""
    kind: str | None = None
    parent: str | None = None
    time_zone: str | None = None
    hours: dict[int, tuple[dt.time, dt.time] | None] | None = None
    address: str | None = None


@dataclass
class CounterRow:
    raw: RawRow
    outlet: str
    number: int
    code: str
    name: str | None = None


@dataclass
class StaffRow:
    raw: RawRow
    employee_no: str
    name: str
    phone: str | None
    unit: str
    role: str
    starts_on: dt.date
    ends_on: dt.date | None


@dataclass
class RosterPlan:
    """A checked roster: what to write, or the errors that stop it."""

    source: str
    rows: int
    errors: list[RowError]
    units: list[UnitRow] = field(default_factory=list)
    counters: list[CounterRow] = field(default_factory=list)
    staff: list[StaffRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Cells:
    """Reads one row's cells, recording a problem per bad cell."""

    def __init__(self, raw: RawRow, errors: _Errors) -> None:
        self.raw = raw
        self.errors = errors
        self.ok = True
        self.columns = {c.key: c for c in COLUMNS[raw.record]}

    def get(self, key: str, parse: Any = None, *, fold: bool = True) -> Any:
        column = self.columns[key]
        value = self.raw.cells.get(key)
        if _is_blank(value):
            if column.required:
                if key in self.raw.headers:
                    self.fail(key, _("“%(column)s” is required.") % {"column": column.header})
                else:
                    self.ok = False  # the missing column is reported once, at the header
            return None
        try:
            if parse is not None:
                return parse(value)
            text = _text(value, fold=fold)
            if column.max_length and len(text) > column.max_length:
                raise CellError(
                    _("Too long: at most %(max)s characters.") % {"max": column.max_length}
                )
            return text
        except CellError as error:
            self.fail(key, str(error))
            return None

    def fail(self, key: str, message: str) -> None:
        self.ok = False
        self.errors.at(self.raw, key, message)


def _check_units(rows: list[RawRow], errors: _Errors) -> list[UnitRow]:
    units: list[UnitRow] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        cells = _Cells(raw, errors)
        code = cells.get("code", lambda v: parse_code(v, 32))
        unit = UnitRow(
            raw=raw,
            code=code or "",
            name=cells.get("name", fold=False) or "",
            kind=cells.get("kind", parse_kind),
            parent=cells.get("parent", lambda v: parse_code(v, 32)),
            time_zone=cells.get("time_zone", parse_time_zone),
            hours=cells.get("opening_hours", parse_opening_hours),
            address=cells.get("address", fold=False),
        )
        if code is None:
            continue
        if code in first_row:
            cells.fail(
                "code",
                _("Duplicate unit code %(code)s: already on row %(row)s.")
                % {"code": code, "row": first_row[code]},
            )
            continue
        first_row[code] = raw.row
        units.append(unit)

    known = {
        code: (kind, parent)
        for code, kind, parent in OrgUnit.objects.values_list("code", "kind", "parent__code")
    }
    for unit in units:
        if unit.code in known and unit.kind and known[unit.code][0] != unit.kind:
            errors.at(
                unit.raw,
                "kind",
                _(
                    "Unit %(code)s is a %(old)s in the system: the kind of a unit cannot be "
                    "changed by import."
                )
                % {"code": unit.code, "old": kind_name(known[unit.code][0])},
            )
            unit.kind = None  # the rows that refer to it are checked against the system's kind
    kinds: dict[str, str | None] = {code: kind for code, (kind, _parent) in known.items()}
    kinds.update({u.code: u.kind for u in units if u.kind or u.code not in kinds})
    parents: dict[str, str | None] = {code: parent for code, (_kind, parent) in known.items()}
    parents.update({u.code: u.parent for u in units})

    for unit in units:
        raw = unit.raw
        if unit.kind is None:
            continue
        allowed = ALLOWED_PARENTS[unit.kind]
        parent_column = COLUMNS[RecordType.UNIT][3].header
        if unit.parent is None:
            if None not in allowed:
                errors.at(
                    raw,
                    "parent",
                    _("The parent unit code is required for a %(kind)s.")
                    % {"kind": kind_name(unit.kind)},
                )
            continue
        if None in allowed:
            errors.at(
                raw,
                "parent",
                _("A %(kind)s has no parent unit: leave “%(column)s” empty.")
                % {"kind": kind_name(unit.kind), "column": parent_column},
            )
            continue
        if unit.parent == unit.code:
            errors.at(raw, "parent", _("A unit cannot be its own parent."))
            continue
        parent_kind = kinds.get(unit.parent)
        if unit.parent not in kinds:
            errors.at(
                raw,
                "parent",
                _("Unknown parent unit %(code)s: it is neither in this file nor in the system.")
                % {"code": unit.parent},
            )
            continue
        if parent_kind is not None and parent_kind not in allowed:
            errors.at(
                raw,
                "parent",
                _("A %(kind)s cannot sit under %(parent)s, a %(parent_kind)s.")
                % {
                    "kind": kind_name(unit.kind),
                    "parent": unit.parent,
                    "parent_kind": kind_name(parent_kind),
                },
            )
            continue
        chain = [unit.code]
        cursor: str | None = unit.parent
        while cursor is not None and cursor not in chain:
            chain.append(cursor)
            cursor = parents.get(cursor)
        if cursor == unit.code:
            errors.at(
                raw,
                "parent",
                _("The parent units form a loop: %(path)s.")
                % {"path": " → ".join([*chain, unit.code])},
            )
    for unit in units:
        if unit.hours is not None and unit.kind and unit.kind != UnitKind.OUTLET:
            errors.at(unit.raw, "opening_hours", _("Only outlets have opening hours."))
    return units


def _unit_kinds(units: list[UnitRow], codes: Iterable[str]) -> dict[str, str | None]:
    """The kind of each unit code, from the file or else the system (None: a new unit whose row
    has a bad kind; absent: unknown)."""
    kinds: dict[str, str | None] = dict(
        OrgUnit.objects.filter(code__in=set(codes)).values_list("code", "kind")
    )
    kinds.update({u.code: u.kind for u in units if u.kind or u.code not in kinds})
    return kinds


def _check_counters(rows: list[RawRow], units: list[UnitRow], errors: _Errors) -> list[CounterRow]:
    counters: list[CounterRow] = []
    read: list[tuple[_Cells, str | None, int | None, str | None, str | None]] = []
    for raw in rows:
        cells = _Cells(raw, errors)
        outlet = cells.get("outlet", lambda v: parse_code(v, 32))
        number = cells.get("number", parse_counter_number)
        code = cells.get("code", lambda v: parse_code(v, 40))
        name = cells.get("name", fold=False)
        read.append((cells, outlet, number, code, name))
    kinds = _unit_kinds(units, [outlet for _c, outlet, *_rest in read if outlet])
    by_code: dict[str, int] = {}
    by_number: dict[tuple[str, int], int] = {}
    for cells, outlet, number, code, name in read:
        raw = cells.raw
        if outlet is None or number is None or not cells.ok:
            continue
        code = code or f"{outlet}-{number}"
        if outlet not in kinds:
            cells.fail(
                "outlet",
                _("Unknown outlet %(code)s: it is neither in this file nor in the system.")
                % {"code": outlet},
            )
            continue
        kind = kinds[outlet]
        if kind is not None and kind != UnitKind.OUTLET:
            cells.fail(
                "outlet",
                _("Counters belong to outlets; %(code)s is a %(kind)s.")
                % {"code": outlet, "kind": kind_name(kind)},
            )
            continue
        if code in by_code:
            cells.fail(
                "code",
                _("Duplicate counter code %(code)s: already on row %(row)s.")
                % {"code": code, "row": by_code[code]},
            )
            continue
        if (outlet, number) in by_number:
            cells.fail(
                "number",
                _("Outlet %(outlet)s has counter number %(number)s twice: already on row %(row)s.")
                % {"outlet": outlet, "number": number, "row": by_number[(outlet, number)]},
            )
            continue
        by_code[code] = raw.row
        by_number[(outlet, number)] = raw.row
        counters.append(CounterRow(raw=raw, outlet=outlet, number=number, code=code, name=name))

    existing = Counter.objects.filter(code__in=by_code).values_list("code", "outlet__code")
    for code, outlet_code in existing:
        row = next(c for c in counters if c.code == code)
        if outlet_code != row.outlet:
            errors.at(
                row.raw,
                "code",
                _(
                    "Counter %(code)s belongs to outlet %(other)s in the system; move counters "
                    "in the administration pages."
                )
                % {"code": code, "other": outlet_code},
            )
    taken = Counter.objects.filter(outlet__code__in={c.outlet for c in counters}).values_list(
        "outlet__code", "number", "code"
    )
    numbers = {(outlet, number): code for outlet, number, code in taken}
    for row in counters:
        other = numbers.get((row.outlet, row.number))
        if other is not None and other != row.code:
            errors.at(
                row.raw,
                "number",
                _("Outlet %(outlet)s already has counter number %(number)s (code %(code)s).")
                % {"outlet": row.outlet, "number": row.number, "code": other},
            )
    return counters


def _overlaps(a: tuple[dt.date, dt.date | None], b: tuple[dt.date, dt.date | None]) -> bool:
    end_a, end_b = a[1] or dt.date.max, b[1] or dt.date.max
    return a[0] <= end_b and b[0] <= end_a


def _check_staff(rows: list[RawRow], units: list[UnitRow], errors: _Errors) -> list[StaffRow]:
    staff: list[StaffRow] = []
    read = []
    for raw in rows:
        cells = _Cells(raw, errors)
        values = {
            "employee_no": cells.get("employee_no", lambda v: parse_code(v, 20)),
            "name": cells.get("name", fold=False),
            "phone": cells.get("phone", parse_phone),
            "unit": cells.get("unit", lambda v: parse_code(v, 32)),
            "role": cells.get("role", parse_role),
            "starts_on": cells.get("starts_on", parse_date),
            "ends_on": cells.get("ends_on", parse_date),
        }
        read.append((cells, values))
    kinds = _unit_kinds(units, [v["unit"] for _c, v in read if v["unit"]])
    people: dict[str, StaffRow] = {}
    for cells, v in read:
        if v["unit"] is not None and v["unit"] not in kinds:
            cells.fail(
                "unit",
                _("Unknown unit %(code)s: it is neither in this file nor in the system.")
                % {"code": v["unit"]},
            )
        elif v["unit"] is not None and v["role"] is not None:
            kind = kinds[v["unit"]]
            if kind is not None and kind not in ROLE_UNIT_KINDS[v["role"]]:
                cells.fail(
                    "role",
                    _(
                        "A %(role)s cannot be assigned to %(unit)s, a %(kind)s "
                        "(allowed: %(allowed)s)."
                    )
                    % {
                        "role": role_name(v["role"]),
                        "unit": v["unit"],
                        "kind": kind_name(kind),
                        "allowed": "、".join(
                            kind_name(k) for k in UnitKind if k in ROLE_UNIT_KINDS[v["role"]]
                        ),
                    },
                )
        if v["starts_on"] and v["ends_on"] and v["ends_on"] < v["starts_on"]:
            cells.fail(
                "ends_on",
                _("The end date %(end)s is before the start date %(start)s.")
                % {"end": v["ends_on"].isoformat(), "start": v["starts_on"].isoformat()},
            )
        if v["employee_no"] is not None and v["name"] is not None:
            first = people.get(v["employee_no"])
            if first is not None and first.name != v["name"]:
                cells.fail(
                    "name",
                    _("Employee %(no)s is named %(name)s on row %(row)s.")
                    % {"no": v["employee_no"], "name": first.name, "row": first.raw.row},
                )
            elif first is not None and v["phone"] and first.phone and first.phone != v["phone"]:
                cells.fail(
                    "phone",
                    _("Employee %(no)s has the phone %(phone)s on row %(row)s.")
                    % {"no": v["employee_no"], "phone": first.phone, "row": first.raw.row},
                )
        if not cells.ok:
            continue
        row = StaffRow(raw=cells.raw, **v)
        if row.employee_no not in people:
            people[row.employee_no] = row
        elif row.phone and not people[row.employee_no].phone:
            people[row.employee_no].phone = row.phone
        staff.append(row)

    # The same assignment twice, or overlapping periods of one role at one unit — in the file,
    # or with what the system holds.
    existing: dict[tuple[str, str, str], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for no, unit, role, starts, ends in Assignment.objects.filter(
        staff__employee_no__in=people
    ).values_list("staff__employee_no", "unit__code", "role", "starts_on", "ends_on"):
        existing[(no, unit, role)].append((starts, ends))
    seen: dict[tuple[str, str, str], list[StaffRow]] = defaultdict(list)
    for row in staff:
        key = (row.employee_no, row.unit, row.role)
        period = (row.starts_on, row.ends_on)
        same = next((r for r in seen[key] if r.starts_on == row.starts_on), None)
        if same is not None:
            errors.at(
                row.raw,
                "starts_on",
                _("The same assignment is already on row %(row)s.") % {"row": same.raw.row},
            )
            continue
        clash = next((r for r in seen[key] if _overlaps(period, (r.starts_on, r.ends_on))), None)
        if clash is not None:
            errors.at(
                row.raw,
                "starts_on",
                _("This assignment overlaps the one on row %(row)s (same unit and role).")
                % {"row": clash.raw.row},
            )
            continue
        seen[key].append(row)
    for key, rows_of_key in seen.items():
        file_starts = {r.starts_on for r in rows_of_key}
        for starts, ends in existing.get(key, []):
            if starts in file_starts:
                continue  # the same assignment: the file updates it
            for row in rows_of_key:
                if _overlaps((row.starts_on, row.ends_on), (starts, ends)):
                    errors.at(
                        row.raw,
                        "starts_on",
                        _(
                            "This assignment overlaps one in the system (same unit and role, "
                            "from %(start)s)."
                        )
                        % {"start": starts.isoformat()},
                    )

    logins = User.objects.filter(username__in=people).values_list("username", "staff__employee_no")
    for username, owner in logins:
        if owner is not None and owner != username:
            row = people[username]
            errors.at(
                row.raw,
                "employee_no",
                _("The login %(no)s already belongs to another staff member (%(other)s).")
                % {"no": username, "other": owner},
            )
    return staff


def check_roster(source: Path | str | IO[bytes], *, name: str | None = None) -> RosterPlan:
    """Read and check a roster; nothing is written. The plan's ``errors`` list every problem."""
    roster = read_roster(source, name=name)
    rows, display = roster.rows, roster.name
    errors = _Errors()
    errors.items += roster.errors
    by_record: dict[RecordType, list[RawRow]] = defaultdict(list)
    for raw in rows:
        by_record[raw.record].append(raw)
    if not roster.count and not errors.items:
        errors.add(display, None, "", _("The file has no rows to import."))
    units = _check_units(by_record[RecordType.UNIT], errors)
    counters = _check_counters(by_record[RecordType.COUNTER], units, errors)
    staff = _check_staff(by_record[RecordType.STAFF], units, errors)
    order = {record: i for i, record in enumerate(RecordType)}
    sheet_order = {raw.sheet: order[raw.record] for raw in rows}
    errors.items.sort(key=lambda e: (e.row is not None, sheet_order.get(e.sheet, -1), e.row or 0))
    return RosterPlan(
        source=display,
        rows=roster.count,
        errors=errors.items,
        units=units,
        counters=counters,
        staff=staff,
    )


def check_initial_password(password: str) -> list[str]:
    try:
        validate_password(password)
    except ValidationError as error:
        return [str(m) for m in error.messages]
    return []


# --- writing ------------------------------------------------------------------------------


class _Writer:
    def __init__(self, report: ImportReport, password_hash: str | None) -> None:
        self.report = report
        self.password_hash = password_hash
        self.saved: dict[str, OrgUnit] = {}
        self.current: RawRow | None = None

    def unit(self, code: str) -> OrgUnit:
        """A unit by code: as saved in this import, else fresh from the database (its path may
        have moved with an ancestor)."""
        return self.saved.get(code) or OrgUnit.objects.get(code=code)

    def write_units(self, units: list[UnitRow]) -> None:
        parents = {u.code: u.parent for u in units}

        def depth(code: str | None) -> int:
            level = 0
            while code in parents:
                code = parents[code]
                level += 1
            return level

        tally = self.report.counts["units"]
        for row in sorted(units, key=lambda u: depth(u.code)):
            self.current = row.raw
            assert row.kind is not None
            parent = self.unit(row.parent) if row.parent else None
            unit = OrgUnit.objects.filter(code=row.code).first()
            if unit is None:
                unit = OrgUnit(
                    code=row.code,
                    name=row.name,
                    kind=row.kind,
                    parent=parent,
                    time_zone=row.time_zone or DEFAULT_TIME_ZONE,
                    address=row.address or "",
                )
                unit.save()
                outcome = "created"
            else:
                changes = {"name": row.name, "parent_id": parent.pk if parent else None}
                if row.time_zone is not None:
                    changes["time_zone"] = row.time_zone
                if row.address is not None:
                    changes["address"] = row.address
                changed = [k for k, v in changes.items() if getattr(unit, k) != v]
                for key in changed:
                    setattr(unit, key, changes[key])
                if changed:
                    unit.save()
                outcome = "updated" if changed else "unchanged"
            if row.hours is not None and self.write_hours(unit, row.hours) and outcome != "created":
                outcome = "updated"
            self.saved[row.code] = unit
            tally.add(outcome)

    def write_hours(self, unit: OrgUnit, hours: dict[int, tuple[dt.time, dt.time] | None]) -> bool:
        wanted = {(day, span[0], span[1]) for day, span in hours.items() if span is not None}
        have = set(unit.opening_hours.values_list("weekday", "opens_at", "closes_at"))
        if wanted == have:
            return False
        unit.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(outlet=unit, weekday=day, opens_at=opens, closes_at=closes)
            for day, opens, closes in sorted(wanted)
        )
        return True

    def write_counters(self, counters: list[CounterRow]) -> None:
        tally = self.report.counts["counters"]
        for row in counters:
            self.current = row.raw
            counter = Counter.objects.filter(code=row.code).first()
            if counter is None:
                Counter.objects.create(
                    outlet=self.unit(row.outlet),
                    code=row.code,
                    number=row.number,
                    name=row.name or "",
                )
                tally.add("created")
                continue
            changes: dict[str, Any] = {"number": row.number}
            if row.name is not None:
                changes["name"] = row.name
            changed = [k for k, v in changes.items() if getattr(counter, k) != v]
            for key in changed:
                setattr(counter, key, changes[key])
            if changed:
                counter.save(update_fields=changed)
            tally.add("updated" if changed else "unchanged")

    def write_staff(self, rows: list[StaffRow]) -> None:
        people: dict[str, list[StaffRow]] = defaultdict(list)
        for row in rows:
            people[row.employee_no].append(row)
        for employee_no, posts in people.items():
            first = posts[0]
            self.current = first.raw
            phone = next((p.phone for p in posts if p.phone), None)
            staff = Staff.objects.filter(employee_no=employee_no).select_related("user").first()
            if staff is None:
                staff = Staff.objects.create(
                    employee_no=employee_no, name=first.name, phone=phone or ""
                )
                self.report.counts["staff"].add("created")
            else:
                changes = {"name": first.name}
                if phone is not None:
                    changes["phone"] = phone
                changed = [k for k, v in changes.items() if getattr(staff, k) != v]
                for key in changed:
                    setattr(staff, key, changes[key])
                if changed:
                    staff.save(update_fields=changed)
                self.report.counts["staff"].add("updated" if changed else "unchanged")
            self.write_login(staff)
            for post in posts:
                self.current = post.raw
                self.write_assignment(staff, post)

    def write_login(self, staff: Staff) -> None:
        user = staff.user
        if user is None:
            user = User.objects.filter(username=staff.employee_no).first()
            if user is None:
                user = User(username=staff.employee_no, first_name=staff.name)
                if self.password_hash:
                    user.password = self.password_hash
                else:
                    user.set_unusable_password()
                user.save()
                self.report.logins_created += 1
            staff.user = user
            staff.save(update_fields=["user"])
        if user.first_name != staff.name:
            user.first_name = staff.name
            user.save(update_fields=["first_name"])

    def write_assignment(self, staff: Staff, row: StaffRow) -> None:
        tally = self.report.counts["assignments"]
        assignment = Assignment.objects.filter(
            staff=staff, unit__code=row.unit, role=row.role, starts_on=row.starts_on
        ).first()
        if assignment is None:
            Assignment.objects.create(
                staff=staff,
                unit=self.unit(row.unit),
                role=row.role,
                starts_on=row.starts_on,
                ends_on=row.ends_on,
            )
            tally.add("created")
        elif row.ends_on is not None and assignment.ends_on != row.ends_on:
            assignment.ends_on = row.ends_on
            assignment.save(update_fields=["ends_on"])
            tally.add("updated")
        else:
            tally.add("unchanged")


def _command_line_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def do_import_roster(
    plan: RosterPlan,
    *,
    dry_run: bool = False,
    initial_password: str | None = None,
    by: Any = None,
    request: HttpRequest | None = None,
) -> ImportReport:
    """Write a checked roster in one transaction, with an audit event (``import``) holding the
    counts. With ``dry_run`` everything is written and then rolled back, so the counts are
    those a real import would give. A plan with errors writes nothing."""
    report = ImportReport(source=plan.source, rows=plan.rows, errors=list(plan.errors))
    report.dry_run = dry_run
    if plan.errors:
        return report
    # Every new login gets the same initial password: hash it once (hashing is slow on purpose).
    password_hash = make_password(initial_password) if initial_password else None
    writer = _Writer(report, password_hash)
    try:
        with transaction.atomic():
            writer.write_units(plan.units)
            writer.write_counters(plan.counters)
            writer.write_staff(plan.staff)
            authenticated = bool(getattr(by, "is_authenticated", False))
            record(
                AuditAction.IMPORT,
                user=by,
                request=request,
                label="" if authenticated else f"import-org ({_command_line_user()})",
                unit_path="",
                what="organisation roster",
                file=plan.source,
                rows=plan.rows,
                logins_created=report.logins_created,
                initial_password=bool(initial_password),
                counts={name: tally.as_dict() for name, tally in report.counts.items()},
            )
            if dry_run:
                transaction.set_rollback(True)
    except DatabaseError as error:
        raw = writer.current
        report.errors.append(
            RowError(
                raw.sheet if raw else plan.source,
                raw.row if raw else None,
                "",
                _("Writing failed, nothing was imported: %(error)s") % {"error": error},
            )
        )
        return report
    report.applied = not dry_run
    return report


def import_roster(
    source: Path | str | IO[bytes],
    *,
    name: str | None = None,
    dry_run: bool = False,
    initial_password: str | None = None,
    by: Any = None,
    request: HttpRequest | None = None,
) -> ImportReport:
    """Check a roster and, if every row is good, import it. See the module's docstring."""
    plan = check_roster(source, name=name)
    if initial_password:
        for problem in check_initial_password(initial_password):
            plan.errors.insert(0, RowError("", None, "--initial-password", problem))
    return do_import_roster(
        plan, dry_run=dry_run, initial_password=initial_password, by=by, request=request
    )


def iter_errors(report: ImportReport) -> Iterator[tuple[str, str, str, str]]:
    """The report's errors as text cells: sheet, row, column, problem."""
    for error in report.errors:
        yield (
            error.sheet,
            str(error.row) if error.row is not None else "",
            error.column,
            error.message,
        )
