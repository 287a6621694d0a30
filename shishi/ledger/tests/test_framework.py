"""The ledger framework on its own, with a sheet of notes made for these tests: headings in every
language, the header below title rows, errors by sheet, row and column in the reader's language,
and the two phases (check every row; write all in one transaction with the audit entries at the
end, or nothing; a dry run that writes no entry and takes no lock)."""

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from shishi.audit import services as audit
from shishi.audit.models import GLOBAL_CHAIN, Entry, Head
from shishi.audit.verify import verify_chain
from shishi.ledger.columns import Column
from shishi.ledger.importer import NOT_FILE_MESSAGES, Import, Sheet, WriteFailed
from shishi.lib import xlsx
from shishi.lib.hashchain import GENESIS
from shishi.lib.parse import parse_amount
from shishi.workdays.models import Day

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2031, 1, 1)


class NoteSheet(Sheet):
    """A note per row: a code, a name, and an optional target. Each row written becomes a calendar
    day (a simple model) and one audit entry."""

    key = "notes"
    label = "notes"
    aliases = ("备忘",)
    columns = (
        Column("code", gettext_lazy("Code"), ("编号", "No.")),
        Column("name", gettext_lazy("Name"), ("内容", "note"), max_length=8),
        Column("target_name", gettext_lazy("Target name"), required=False),
        Column("target_unit", gettext_lazy("Unit of measure"), required=False),
        Column("target_value", gettext_lazy("Target value"), ("数量",), required=False),
    )
    service_fields = {"name": "name"}
    # How many audit entries the log held after each row's write (see the write phase tests).
    seen: list[int] = []

    def validate(self) -> None:
        first: dict[str, int] = {}
        failed: set = set()
        for row in self.rows:
            name = self.text(row, "name")
            code = self.text(row, "code", as_key=True)
            if not code:
                self.error(row.number, "code", "A code is needed.")
            elif code in first:
                # Found at the later row, reported on both: the earlier one after the later one.
                self.error(row.number, "code", f"{code} is on row {first[code]} too.")
                self.error(first[code], "code", f"{code} is on row {row.number} too.")
            else:
                first[code] = row.number
            value = row.values.get("target_value")
            if value is not None:
                value = self.parsed(row.number, "target_value", value, parse_amount, failed)
            row.plan = {"code": code, "name": name, "value": value}
            self.counts.created += 1

    def write(self) -> None:
        for row in self.rows:
            if row.plan["code"] == "REFUSE":
                self.error(row.number, "code", "refused by the service")
                raise WriteFailed
            day = Day.objects.create(
                date=FIRST_DAY + dt.timedelta(days=row.number),
                is_workday=False,
                name=row.plan["name"],
            )
            audit.record(None, "test.note", day, data={"code": row.plan["code"]}, county_id=None)
            NoteSheet.seen.append(Entry.objects.count())


class StrictNoteSheet(NoteSheet):
    strict_headings = True


class OtherSheet(Sheet):
    key = "others"
    label = "others"
    columns = (
        Column("number", gettext_lazy("Number")),
        Column("title", gettext_lazy("Title")),
    )

    def validate(self) -> None:
        for row in self.rows:
            if not self.text(row, "title"):
                self.error(row.number, "title", "A title is needed.")

    def write(self) -> None:
        pass


class NoteImport(Import):
    sheets = (NoteSheet,)

    def finish(self):
        sheet = self.sheet(NoteSheet)
        rows = len(sheet.rows) if sheet else 0
        audit.record(None, "test.notes.imported", None, data={"rows": rows}, public=False)
        return f"{rows} notes"


class StrictImport(Import):
    sheets = (StrictNoteSheet,)


class XlsxOnlyImport(Import):
    sheets = (NoteSheet,)
    csv = False


class TwoKindImport(Import):
    sheets = (NoteSheet, OtherSheet)


HEADER = ["编号", "名称"]
ROWS = [["A1", "东一村"], ["A2", "西一村"], ["A3", "东社区"]]


