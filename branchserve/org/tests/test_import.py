"""Importing the organisation and staff from a roster (xlsx or CSV)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import SimpleTestCase
from django.utils import translation
from openpyxl import Workbook, load_workbook

from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent
from branchserve.core.testing import BaseTestCase
from branchserve.org.choices import Role
from branchserve.org.importing import (
    CellError,
    ImportReport,
    import_roster,
    parse_opening_hours,
)
from branchserve.org.management.commands.org_template import csv_template, write_xlsx
from branchserve.org.models import Assignment, Counter, OrgUnit, Staff

TEMPLATES = Path(settings.BASE_DIR).parent / "docs" / "templates"
UNIT_HEADER = ["单位代码", "单位名称", "单位类型", "上级单位代码", "时区", "营业时间", "地址"]
COUNTER_HEADER = ["网点代码", "窗口号", "窗口代码", "窗口名称"]
STAFF_HEADER = ["工号", "姓名", "手机号", "单位代码", "岗位", "开始日期", "结束日期"]

GOOD_UNITS = [
    UNIT_HEADER,
    # The outlet comes before its sub-branch: order in the file does not matter.
    ["O91", "湖滨支行营业室", "网点", "SB9", "", "周一至周五 09:00-17:00；周六 09:30-16:00", ""],
    ["SB9", "湖滨支行", "支行", "PRV", "", "", "湖滨路1号"],
    ["O92", "营业部第二营业室", "outlet", "BD", "Asia/Urumqi", "每天 10:00-16:00", ""],
]
GOOD_COUNTERS = [
    COUNTER_HEADER,
    ["O91", 1, "O91-01", "现金窗口"],
    ["O91", 2, "O91-02", ""],
    ["O92", 1, "", "综合窗口"],
]
GOOD_STAFF = [
    STAFF_HEADER,
    ["20250001", "林小雨", "13900000000", "O91", "柜员", dt.date(2025, 3, 1), None],
    ["20250002", "何东", "", "O91", "网点负责人", "2024/12/1", ""],
    ["20250002", "何东", "", "O92", "outlet head", "2025年1月1日", None],
    ["20250003", "高远", None, "SB9", "支行行长", "2025-01-01", None],
]


def xlsx(sheets: dict[str, list[list[object]]], name: str = "roster.xlsx") -> io.BytesIO:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def good_workbook() -> io.BytesIO:
    return xlsx({"单位": GOOD_UNITS, "窗口": GOOD_COUNTERS, "人员": GOOD_STAFF})


def csv_file(text: str, *, encoding: str = "utf-8-sig", name: str = "roster.csv") -> io.BytesIO:
    buffer = io.BytesIO(text.encode(encoding))
    buffer.name = name
    return buffer


CSV_HEADER = ",".join(
    ["记录类型", *UNIT_HEADER, *COUNTER_HEADER, *STAFF_HEADER[:3], *STAFF_HEADER[4:]]
)
GOOD_CSV = (
    CSV_HEADER
    + """
