"""``branchserve org-template OUT [--blank]``: write the roster template that
``branchserve import-org`` reads, as .xlsx (sheets 说明, 单位, 窗口, 人员) or .csv (one file with a
记录类型 column), with a small example organisation unless ``--blank``.

The shipped templates are made with it::

    branchserve org-template docs/templates/org_roster_template.xlsx
    branchserve org-template docs/templates/org_roster_template.csv

The template is a document for a bank's HR staff, so its text is Chinese (like the column
headers, it is part of the file format, not UI text to translate).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branchserve.org.choices import ROLE_UNIT_KINDS, Role, UnitKind
from branchserve.org.importing import (
    COLUMNS,
    RECORD_TYPE_COLUMN,
    Column,
    RecordType,
    csv_headers,
    kind_name,
    role_name,
    sheet_title,
)

D = dt.date
# A small example organisation: codes start with 99 so they are easy to find and delete.
EXAMPLE: dict[RecordType, list[tuple[Any, ...]]] = {
    RecordType.UNIT: [
        # code, name, kind, parent, time zone, opening hours, address
        ("990000", "示例省分行", "省分行", "", "Asia/Shanghai", "", "示例市人民路1号"),
        ("990100", "示例省分行营业部", "营业部", "990000", "", "", "示例市人民路1号"),
        (
            "990101",
            "营业部营业室",
            "网点",
            "990100",
            "",
            "工作日 08:30-17:30；周末 09:00-16:00",
            "示例市人民路1号",
        ),
        ("991000", "示例市城东支行", "支行", "990000", "", "", "示例市解放路88号"),
        (
            "991001",
            "城东支行营业室",
            "网点",
            "991000",
            "",
            "周一至周五 09:00-17:00；周六 09:30-16:00",
            "示例市解放路88号",
        ),
        ("991002", "东湖分理处", "网点", "991000", "", "周一至周日 09:00-17:00", "示例市东湖路6号"),
    ],
    RecordType.COUNTER: [
        # outlet, number, code, name
        ("991001", 1, "991001-01", "现金窗口"),
        ("991001", 2, "991001-02", "非现金窗口"),
        ("991001", 3, "991001-03", "对公窗口"),
        ("991002", 1, "", "综合窗口"),
        ("991002", 2, "", "综合窗口"),
        ("990101", 1, "", ""),
    ],
    RecordType.STAFF: [
        # employee number, name, phone, unit, role, start, end
        ("99000001", "王芳", "", "991001", "柜员", D(2021, 3, 1), None),
        ("99000002", "李明", "", "991001", "柜员", D(2019, 7, 1), D(2024, 12, 31)),
        ("99000002", "李明", "", "991002", "柜员", D(2025, 1, 1), None),
        ("99000003", "陈静", "", "991001", "大堂经理", D(2020, 5, 1), None),
        ("99000004", "刘洋", "", "991001", "网点负责人", D(2018, 9, 1), None),
        ("99000005", "张伟", "", "991002", "网点负责人", D(2022, 1, 1), None),
        ("99000006", "赵磊", "", "991000", "支行行长", D(2020, 1, 1), None),
        ("99000007", "孙丽", "", "991000", "支行服务经理", D(2021, 6, 1), None),
        ("99000008", "周敏", "", "990000", "省分行服务经理", D(2017, 4, 1), None),
        ("99000009", "吴强", "", "990000", "审计员", D(2016, 10, 1), None),
        ("99000010", "郑洁", "", "990000", "系统管理员", D(2015, 8, 1), None),
    ],
}
TEXT_COLUMNS = {"code", "parent", "outlet", "employee_no", "phone", "unit"}
DATE_COLUMNS = {"starts_on", "ends_on"}
TEMPLATE_ROWS = 500  # rows formatted (text, dates, drop-downs) for filling in


def instructions() -> list[str]:
    def kinds(role: str) -> str:
        return "、".join(kind_name(k) for k in UnitKind if k in ROLE_UNIT_KINDS[role])

    roles = "；".join(f"{role_name(role)}（{kinds(role)}）" for role in Role)
    return [
        "branchserve 组织机构与人员导入模板",
        "",
        "导入命令：branchserve import-org 文件名.xlsx（先加 --dry-run 试运行）。"
        "详见 docs/import.md。",
        "本文件中的示例数据（代码以 99 开头）仅作格式示范，填写前请删除。",
        "",
        "一、工作表",
        "单位：省分行、营业部、支行、网点，每行一个单位。",
        "窗口：网点的服务窗口，每行一个窗口。",
        "人员：每行一条任职记录；同一人有多个岗位或调动过，就写多行（工号相同）。",
        "本“说明”工作表导入时忽略。表头必须在第一行；绿色表头为必填列。",
        "",
        "二、填写规则",
        "代码（单位代码、窗口代码、工号）只能包含字母、数字、-、_、.；"
        "请保持单元格为文本格式，以免丢失开头的 0。",
        "上级单位代码：省分行不填；营业部、支行的上级为省分行（支行也可在营业部下）；网点的上级为支行或营业部。"
        "上级单位可以在本文件中，也可以是系统中已有的单位。",
        "营业时间（仅网点）：如“周一至周五 09:00-17:00；周六 09:30-16:00”，多段用分号分隔；"
        "也可写“每天”“工作日”“周末”“周日 休息”。未写到的日子视为不营业。",
        "窗口代码可不填，默认为“网点代码-窗口号”。",
        f"岗位及可任职的单位类型：{roles}。",
        "日期写成 2025-01-31（或 2025/1/31、2025年1月31日）；结束日期不填表示在任。",
        "",
        "三、导入结果",
        "所有行先全部检查；只要有一行有错，就列出每个错误（工作表、行号、原因），且不导入任何数据。",
        "同一文件重复导入不会重复创建：单位、窗口按代码匹配，人员按工号匹配，任职按人员+单位+岗位+开始日期匹配。",
        "可选列留空表示保留系统中已有的值；导入从不删除数据。",
        "每位人员获得一个登录账号（用户名为工号），初始没有可用密码，须由管理员设置后方可登录。",
    ]


class Command(BaseCommand):
    help = (
        "Write the roster template for import-org: OUT ending in .xlsx (sheets 说明, 单位, 窗口, "
        "人员) or .csv (one file with a 记录类型 column)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT", help="file to write, .xlsx or .csv")
        parser.add_argument(
            "--blank", action="store_true", help="headers only, without the example rows"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        suffix = out.suffix.lower()
        if suffix == ".xlsx":
            write_xlsx(out, blank=options["blank"])
        elif suffix == ".csv":
            out.write_bytes(csv_template(blank=options["blank"]))
        else:
            raise CommandError("OUT must end in .xlsx or .csv")
        self.stdout.write(f"Wrote {out}")


def _cell(value: Any) -> Any:
    return "" if value is None else value


def csv_template(*, blank: bool = False) -> bytes:
    """The CSV template: UTF-8 with a byte-order mark, so that Excel opens it as Chinese."""
    headers = csv_headers()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    if not blank:
        for record, rows in EXAMPLE.items():
            for values in rows:
                line = dict.fromkeys(headers, "")
                line[RECORD_TYPE_COLUMN[0]] = sheet_title(record)
                for column, value in zip(COLUMNS[record], values, strict=True):
                    line[column.header] = (
                        value.isoformat() if isinstance(value, dt.date) else _cell(value)
                    )
                writer.writerow(line[h] for h in headers)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(out: Path, *, blank: bool = False) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    notes = workbook.active
    notes.title = "说明"
    for line in instructions():
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 120

    required_fill = PatternFill("solid", fgColor="C6EFCE")
    optional_fill = PatternFill("solid", fgColor="EDEDED")
    choices = {
        "kind": ",".join(kind_name(k) for k in UnitKind),
        "role": ",".join(role_name(r) for r in Role),
    }
    for record in RecordType:
        sheet = workbook.create_sheet(sheet_title(record))
        columns: tuple[Column, ...] = COLUMNS[record]
        sheet.append([c.header for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            cell = sheet.cell(row=1, column=index)
            cell.font = Font(bold=True)
            cell.fill = required_fill if column.required else optional_fill
            cell.alignment = Alignment(horizontal="center")
            note = ("必填。" if column.required else "选填。") + column.help
            cell.comment = Comment(note, "branchserve")
            width = 40 if column.key == "opening_hours" else 14 + 2 * len(column.header)
            sheet.column_dimensions[letter].width = width
            if column.key in choices:
                validation = DataValidation(
                    type="list",
                    formula1=f'"{choices[column.key]}"',
                    allow_blank=True,
                    showErrorMessage=False,
                )
                validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
                sheet.add_data_validation(validation)
        if not blank:
            for values in EXAMPLE[record]:
                sheet.append([_cell(v) for v in values])
        for index, column in enumerate(columns, start=1):
            if column.key in TEXT_COLUMNS or column.key in DATE_COLUMNS:
                fmt = "yyyy-mm-dd" if column.key in DATE_COLUMNS else "@"
                for row in range(2, TEMPLATE_ROWS + 2):
                    sheet.cell(row=row, column=index).number_format = fmt
        sheet.freeze_panes = "A2"
    workbook.save(out)