def workbook(*sheets, merges=(), cells=None) -> bytes:
    """A workbook of ``(title, rows)`` sheets; ``merges`` and ``cells`` (coordinate → value, e.g.
    a formula) apply to the first sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    for i, (title, rows) in enumerate(sheets):
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if i == 0:
            for ref in merges:
                ws.merge_cells(ref)
            for ref, value in (cells or {}).items():
                ws[ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def notes(rows=ROWS, header=HEADER, title="notes", **kwargs) -> bytes:
    return workbook((title, [header, *rows]), **kwargs)


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def run(data, name="notes.xlsx", cls=NoteImport, **kwargs):
    return cls(None, **kwargs).run(data, name=name)


def where(result) -> list[tuple]:
    return [(e.sheet, e.row, e.letter, e.message) for e in result.errors]


def state() -> tuple:
    """What an import may change: calendar days, audit entries, and every chain's head."""
    heads = list(Head.objects.order_by("chain").values_list("chain", "seq", "hash", "public"))
    return Day.objects.count(), Entry.objects.count(), heads


@pytest.fixture(autouse=True)
def fresh_seen():
    NoteSheet.seen = []
    yield
    NoteSheet.seen = []


# --- headings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["代码", "名称"],  # the labels in Chinese
        ["Code", "Name"],  # in English
        ["CODE", " name "],  # any case and spacing
        ["编号", "内容"],  # aliases
        ["No.", "note"],
        ["ｃｏｄｅ", "名  称"],  # full width, spaces inside
        ["code", "名称（全称）"],  # the key; a note in parentheses
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_headings_match_in_every_language_whatever_the_active_one(header, language):
    with translation.override(language):
        imp = NoteImport(None, dry_run=True)
        result = imp.run(notes(header=header), name="notes.xlsx")
    assert where(result) == []
    sheet = imp.sheet(NoteSheet)
    assert sheet.positions == {0: "code", 1: "name"}
    assert sheet.letters == {"code": "A", "name": "B"}
    assert [r.values for r in sheet.rows] == [{"code": c, "name": n} for c, n in ROWS]


def test_a_unit_in_parentheses_and_a_merged_heading_above_still_name_the_column():
    top = ["编号", "名称", "目标任务", None, None]
    sub = [None, None, "指标名称", "单位", "数量（万元）"]
    data = notes(
        rows=[sub, ["A1", "东一村", "新建幼儿园", "所", "1.5"]],
        header=top,
        merges=["A1:A2", "B1:B2", "C1:E1"],
    )
    imp = NoteImport(None, dry_run=True)
    result = imp.run(data, name="notes.xlsx")
    assert where(result) == []
    sheet = imp.sheet(NoteSheet)
    assert (sheet.header.first, sheet.header.last) == (1, 2)
    assert sheet.header.headings[2] == "目标任务/指标名称"
    assert sheet.header.headings[4] == "目标任务/数量（万元）"
    assert sheet.letters == {
        "code": "A",
        "name": "B",
        "target_name": "C",
        "target_unit": "D",
        "target_value": "E",
    }
    assert [r.number for r in sheet.rows] == [3]
    assert sheet.rows[0].plan["value"] == parse_amount("1.5")


def test_the_header_is_found_below_a_title_and_a_stamp_row():
    data = workbook(
        (
            "notes",
            [
                ["2031年测试县备忘清单"],
                ["填报单位：测试县政府办（盖章）", None, "2031年1月"],
                [],
                HEADER,
                *ROWS,
            ],
        ),
        merges=["A1:B1"],
    )
    imp = NoteImport(None, dry_run=True)
    result = imp.run(data, name="notes.xlsx")
    assert where(result) == []
    assert imp.sheet(NoteSheet).header.first == 4
    assert [r.number for r in imp.sheet(NoteSheet).rows] == [5, 6, 7]


def test_no_header_in_the_first_rows_is_named_with_the_headings_needed():
    result = run(notes(header=["甲", "乙"]))
    assert where(result) == [
        (
            "notes",
            None,
            "",
            "No header row found in the first 10 rows. The sheet needs headings such as: "
            "Code, Name.",
        )
    ]


def test_a_missing_required_column_is_named_on_the_header_row():
    result = run(notes(rows=[["A1", "所"]], header=["编号", "单位"]))
    assert where(result) == [("notes", 1, "", "The column Name is missing.")]
    assert str(result.errors[0]) == "notes, row 1: The column Name is missing."


def test_a_column_given_twice_is_named_with_both_letters():
    result = run(notes(rows=[["A1", "东一村", "A1"]], header=["编号", "名称", "Code"]))
    assert where(result) == [("notes", 1, "", "The column Code appears twice (A, C).")]


