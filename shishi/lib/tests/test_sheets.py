"""Reading ledgers without Django: cell text, CSV in UTF-8 or GB18030, read-only sheets' merges and
uncached formulas, and the header found below title and stamp rows."""

import ast
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from shishi.lib import sheets, xlsx
from shishi.lib.sheets import Header, SheetInfo, find_header

CHUNK = 64 * 1024  # what csv_encoding reads at a time


def test_it_does_not_import_django():
    tree = ast.parse(Path(sheets.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "openpyxl.utils.cell" in names
    assert not {n for n in names if n.split(".")[0] == "django"}


# --- cells as text, keys, folded forms, chunks ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), ("  东一村 ", "东一村"), ("", ""), (42, "42"), (1.5, "1.5"), (True, "True")],
)
def test_a_cell_reads_as_stripped_text(value, expected):
    assert sheets.text(value) == expected


def test_a_key_is_typed_with_full_width_digits_and_letters_made_plain():
    assert sheets.key("  ＡＢ１２３ ") == "AB123"
    assert sheets.key(990101) == "990101"
    assert sheets.key(None) == ""


def test_headings_fold_width_spaces_and_case():
    assert sheets.fold("  Ｍｏｂｉｌｅ   NUMBER ") == "mobile number"
    assert sheets.fold("序  号") == "序 号"
    assert sheets.squash("序  号") == "序号"
    assert sheets.squash(" Mobile\tNumber ") == "mobilenumber"


def test_chunks_come_in_lists_of_the_size_asked_and_a_shorter_last():
    assert list(sheets.chunks(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(sheets.chunks(range(6), 3)) == [[0, 1, 2], [3, 4, 5]]
    assert list(sheets.chunks([], 3)) == []
    assert [len(c) for c in sheets.chunks(iter(range(1001)))] == [500, 500, 1]


# --- CSV: encodings and what is read as CSV ------------------------------------------------------

ROWS = [["代码", "名称", "备注"], ["A1", "东一村", ""], ["A2", "西一村", "新建"]]
TEXT = "\r\n".join(",".join(row) for row in ROWS) + "\r\n"
READ = [(1, ["代码", "名称", "备注"]), (2, ["A1", "东一村"]), (3, ["A2", "西一村", "新建"])]


def read_csv(data: bytes) -> list[tuple[int, list]]:
    return list(sheets.csv_rows(io.BytesIO(data)))


def test_a_csv_in_utf8_with_the_bom_excel_writes_reads_without_it():
    data = "\ufeff".encode() + TEXT.encode()
    assert sheets.csv_encoding(io.BytesIO(data)) == "utf-8-sig"
    assert read_csv(data) == READ


def test_a_csv_in_utf8_without_a_bom_reads_the_same():
    data = TEXT.encode()
    assert sheets.csv_encoding(io.BytesIO(data)) == "utf-8-sig"
    assert read_csv(data) == READ


def test_a_csv_saved_by_chinese_excel_in_gbk_reads_as_gb18030():
    data = TEXT.encode("gbk")
    assert sheets.csv_encoding(io.BytesIO(data)) == "gb18030"
    assert read_csv(data) == READ


def test_a_byte_that_is_not_utf8_after_the_first_chunk_still_makes_it_gb18030():
    filler = ("A,B\r\n" * (CHUNK // 5 + 10)).encode()
    assert len(filler) > CHUNK
    data = filler + "C,东一村\r\n".encode("gbk")
    filler.decode("utf-8")  # the first chunk alone is plain UTF-8
    assert sheets.csv_encoding(io.BytesIO(data)) == "gb18030"
    rows = read_csv(data)
    assert rows[-1][1] == ["C", "东一村"]


def test_a_utf8_character_split_across_the_chunk_boundary_is_still_utf8():
    data = b"A" * (CHUNK - 1) + "东,一\r\n".encode()
    assert data[CHUNK - 1 : CHUNK + 2] == "东".encode()  # the boundary falls inside 东
    assert sheets.csv_encoding(io.BytesIO(data)) == "utf-8-sig"


def test_the_encoding_check_leaves_the_file_at_its_start():
    fh = io.BytesIO(TEXT.encode("gbk"))
    fh.seek(5)
    sheets.csv_encoding(fh)
    assert fh.tell() == 0


def test_reading_a_csv_leaves_the_file_open_for_its_owner():
    fh = io.BytesIO(TEXT.encode())
    assert len(list(sheets.csv_rows(fh))) == 3
    assert not fh.closed


def test_csv_cells_are_normalised_as_xlsx_cells_are():
    data = "代码,名称,,\r\n  A1 , '=1+1 ,,\r\n".encode()
    assert read_csv(data) == [(1, ["代码", "名称"]), (2, ["A1", "=1+1"])]


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (TEXT.encode(), "清单.csv", True),
        (TEXT.encode("gbk"), "清单.CSV", True),
        (TEXT.encode(), "清单.xlsx", False),
        (TEXT.encode(), "清单.txt", False),
        (xlsx.ZIP_MAGIC + b"rest of a workbook", "清单.csv", False),
        (xlsx.OLE_MAGIC + b"rest of an old workbook", "清单.csv", False),
        (b"", "清单.csv", False),
    ],
)
def test_a_file_is_csv_by_its_name_unless_its_content_is_a_workbook(data, name, expected):
    fh = io.BytesIO(data)
    assert sheets.is_csv(fh, name) is expected
    assert fh.tell() == 0


# --- the first rows ------------------------------------------------------------------------------


def test_the_head_is_the_first_non_empty_rows_and_the_rest_stay_to_be_read():
    rows = iter(
        [
            (1, []),
            (2, ["标题"]),
            (3, [None, None]),
            (4, ["代码", "名称"]),
            (5, []),
            (6, ["A1", "东一村"]),
            (7, ["A2", "西一村"]),
        ]
    )
    assert sheets.head_rows(rows, scan=3) == [
        (2, ["标题"]),
        (4, ["代码", "名称"]),
        (6, ["A1", "东一村"]),
    ]
    assert next(rows) == (7, ["A2", "西一村"])


def test_the_head_of_an_empty_sheet_is_empty():
    assert sheets.head_rows(iter([(1, []), (2, [None])])) == []


# --- the header ----------------------------------------------------------------------------------

KNOWN = {"序号", "名称", "指标名称", "单位", "目标值", "备注"}


def match(heading: str) -> str | None:
    """What a ledger's columns would make of a heading: the heading or its last part."""
    for candidate in (heading, heading.rsplit("/", 1)[-1]):
        if candidate in KNOWN:
            return candidate
    return None


def looks_like_header(values) -> bool:
    return sum(1 for v in values if v is not None and match(sheets.text(v))) >= 2


OFFICIAL = [
    (1, ["2024年测试县为民办实事项目清单"]),
    (2, ["填报单位：测试县政府办（盖章）"]),
    (3, ["序号", "名称", "目标任务", None, None, "备注"]),
    (4, [None, None, "指标名称", "单位", "目标值"]),
    (5, [1, "新建幼儿园", "新建幼儿园", "所", 5, "审定"]),
]
# 目标任务 over C:E; 序号, 名称 and 备注 merged down over both header rows; the title and stamp.
MERGES = [(1, 1, 0, 5), (2, 2, 0, 5), (3, 3, 2, 4), (3, 4, 0, 0), (3, 4, 1, 1), (3, 4, 5, 5)]
JOINED = {
    0: "序号",
    1: "名称",
    2: "目标任务/指标名称",
    3: "目标任务/单位",
    4: "目标任务/目标值",
    5: "备注",
}


def test_the_header_below_a_title_and_a_stamp_joins_a_merged_heading_to_those_below():
    header = find_header(OFFICIAL, SheetInfo(merges=MERGES), match, looks_like_header)
    assert header == Header(first=3, last=4, headings=JOINED)


def test_without_merges_a_heading_is_carried_right_over_the_second_row():
    header = find_header(OFFICIAL, SheetInfo(), match, looks_like_header)
    assert header == Header(first=3, last=4, headings=JOINED)


def test_without_merges_a_second_row_known_only_joined_is_read_as_with_merges():
    """``find_header``: a second-row cell counts when it, or it joined to the heading above, is
    known; without merges a second-row heading belongs to the nearest heading on its left. So a
    caller who knows the sub-headings only in their joined form gets the same header from the
    CSV as from the workbook."""
    known = {"序号", "名称", "备注"} | {JOINED[c] for c in (2, 3, 4)}

    def joined_only(heading: str) -> str | None:
        return heading if heading in known else None

    def header_like(values) -> bool:
        return sum(1 for v in values if v is not None and joined_only(sheets.text(v))) >= 2

    with_merges = find_header(OFFICIAL, SheetInfo(merges=MERGES), joined_only, header_like)
    assert with_merges == Header(first=3, last=4, headings=JOINED)
    without = find_header(OFFICIAL, SheetInfo(), joined_only, header_like)
    assert without == with_merges


def test_a_heading_merged_down_over_both_rows_is_not_joined_to_the_cell_below_it():
    head = [
        (3, ["序号", "名称", "目标任务", None]),
        (4, [None, "单位", "指标名称", "目标值"]),
        (5, [1, "幼儿园", "新建", 5]),
    ]
    # 名称 spans rows 3 and 4: a value in B4 is not a sub-heading of it, so row 4 is not part of
    # the header (it is the first data row).
    merges = [(3, 4, 0, 0), (3, 4, 1, 1), (3, 3, 2, 3)]
    header = find_header(head, SheetInfo(merges=merges), match, looks_like_header)
    assert header == Header(
        first=3, last=3, headings={0: "序号", 1: "名称", 2: "目标任务", 3: "目标任务"}
    )


def test_a_heading_merged_down_keeps_its_own_name_beside_joined_ones():
    head = [
        (3, ["序号", "目标任务", None, "备注"]),
        (4, [None, "单位", "目标值"]),
        (5, [1, "所", 5, "审定"]),
    ]
    merges = [(3, 4, 0, 0), (3, 3, 1, 2), (3, 4, 3, 3)]
    header = find_header(head, SheetInfo(merges=merges), match, looks_like_header)
    assert header == Header(
        first=3, last=4, headings={0: "序号", 1: "目标任务/单位", 2: "目标任务/目标值", 3: "备注"}
    )


def test_a_data_row_below_a_one_row_header_is_not_taken_for_a_second_header_row():
    head = [(1, ["序号", "名称", "单位"]), (2, [1, "幼儿园", "所"])]
    header = find_header(head, SheetInfo(), match, looks_like_header)
    assert header == Header(first=1, last=1, headings={0: "序号", 1: "名称", 2: "单位"})


def test_a_second_header_row_must_follow_the_first_directly():
    head = [(3, ["序号", "名称", "目标任务"]), (5, [None, None, "单位", "目标值"])]
    header = find_header(head, SheetInfo(), match, looks_like_header)
    assert header is not None
    assert (header.first, header.last) == (3, 3)


def test_there_is_no_header_when_no_row_looks_like_one():
    head = [(1, ["2024年清单"]), (2, ["填报单位：测试县"]), (3, ["甲", "乙", "丙"])]
    assert find_header(head, SheetInfo(), match, looks_like_header) is None


# --- what read-only mode does not tell -----------------------------------------------------------


def workbook_bytes() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["2024年清单"])
    ws.append(["序号", "目标任务", None, "合计"])
    ws.append([None, "单位", "目标值"])
    ws.append([1, "所", 5])
    ws["D4"] = "=C4*2"  # openpyxl writes a formula with no cached value
    ws["D5"] = "=C5*2"
    ws.merge_cells("A1:D1")
    ws.merge_cells("B2:C2")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_read_only_sheet_gives_its_merges_and_formulas_without_values():
    with xlsx.open_workbook(workbook_bytes()) as workbook:
        sheet = workbook[workbook.sheetnames[0]]
        assert hasattr(sheet, "_get_source")  # read-only: openpyxl itself knows no merges
        info = sheets.scan_sheet(sheet)
        rows = list(xlsx.iter_rows(sheet, uncached=info.uncached))
    assert sorted(info.merges) == [(1, 1, 0, 3), (2, 2, 1, 2)]
    assert info.uncached == {4: {3}, 5: {3}}
    assert rows[3] == (4, [1, "所", 5])  # the uncached formula reads as an empty cell


def test_a_fully_loaded_sheet_gives_its_merges_too():
    wb = Workbook()
    ws = wb.active
    ws.append(["清单"])
    ws.merge_cells("A1:C2")
    assert sheets.scan_sheet(ws).merges == [(1, 2, 0, 2)]