单位,O91,湖滨支行营业室,网点,SB9,,周一至周五 09:00-17:00；周六 09:30-16:00,,,,,,,,,,,
单位,SB9,湖滨支行,支行,PRV,,,湖滨路1号,,,,,,,,,,
unit,O92,营业部第二营业室,outlet,BD,Asia/Urumqi,每天 10:00-16:00,,,,,,,,,,,
窗口,,,,,,,,O91,1,O91-01,现金窗口,,,,,,
窗口,,,,,,,,O91,2,O91-02,,,,,,,
counter,,,,,,,,O92,1,,综合窗口,,,,,,
人员,O91,,,,,,,,,,,20250001,林小雨,13900000000,柜员,2025-03-01,
人员,O91,,,,,,,,,,,20250002,何东,,网点负责人,2024/12/1,
人员,O92,,,,,,,,,,,20250002,何东,,outlet head,2025年1月1日,
staff,SB9,,,,,,,,,,,20250003,高远,,支行行长,2025-01-01,
"""
)


def messages(report: ImportReport) -> list[tuple[str, int | None, str]]:
    return [(e.sheet, e.row, e.message) for e in report.errors]


class ImportTests(BaseTestCase):
    """One class, so the shared organisation is built once (its logins' password hashing is
    what takes the time)."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def counts(self) -> dict[str, int]:
        return {
            "units": OrgUnit.objects.count(),
            "counters": Counter.objects.count(),
            "staff": Staff.objects.count(),
            "assignments": Assignment.objects.count(),
            "users": User.objects.count(),
            "audit": AuditEvent.objects.count(),
        }

    def assert_good_roster_imported(self, report: ImportReport) -> None:
        self.assertEqual(report.errors, [])
        self.assertTrue(report.applied)
        self.assertEqual(report.rows, 10)
        self.assertEqual(report.counts["units"].created, 3)
        self.assertEqual(report.counts["counters"].created, 3)
        self.assertEqual(report.counts["staff"].created, 3)
        self.assertEqual(report.counts["assignments"].created, 4)
        self.assertEqual(report.logins_created, 3)

        outlet = OrgUnit.objects.get(code="O91")
        self.assertEqual(outlet.path, "/PRV/SB9/O91/")
        self.assertEqual(outlet.parent, OrgUnit.objects.get(code="SB9"))
        self.assertEqual(outlet.time_zone, "Asia/Shanghai")
        hours = {h.weekday: (h.opens_at, h.closes_at) for h in outlet.opening_hours.all()}
        self.assertEqual(set(hours), {0, 1, 2, 3, 4, 5})  # closed on Sunday
        self.assertEqual(hours[5], (dt.time(9, 30), dt.time(16, 0)))
        other = OrgUnit.objects.get(code="O92")
        self.assertEqual(other.path, "/PRV/BD/O92/")
        self.assertEqual(other.time_zone, "Asia/Urumqi")
        self.assertEqual(other.opening_hours.count(), 7)
        self.assertEqual(OrgUnit.objects.get(code="SB9").address, "湖滨路1号")

        self.assertEqual(Counter.objects.get(code="O91-01").name, "现金窗口")
        self.assertEqual(Counter.objects.get(code="O92-1").outlet, other)  # default code

        head = Staff.objects.get(employee_no="20250002")
        self.assertEqual(head.name, "何东")
        self.assertEqual(head.user.username, "20250002")
        self.assertFalse(head.user.has_usable_password())
        self.assertFalse(head.user.is_staff)
        self.assertEqual(
            sorted((a.unit.code, a.role, a.starts_on) for a in head.assignments.all()),
            [
                ("O91", Role.OUTLET_HEAD, dt.date(2024, 12, 1)),
                ("O92", Role.OUTLET_HEAD, dt.date(2025, 1, 1)),
            ],
        )
        self.assertEqual(Staff.objects.get(employee_no="20250001").phone, "13900000000")
        # The new outlet head sees both outlets and nothing else of the province.
        seen = set(OrgUnit.objects.for_user(head.user).values_list("code", flat=True))
        self.assertEqual(seen, {"O91", "O92"})

        event = AuditEvent.objects.get(action=AuditAction.IMPORT)
        self.assertEqual(event.detail["counts"]["units"]["created"], 3)
        self.assertEqual(event.detail["counts"]["assignments"]["created"], 4)
        self.assertEqual(event.detail["rows"], 10)

    # --- good rosters -------------------------------------------------------------------

    def test_workbook_imports_the_tree(self):
        self.assert_good_roster_imported(import_roster(good_workbook()))

    def test_csv_imports_the_same_tree(self):
        self.assert_good_roster_imported(import_roster(csv_file(GOOD_CSV)))

    def test_gbk_csv_from_chinese_excel(self):
        report = import_roster(csv_file(GOOD_CSV, encoding="gbk"))
        self.assert_good_roster_imported(report)

    def test_headers_in_english_with_hints_and_notes(self):
        units = [
            ["Unit code", "NAME", "kind", "Parent code", "备注", "地址（选填）"],
            ["SB9", "湖滨支行", "Sub-branch", "PRV", "a note", ""],
        ]
        staff = [
            ["工号*", "姓名 (必填)", "unit", "role", "start date"],
            ["20250003", "高远", "SB9", "Sub-branch president", "2025-01-01"],
        ]
        report = import_roster(xlsx({"units": units, "staff": staff, "说明": [["随便写"]]}))
        self.assertEqual(report.errors, [])
        self.assertEqual(OrgUnit.objects.get(code="SB9").kind, "sub_branch")
        self.assertTrue(
            Assignment.objects.filter(
                staff__employee_no="20250003", role=Role.SUB_BRANCH_PRESIDENT
            ).exists()
        )

    def test_reimport_is_idempotent(self):
        import_roster(good_workbook())
        before = self.counts()
        report = import_roster(good_workbook())
        self.assertEqual(report.errors, [])
        for name in ("units", "counters", "staff", "assignments"):
            self.assertEqual(report.counts[name].created, 0, name)
            self.assertEqual(report.counts[name].updated, 0, name)
        self.assertEqual(report.counts["units"].unchanged, 3)
        self.assertEqual(report.counts["assignments"].unchanged, 4)
        self.assertEqual(report.logins_created, 0)
        after = self.counts()
        self.assertEqual(after["audit"], before["audit"] + 1)
        self.assertEqual({**after, "audit": 0}, {**before, "audit": 0})

        # The CSV of the same roster matches everything too.
        report = import_roster(csv_file(GOOD_CSV))
        self.assertEqual(report.counts["staff"].unchanged, 3)
        self.assertEqual(report.counts["counters"].unchanged, 3)

    def test_reimport_updates_by_code_and_employee_number(self):
        import_roster(good_workbook())
        staff = [
            STAFF_HEADER,
            ["20250001", "林小雨", "", "O91", "柜员", dt.date(2025, 3, 1), dt.date(2025, 8, 31)],
            ["20250001", "林小雨", "", "O92", "柜员", dt.date(2025, 9, 1), None],
            ["20250003", "高远航", "", "SB9", "支行行长", "2025-01-01", None],
        ]
        units = [UNIT_HEADER, ["SB9", "湖滨新区支行", "支行", "PRV", "", "", ""]]
        report = import_roster(xlsx({"单位": units, "人员": staff}))
        self.assertEqual(report.errors, [])
        self.assertEqual(report.counts["units"].updated, 1)
        self.assertEqual(report.counts["assignments"].updated, 1)
        self.assertEqual(report.counts["assignments"].created, 1)
        self.assertEqual(report.counts["assignments"].unchanged, 1)
        self.assertEqual(report.counts["staff"].updated, 1)  # the renamed one
        sb9 = OrgUnit.objects.get(code="SB9")
        self.assertEqual(sb9.name, "湖滨新区支行")
        self.assertEqual(sb9.address, "湖滨路1号")  # an empty cell keeps the value
        teller = Staff.objects.get(employee_no="20250001")
        self.assertEqual(teller.phone, "13900000000")
        self.assertEqual(teller.user.first_name, "林小雨")
        self.assertEqual(
            [a.unit.code for a in teller.current_assignments(dt.date(2025, 10, 1))], ["O92"]
        )
        self.assertEqual(Staff.objects.get(employee_no="20250003").user.first_name, "高远航")

    def test_transfer_of_an_existing_teller_and_moving_a_sub_branch(self):
        staff = [
            STAFF_HEADER,
            # bob has been a teller at O11 since 2020-01-01: end it and start at O12.
            ["bob", "王博", "", "O11", "柜员", "2020-01-01", "2025-06-30"],
            ["bob", "王博", "", "O12", "柜员", "2025-07-01", ""],
        ]
        # SB3 moves from the business department to the province, with its outlet.
        units = [UNIT_HEADER, ["SB3", "城东支行", "支行", "PRV", "", "", ""]]
        report = import_roster(xlsx({"人员": staff, "单位": units}))
        self.assertEqual(report.errors, [])
        self.assertEqual(OrgUnit.objects.get(code="O31").path, "/PRV/SB3/O31/")
        posts = Staff.objects.get(employee_no="bob").current_assignments(dt.date(2025, 7, 1))
        self.assertEqual([a.unit.code for a in posts], ["O12"])
        self.bob.refresh_from_db()
        self.assertTrue(self.bob.check_password("Branch-serve-2026"))  # never touched

    def test_dry_run_writes_nothing_but_counts(self):
        before = self.counts()
        report = import_roster(good_workbook(), dry_run=True)
        self.assertEqual(report.errors, [])
        self.assertFalse(report.applied)
        self.assertEqual(report.counts["units"].created, 3)
        self.assertEqual(self.counts(), before)

    def test_initial_password(self):
        report = import_roster(good_workbook(), initial_password="Hu-bin-2025-start")
        self.assertEqual(report.errors, [])
        self.assertTrue(User.objects.get(username="20250001").check_password("Hu-bin-2025-start"))
        weak = import_roster(csv_file(GOOD_CSV), initial_password="123")
        self.assertTrue(weak.errors)
        self.assertEqual(weak.errors[0].column, "--initial-password")

    # --- bad rosters --------------------------------------------------------------------

    def test_bad_rows_are_all_reported_and_nothing_is_written(self):
        units = [
            UNIT_HEADER,
            ["SB9", "湖滨支行", "支行", "PRV", "", "", ""],  # 2: good
            ["SB9", "湖滨支行二", "支行", "PRV", "", "", ""],  # 3: duplicate code
            ["O93", "无名网点", "网点", "NOPE", "", "", ""],  # 4: unknown parent
            ["O94", "", "网点", "SB9", "", "", ""],  # 5: missing name
            ["O95", "某网点", "小卖部", "SB9", "", "", ""],  # 6: unknown kind
            ["O96", "某网点", "网点", "SB9", "Mars/Base", "周八 09:00-17:00", ""],  # 7
            ["SB8", "某支行", "支行", "O11", "", "", ""],  # 8: sub-branch under an outlet
            ["O11", "城南支行营业室", "支行", "SB1", "", "", ""],  # 9: kind change
        ]
        counters = [
            COUNTER_HEADER,
            ["SB9", 1, "", ""],  # 2: counter in a sub-branch
            ["O11", 1, "O11-9", ""],  # 3: number 1 is taken by O11-1
            ["O11", "x", "", ""],  # 4: bad number
        ]
        staff = [
            STAFF_HEADER,
            ["20250001", "林小雨", "", "SB9", "柜员", "2025-03-01", ""],  # 2: teller at SB9
            ["20250002", "何东", "", "SB9", "支行行长", "2025-13-01", ""],  # 3: bad date
            ["20250003", "高远", "", "SB9", "支行行长", "2025-03-01", "2025-02-01"],  # 4
            ["20250004", "", "", "SB9", "支行行长", "2025-03-01", ""],  # 5: no name
            ["bob", "王博", "", "O11", "柜员", "2024-01-01", ""],  # 6: overlaps bob's
            ["20250005", "钱多", "", "SB9", "行长助理", "2025-03-01", ""],  # 7: unknown role
        ]
        before = self.counts()
        with translation.override("zh-hans"):
            report = import_roster(xlsx({"单位": units, "窗口": counters, "人员": staff}))
        self.assertEqual(self.counts(), before)
        self.assertFalse(report.applied)
        found = {(e.sheet, e.row): e.message for e in report.errors}
        expected_rows = {
            ("单位", 3),
            ("单位", 4),
            ("单位", 5),
            ("单位", 6),
            ("单位", 7),
            ("单位", 8),
            ("单位", 9),
            ("窗口", 2),
            ("窗口", 3),
            ("窗口", 4),
            ("人员", 2),
            ("人员", 3),
            ("人员", 4),
            ("人员", 5),
            ("人员", 6),
            ("人员", 7),
        }
        self.assertEqual(set(found), expected_rows)
        self.assertEqual(report.rows, 17)
        self.assertEqual(report.rows_ok, 1)
        self.assertIn("重复", found[("单位", 3)])
        self.assertIn("第 2 行", found[("单位", 3)])
        self.assertIn("NOPE", found[("单位", 4)])
        self.assertIn("单位名称", found[("单位", 5)])
        self.assertIn("小卖部", found[("单位", 6)])
        self.assertIn("支行", found[("单位", 8)])
        self.assertIn("O11", found[("单位", 9)])
        self.assertIn("网点", found[("窗口", 2)])
        self.assertIn("O11-1", found[("窗口", 3)])
        self.assertIn("柜员", found[("人员", 2)])
        self.assertIn("2025-13-01", found[("人员", 3)])
        self.assertIn("结束日期", found[("人员", 4)])
        self.assertIn("姓名", found[("人员", 5)])
        self.assertIn("2020-01-01", found[("人员", 6)])
        self.assertIn("行长助理", found[("人员", 7)])
        # Row 7 has two bad cells: both are reported.
        row7 = [e for e in report.errors if (e.sheet, e.row) == ("单位", 7)]
        self.assertEqual({e.column for e in row7}, {"时区", "营业时间"})
        self.assertIn("周八", next(e.message for e in row7 if e.column == "营业时间"))

    def test_csv_rows_are_numbered_as_in_the_file(self):
        text = GOOD_CSV.replace("人员,O91,,,,,,,,,,,20250001", "人员,O91,,,,,,,,,,,20250001x#")
        text = text.replace("窗口,,,,,,,,O91,2,", "窗口,,,网点,,,,,O91,2,")
        text += "仓库,X,,,,,,,,,,,,,,,,\n"
        report = import_roster(csv_file(text))
        self.assertEqual(
            [(e.row, e.column) for e in report.errors],
            [(6, "单位类型"), (8, "工号"), (12, "记录类型")],
        )
        self.assertEqual(report.errors[0].sheet, "roster.csv")
        self.assertFalse(OrgUnit.objects.filter(code="SB9").exists())

    def test_layout_problems(self):
        report = import_roster(
            xlsx({"单位": [["单位代码", "单位名称", "级别"], ["X", "Y", "Z"]], "Sheet9": [["a"]]})
        )
        problems = [(e.sheet, e.row, e.column) for e in report.errors]
        self.assertIn(("Sheet9", None, ""), problems)  # unknown sheet
        self.assertIn(("单位", 1, "级别"), problems)  # unknown column
        self.assertIn(("单位", 1, "单位类型"), problems)  # missing required column
        missing_type = import_roster(csv_file("单位代码,单位名称\nX,Y\n"))
        self.assertEqual([e.column for e in missing_type.errors], ["记录类型"])
        for name, data in (("roster.xls", b"\xd0\xcf"), ("roster.xlsx", b"not a zip")):
            buffer = io.BytesIO(data)
            buffer.name = name
            self.assertEqual(len(import_roster(buffer).errors), 1)
        self.assertEqual(len(import_roster(csv_file("")).errors), 1)  # no rows

    def test_login_taken_by_another_staff_member(self):
        # "alice" is alice's login; a new employee numbered "alice" would take it over.
        Staff.objects.filter(employee_no="alice").update(employee_no="A-0001")
        staff = [STAFF_HEADER, ["alice", "新人", "", "O11", "柜员", "2025-01-01", ""]]
        report = import_roster(xlsx({"人员": staff}))
        self.assertEqual(len(report.errors), 1)
        self.assertIn("A-0001", report.errors[0].message)

    # --- the command and the template ---------------------------------------------------

    def test_command_reports_bad_rows_and_exits_non_zero(self):
        path = self.tmp / "bad.xlsx"
        path.write_bytes(
            xlsx(
                {"人员": [STAFF_HEADER, ["2025", "某人", "", "SB1", "柜员", "2025-01-01", ""]]}
            ).getvalue()
        )
        out = io.StringIO()
        with translation.override("zh-hans"), self.assertRaises(CommandError) as caught:
            call_command("import_org", str(path), stdout=out)
        self.assertEqual(caught.exception.returncode, 1)
        self.assertIn("人员", out.getvalue())
        self.assertIn("柜员", out.getvalue())
        self.assertFalse(Staff.objects.filter(employee_no="2025").exists())

    def test_command_imports_and_dry_runs(self):
        path = self.tmp / "good.xlsx"
        path.write_bytes(good_workbook().getvalue())
        out = io.StringIO()
        call_command("import_org", str(path), "--dry-run", stdout=out)
        self.assertFalse(OrgUnit.objects.filter(code="SB9").exists())
        call_command("import_org", str(path), stdout=out)
        self.assertTrue(OrgUnit.objects.filter(code="SB9").exists())
        self.assertEqual(AuditEvent.objects.filter(action=AuditAction.IMPORT).count(), 1)

    def test_shipped_templates_import_cleanly(self):
        for name in ("org_roster_template.xlsx", "org_roster_template.csv"):
            with self.subTest(name=name):
                report = import_roster(TEMPLATES / name, dry_run=True)
                self.assertEqual(report.errors, [])
                self.assertEqual(report.counts["units"].created, 6)
                self.assertEqual(report.counts["assignments"].created, 11)
        report = import_roster(TEMPLATES / "org_roster_template.xlsx")
        self.assertTrue(report.applied)
        again = import_roster(TEMPLATES / "org_roster_template.csv")
        self.assertEqual(again.counts["assignments"].unchanged, 11)

    def test_shipped_templates_are_up_to_date(self):
        # Regenerate with `branchserve org-template docs/templates/org_roster_template.xlsx`
        # (and .csv) when the format or the example changes.
        self.assertEqual((TEMPLATES / "org_roster_template.csv").read_bytes(), csv_template())
        fresh = self.tmp / "fresh.xlsx"
        write_xlsx(fresh)
        shipped, made = load_workbook(TEMPLATES / "org_roster_template.xlsx"), load_workbook(fresh)
        self.assertEqual(shipped.sheetnames, made.sheetnames)
        for title in made.sheetnames:
            self.assertEqual(
                list(shipped[title].iter_rows(values_only=True)),
                list(made[title].iter_rows(values_only=True)),
                title,
            )

    def test_blank_template_has_headers_only(self):
        out = self.tmp / "blank.csv"
        call_command("org_template", str(out), "--blank", stdout=io.StringIO())
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("记录类型,单位代码"))


class OpeningHoursTests(SimpleTestCase):
    def test_formats(self):
        nine_to_five = (dt.time(9), dt.time(17))
        self.assertEqual(
            parse_opening_hours("周一至周五 09:00-17:00；周六 09:30-16:00；周日 休息"),
            {
                **dict.fromkeys(range(5), nine_to_five),
                5: (dt.time(9, 30), dt.time(16)),
                6: None,
            },
        )
        self.assertEqual(
            parse_opening_hours("Mon-Fri 09:00-17:00; Sat, Sun 10:00-15:00"),
            parse_opening_hours("工作日 ９：００～１７：００，周末 10:00-15:00"),
        )
        self.assertEqual(
            parse_opening_hours("星期一、星期三 9:00到17:00"), {0: nine_to_five, 2: nine_to_five}
        )
        self.assertEqual(set(parse_opening_hours("周六至周一 09:00-12:00")), {5, 6, 0})

    def test_mistakes(self):
        for text in (
            "周一 17:00-09:00",
            "周一至周五 09:00-17:00；周五 09:00-12:00",
            "周一",
            "周一 25:00-26:00",
        ):
            with self.subTest(text=text), self.assertRaises(CellError):
                parse_opening_hours(text)