def test_an_unknown_heading_is_read_past_and_listed():
    imp = NoteImport(None, dry_run=True)
    result = imp.run(notes(rows=[["A1", "东一村", "x"]], header=["编号", "名称", "备注"]))
    assert result.ok
    assert result.ignored == ["C (备注)"]
    assert imp.sheet(NoteSheet).rows[0].values == {"code": "A1", "name": "东一村"}


def test_an_unknown_heading_is_an_error_where_headings_are_strict():
    result = run(notes(header=["编号", "名称", "备注"]), cls=StrictImport)
    assert where(result) == [
        (
            "notes",
            1,
            "C",
            "Unknown column heading 备注. The headings are: Code, Name, Target name, "
            "Unit of measure, Target value.",
        )
    ]
    assert result.errors[0].column == "备注"
    assert result.ignored == []


# --- rows --------------------------------------------------------------------------------------------


def test_a_formula_without_a_value_is_named_by_row_and_column_letter():
    data = notes(
        header=["编号", "名称", "备注"],
        cells={"B3": "=A3&A2", "C2": "=1+1"},  # C is read past: its formula does not matter
    )
    result = run(data)
    assert where(result) == [
        (
            "notes",
            3,
            "B",
            "The cell holds a formula without a value; open the file in Excel or WPS, save it, "
            "and upload it again.",
        )
    ]
    assert str(result.errors[0]).startswith("notes, row 3, column B (Name): ")


def test_a_csv_cell_holding_nul_is_named_and_nothing_is_written():
    before = state()
    rows = [["A1", "东一\x00村"], ["A2", "东二村"]]
    result = run(csv_bytes([["编号", "名称"], *rows]), name="notes.csv")
    assert where(result) == [
        (
            "CSV",
            2,
            "B",
            "The cell contains the character NUL, which text cannot hold; save the file again "
            "from Excel or WPS.",
        )
    ]
    assert state() == before


def test_a_csv_that_cannot_be_read_further_is_named_by_its_line_and_nothing_is_written():
    before = state()
    rows = [["A1", "东一村"], ["A2", "长" * 140_000]]
    result = run(csv_bytes([["编号", "名称"], *rows]), name="notes.csv")
    assert where(result) == [
        (
            "CSV",
            3,
            "",
            "The CSV file cannot be read past this line: a cell holds more than 131,072 "
            "characters, or a quotation mark is not closed.",
        )
    ]
    assert state() == before


def test_a_file_wrong_on_every_row_lists_the_first_problems_and_counts_the_rest():
    from shishi.ledger.results import MAX_ERRORS

    rows = [["", f"第{i}条"] for i in range(MAX_ERRORS + 120)]  # no code on any row
    result = run(csv_bytes([["编号", "名称"], *rows]), name="notes.csv")
    assert len(result.errors) == MAX_ERRORS and result.more_errors == 120
    assert result.error_count == MAX_ERRORS + 120
    assert [e.row for e in result.errors[:2]] == [2, 3]  # the first ones, in the file's order
    lines = result.error_lines()
    assert len(lines) == MAX_ERRORS + 1
    assert lines[-1] == "… and 120 more problems, not listed: correct these first."
    with translation.override("en"):
        page = render_to_string("ledger/result.html", {"result": result})
    assert f"{MAX_ERRORS + 120} problems found" in page
    assert f"The first {MAX_ERRORS} are listed below; 120 more are not." in page


def test_reading_stops_past_the_most_rows_allowed():
    result = run(notes(), max_rows=2)
    assert where(result) == [
        ("notes", 4, "", "The sheet has more than 2 rows; split it into several files.")
    ]
    assert result.counts == {}
    assert run(notes(), max_rows=3, dry_run=True).ok


def test_a_cell_longer_than_its_column_allows_is_named():
    result = run(notes(rows=[["A1", "东一村东一村东一村"]]))
    assert where(result) == [("notes", 2, "B", "At most 8 characters; this has 9.")]


def test_errors_are_listed_in_the_order_of_the_sheet():
    rows = [
        ["A1", "东一村"],  # row 2: named by row 4
        ["A2", "东一村东一村东一村"],  # row 3: too long (B), an amount that is not one (E)
        ["A1", "西一村"],  # row 4: a second A1
        [None, "东社区"],  # row 5: no code
    ]
    rows[1] += [None, None, "很多"]
    result = run(notes(rows=rows, header=["编号", "名称", "指标名称", "单位", "目标值"]))
    assert [(e.row, e.letter) for e in result.errors] == [
        (2, "A"),
        (3, "B"),
        (3, "E"),
        (4, "A"),
        (5, "A"),
    ]
    assert result.errors[0].message == "A1 is on row 4 too."
    assert result.errors[2].message == (
        "很多 is not a number. Write it as 68690000, 68,690,000 or 6869万元."
    )


def test_errors_come_sheet_by_sheet_in_the_order_the_import_names_them():
    data = workbook(
        ("others", [["序号", "项目名称"], [1, None]]),
        ("notes", [HEADER, ["A1", None, None], [None, "东一村"]]),
    )
    result = run(data, cls=TwoKindImport)
    assert [(e.sheet, e.row, e.letter) for e in result.errors] == [
        ("notes", 3, "A"),
        ("others", 2, "B"),
    ]
    assert [p.key for p in result.parts] == ["notes", "others"]


def test_a_workbook_of_several_kinds_with_none_of_its_sheets_is_refused():
    result = run(workbook(("Sheet1", [["甲", "乙"]])), cls=TwoKindImport)
    assert where(result) == [("", None, "", "The workbook has none of the sheets notes, others.")]


def test_a_sheet_is_found_by_an_alias_of_its_name_or_by_its_header():
    imp = NoteImport(None, dry_run=True)
    assert imp.run(notes(title="备忘"), name="x.xlsx").ok
    assert imp.sheet(NoteSheet).part.title == "备忘"
    data = workbook(("说明", [["填表说明：每行一条"]]), ("Sheet2", [HEADER, *ROWS]))
    imp = NoteImport(None, dry_run=True)
    assert imp.run(data, name="x.xlsx").ok
    assert imp.sheet(NoteSheet).part.title == "Sheet2"
    assert len(imp.sheet(NoteSheet).rows) == 3


def test_a_service_refusal_is_named_by_the_column_of_its_field():
    imp = NoteImport(None)
    sheet = NoteSheet(imp, "notes")
    sheet.letters = {"code": "A", "name": "B"}
    sheet.service_error(4, ValidationError({"name": ["Too short.", "Taken."], "day": "No day."}))
    sheet.service_error(5, ValidationError(["No.", "Never."]))
    sheet.service_error(6, PermissionDenied())
    sheet.service_error(7, PermissionDenied("Not in your county."))
    sheet.service_error(8, ValidationError({"name": "Seen.", "day": "No day."}), skip={(8, "name")})
    assert [(e.row, e.letter, e.column, e.message) for e in imp.errors] == [
        (4, "B", "Name", "Too short. Taken."),
        (4, "", "", "No day."),
        (5, "", "", "No."),
        (5, "", "", "Never."),
        (6, "", "", "You may not do this."),
        (7, "", "", "Not in your county."),
        (8, "", "", "No day."),
    ]


# --- the reader's language ---------------------------------------------------------------------


def test_errors_are_worded_in_english():
    with translation.override("en"):
        missing = run(notes(header=["编号", "单位"]))
        formula = run(notes(cells={"A3": "=B2"}))
        long = run(notes(rows=[["A1", "东一村东一村东一村"]]))
    assert str(missing.errors[0]) == "notes, row 1: The column Name is missing."
    assert str(formula.errors[0]) == (
        "notes, row 3, column A (Code): The cell holds a formula without a value; open the file "
        "in Excel or WPS, save it, and upload it again."
    )
    assert str(long.errors[0]) == "notes, row 2, column B (Name): At most 8 characters; this has 9."


def test_errors_are_worded_in_chinese():
    with translation.override("zh-hans"):
        missing = run(notes(header=["编号", "单位"]))
        twice = run(notes(header=["编号", "名称", "代码"]))
        formula = run(notes(cells={"A3": "=B2"}))
        long = run(notes(rows=[["A1", "东一村东一村东一村"]]))
        too_many = run(notes(), max_rows=2)
        strict = run(notes(header=["编号", "名称", "备注"]), cls=StrictImport)
        where_missing = str(missing.errors[0])
        where_formula = str(formula.errors[0])
    assert where_missing == "notes，第 1 行: 缺少“名称”列。"
    assert twice.errors[0].message == "“代码”列重复出现（A, C）。"
    assert where_formula == (
        "notes，第 3 行，“A (代码)”列: "
        "该单元格是公式，但没有计算结果；请用 Excel 或 WPS 打开文件，保存后重新上传。"
    )
    assert long.errors[0].message == "最多 8 个字符，当前为 9 个。"
    assert too_many.errors[0].message == "工作表超过 2 行，请拆分为多个文件。"
    assert strict.errors[0].message.startswith("无法识别的列标题 备注。可用的列标题为：代码, 名称")


# --- files that are not ledgers ---------------------------------------------------------------------


def damaged_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "cls", "reason"),
    [
        ("编号,名称\nA1,东一村\n".encode(), "notes.xlsx", NoteImport, "not_zip_or_csv"),
        ("编号,名称\nA1,东一村\n".encode(), "notes.txt", NoteImport, "not_zip_or_csv"),
        ("编号,名称\nA1,东一村\n".encode(), "notes.csv", XlsxOnlyImport, "not_zip"),
        (xlsx.OLE_MAGIC + b"\0" * 512, "notes.xls", NoteImport, "xls"),
        (xlsx.OLE_MAGIC + b"\0" * 512, "notes.csv", NoteImport, "xls"),
        (b"", "notes.xlsx", NoteImport, "empty"),
        (b"", "notes.csv", NoteImport, "empty"),
        (damaged_zip(), "notes.xlsx", NoteImport, "damaged"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_file_that_is_not_a_ledger_is_refused_in_words_that_say_why(
    data, name, cls, reason, language
):
    before = state()
    with translation.override(language):
        result = run(data, name=name, cls=cls)
        expected = str(NOT_FILE_MESSAGES[reason])
    assert where(result) == [("", None, "", expected)]
    assert state() == before


def test_the_refusals_are_translated():
    with translation.override("zh-hans"):
        assert run(b"").errors[0].message == "文件是空的。"
        assert run(b"text", name="a.docx").errors[0].message == (
            "这既不是 Excel（.xlsx）文件，也不是 CSV 文件。"
        )
        assert run(xlsx.OLE_MAGIC).errors[0].message == (
            "这是旧版 Excel（.xls）文件。请用 Excel 或 WPS 打开并另存为 .xlsx。"
        )


def test_an_empty_workbook_is_named_empty():
    result = run(workbook(("notes", [])))
    assert where(result) == [("notes", None, "", "The file is empty.")]


# --- CSV and xlsx --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (notes(), "notes.xlsx"),
        (csv_bytes([HEADER, *ROWS]), "notes.csv"),
        (csv_bytes([HEADER, *ROWS], encoding="utf-8"), "NOTES.CSV"),
        (csv_bytes([["备忘清单"], HEADER, *ROWS], encoding="gbk"), "notes.csv"),
    ],
)
def test_csv_and_xlsx_files_import_alike(data, name):
    result = run(data, name=name)
    assert where(result) == []
    assert result.counts["notes"].created == 3
    assert list(Day.objects.order_by("date").values_list("name", flat=True)) == [
        n for _c, n in ROWS
    ]
    assert list(
        Entry.objects.filter(action="test.note").order_by("seq").values_list("data", flat=True)
    ) == [{"code": c} for c, _n in ROWS]


def test_a_csv_sheet_is_titled_csv_in_its_errors():
    result = run(csv_bytes([HEADER, ["A1", None]]), name="notes.csv")
    assert result.ok  # an empty name is the sheet's business, and this one allows it
    result = run(csv_bytes([HEADER, [None, "东一村"]]), name="notes.csv")
    assert where(result) == [("CSV", 2, "A", "A code is needed.")]


def test_a_path_carries_its_own_name(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(csv_bytes([HEADER, *ROWS]))
    assert NoteImport(None, dry_run=True).run(path).ok
    assert NoteImport(None, dry_run=True).run(str(path)).ok


@pytest.mark.parametrize("name", ["notes.csv", "notes.xlsx"])
def test_an_upload_carries_its_name_and_stays_open_for_its_owner(name):
    data = csv_bytes([HEADER, *ROWS]) if name.endswith(".csv") else notes()
    in_memory = SimpleUploadedFile(name, data)
    on_disk = TemporaryUploadedFile(name, "application/octet-stream", len(data), None)
    on_disk.write(data)
    on_disk.seek(0)
    try:
        for upload in (in_memory, on_disk):
            result = NoteImport(None, dry_run=True).run(upload)
            assert where(result) == []
            assert result.counts["notes"].created == 3
            assert not upload.closed
    finally:
        on_disk.close()


# --- the two phases ------------------------------------------------------------------------------


def test_with_an_error_in_any_row_nothing_is_written():
    before = state()
    result = run(notes(rows=[*ROWS, [None, "西社区"]]))
    assert not result.ok
    assert result.counts == {}
    assert result.target is None
    assert NoteSheet.seen == []  # write was never called
    assert state() == before


def test_a_dry_run_writes_nothing_no_audit_entry_and_leaves_the_chain_heads_alone(monkeypatch):
    audit.record(None, "test.before", None)  # a chain with a head already
    before = state()

    def no_lock(items):
        raise AssertionError("a dry run wrote to the audit log")

    monkeypatch.setattr(audit, "_write", no_lock)
    result = run(notes(), dry_run=True)

    assert result.ok and result.dry_run
    assert result.counts["notes"].created == 3
    assert result.target == "3 notes"  # finish ran, and was rolled back with the rest
    assert NoteSheet.seen == [before[1]] * 3  # the rows were written, then rolled back
    assert state() == before


def test_a_real_run_writes_its_entries_together_at_the_end_in_one_verified_segment(monkeypatch):
    audit.record(None, "test.before", None)
    head = Head.objects.get(chain=GLOBAL_CHAIN)
    last = Entry.objects.latest("seq")
    entries_before = Entry.objects.count()
    batches = []
    write = audit._write

    def spy(items):
        batches.append([item.action for item in items])
        write(items)

    monkeypatch.setattr(audit, "_write", spy)
    result = run(notes())

    assert result.ok and not result.dry_run
    assert result.target == "3 notes"
    assert result.counts["notes"].created == 3
    # While rows were written, no entry was: they came in one batch, the summary last.
    assert NoteSheet.seen == [entries_before] * 3
    assert batches == [["test.note"] * 3 + ["test.notes.imported"]]
    segment = list(Entry.objects.filter(seq__gt=last.seq).order_by("chain_seq"))
    assert [e.action for e in segment] == ["test.note"] * 3 + ["test.notes.imported"]
    assert [e.chain for e in segment] == [GLOBAL_CHAIN] * 4
    assert [e.chain_seq for e in segment] == [head.seq + i for i in range(1, 5)]
    assert segment[0].prev_hash == head.hash
    assert all(b.prev_hash == a.hash for a, b in zip(segment, segment[1:], strict=False))
    assert [e.object_id for e in segment[:3]] == [
        str(pk) for pk in Day.objects.order_by("date").values_list("pk", flat=True)
    ]
    after = Head.objects.get(chain=GLOBAL_CHAIN)
    assert (after.seq, after.hash) == (segment[-1].chain_seq, segment[-1].hash)
    assert after.public == head.public + 1  # the notes are public, the summary is not
    assert verify_chain() is None


def test_a_first_entry_starts_the_chain_from_its_genesis():
    assert not Entry.objects.filter(chain=GLOBAL_CHAIN).exists()
    assert not Head.objects.filter(chain=GLOBAL_CHAIN, seq__gt=0).exists()
    assert run(notes()).ok
    first = Entry.objects.filter(chain=GLOBAL_CHAIN).order_by("chain_seq").first()
    assert (first.chain_seq, first.prev_hash) == (1, GENESIS)
    assert verify_chain() is None


def test_a_refusal_while_writing_rolls_back_every_write_and_every_entry():
    audit.record(None, "test.before", None)
    before = state()
    rows = [["A1", "东一村"], ["A2", "西一村"], ["REFUSE", "东社区"], ["A4", "西社区"]]
    result = run(notes(rows=rows))
    assert where(result) == [("notes", 4, "A", "refused by the service")]
    assert result.target is None
    assert result.counts == {}
    assert len(NoteSheet.seen) == 2  # two rows were written before the refusal
    assert state() == before
    assert verify_chain() is None
