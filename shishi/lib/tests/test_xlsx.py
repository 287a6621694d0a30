import ast
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from shishi.lib import xlsx


def workbook_bytes(rows, title="Sheet") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def rewrite(data: bytes, member: str, edit) -> bytes:
    """The same workbook with one zip member's text changed by ``edit``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == member:
                content = edit(content.decode()).encode()
            dst.writestr(info, content)
    return out.getvalue()


def read_all(data) -> list[tuple[int, list]]:
    with xlsx.open_workbook(data) as wb:
        return list(xlsx.iter_rows(wb[wb.sheetnames[0]]))


def test_it_does_not_import_django():
    tree = ast.parse(Path(xlsx.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "openpyxl" in names
    assert not {n for n in names if n.split(".")[0] in {"django", "shishi"}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  东一村 ", "东一村"),
        ("   ", None),
        ("", None),
        (None, None),
        (13800000000.0, 13800000000),
        (1.5, 1.5),
        (42, 42),
        (True, True),
        ("'=1+1", "=1+1"),
        ("'-3", "-3"),
        ("'ordinary", "'ordinary"),
        ("'", "'"),
    ],
)
def test_it_normalises_cell_values(value, expected):
    result = xlsx.normalise(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_it_neutralises_what_a_spreadsheet_would_run(value):
    assert xlsx.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["东一村", "a=b", "13800000000", 13800000000, None, 1.5])
def test_it_leaves_everything_else_alone(value):
    assert xlsx.neutralise(value) == value


def test_it_reads_rows_with_their_numbers_and_keeps_gaps():
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "code"
    ws["B1"] = " name "
    ws["A3"] = 990101100201.0
    ws["C3"] = None
    out = io.BytesIO()
    wb.save(out)
    assert read_all(out.getvalue()) == [(1, ["code", "name"]), (2, []), (3, [990101100201])]


def test_it_reads_past_wrong_dimensions():
    data = workbook_bytes([["a"], ["b"], ["c"]])
    data = rewrite(
        data, "xl/worksheets/sheet1.xml", lambda x: x.replace('ref="A1:A3"', 'ref="A1:A1"')
    )
    assert [values for _n, values in read_all(data)] == [["a"], ["b"], ["c"]]


def test_it_reads_a_formula_as_its_cached_value_never_the_formula():
    data = workbook_bytes([["=1+1", "=A1*2"]])

    def cache(xml):
        return xml.replace("<f>1+1</f><v />", "<f>1+1</f><v>2</v>")

    data = rewrite(data, "xl/worksheets/sheet1.xml", cache)
    # A1 has a cached value; B1 was never calculated, so it has none: it is empty, not "=A1*2".
    assert read_all(data) == [(1, [2])]


def test_it_opens_bytes_paths_and_file_objects(tmp_path):
    data = workbook_bytes([["x"]])
    path = tmp_path / "a.xlsx"
    path.write_bytes(data)
    assert read_all(data) == read_all(str(path)) == read_all(path) == read_all(io.BytesIO(data))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"code,name\n990101100201,east\n", "not_zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "xls"),
        (b"PK\x03\x04 this is not really a zip", "damaged"),
    ],
)
def test_it_refuses_what_is_not_an_xlsx_file(data, reason):
    with pytest.raises(xlsx.NotXlsxError) as info:
        read_all(data)
    assert info.value.reason == reason


def test_it_refuses_a_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(xlsx.NotXlsxError) as info:
        read_all(out.getvalue())
    assert info.value.reason == "damaged"


def test_it_refuses_a_workbook_that_unpacks_too_far():
    data = workbook_bytes([["x" * 1000] for _ in range(100)])
    with (
        pytest.raises(xlsx.NotXlsxError) as info,
        xlsx.open_workbook(data, limits=xlsx.Limits(unpacked=10_000)),
    ):
        pass
    assert info.value.reason == "too_big"


def test_it_writes_streamed_sheets_with_strings_neutralised():
    out = io.BytesIO()

    def rows():
        yield ['=HYPERLINK("http://example.org")', 13800000000, None]
        yield ["@evil", "plain", "-5"]

    xlsx.write_workbook(out, [("orgs", ["a", "b", "c"], rows()), ("people", ["x"], [])])
    raw = load_workbook(io.BytesIO(out.getvalue()))
    assert raw.sheetnames == ["orgs", "people"]
    sheet = raw["orgs"]
    assert sheet["A2"].value == '\'=HYPERLINK("http://example.org")'
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 13800000000
    assert [c.value for c in sheet[3]] == ["'@evil", "plain", "'-5"]
    # Read back through the helpers, the protection comes off again.
    with xlsx.open_workbook(out.getvalue()) as wb:
        rows_back = list(xlsx.iter_rows(wb["orgs"]))
    assert rows_back[1] == (2, ['=HYPERLINK("http://example.org")', 13800000000])
    assert rows_back[2] == (3, ["@evil", "plain", "-5"])


def test_it_drops_characters_the_file_format_cannot_hold():
    out = io.BytesIO()
    xlsx.write_workbook(out, [("s", ["a"], [["east\x01 town"]])])
    assert read_all(out.getvalue())[1] == (2, ["east town"])


def test_a_csv_comes_in_pieces_with_a_bom_neutralised_formulas_and_full_decimals():
    from decimal import Decimal

    rows = [["=1+1", Decimal("68690000.00"), None]] + [[str(n), n, ""] for n in range(250)]
    pieces = list(xlsx.iter_csv(["a", "b", "c"], rows, batch=100))
    assert len(pieces) == 4  # the header, two full batches, the rest
    text = b"".join(pieces).decode("utf-8")
    assert text.startswith("\ufeffa,b,c\r\n'=1+1,68690000.00,\r\n")
    assert text.count("\r\n") == 252


# --- files that cannot exhaust the machine --------------------------------------------------------


def crafted(sheet: str = "", strings: str | None = None, styles: str | None = None) -> bytes:
    """A workbook with its parts written by hand (as a hostile file would be), deflated: ``sheet``
    is the inside of <sheetData>, ``strings`` the inside of <sst>, ``styles`` of <cellXfs>."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            + (
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
                if strings is not None
                else ""
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="r1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet" sheetId="1" r:id="r1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="r1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{sheet}</sheetData></worksheet>',
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{main}">{strings}</sst>'
    if styles is not None:
        parts["xl/styles.xml"] = (
            f'<styleSheet xmlns="{main}"><cellXfs>{styles}</cellXfs></styleSheet>'
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def refused(data: bytes, limits: xlsx.Limits = xlsx.LIMITS) -> xlsx.NotXlsxError:
    """What reading every row of ``data`` ends with, and its peak memory in MB (tracemalloc)."""
    tracemalloc.start()
    try:
        with (
            pytest.raises(xlsx.NotXlsxError) as info,
            xlsx.open_workbook(data, limits=limits) as wb,
        ):
            for _row in xlsx.iter_rows(wb[wb.sheetnames[0]], limits):
                pass
        info.value.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return info.value


def test_the_crafted_workbook_reads_when_it_is_honest():
    data = crafted(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>2</v></c></row>',
        "<si><t>编码</t></si>",
    )
    assert read_all(data) == [(1, ["编码", 2])]


def test_a_sheet_of_millions_of_empty_rows_is_refused_before_it_is_parsed():
    # Three million <row/> elements: 18 MB unpacked from some 20 KB.
    data = crafted("<row/>" * 3_000_000)
    assert len(data) < 100_000
    error = refused(data)
    assert (error.reason, error.limit, error.part) == ("ratio", 200, "xl/worksheets/sheet1.xml")
    assert error.peak_mb < 20


def test_past_the_ratio_more_rows_than_excel_has_are_refused_before_they_are_parsed():
    error = refused(crafted("<row/>" * 1_100_000), xlsx.Limits(ratio=10**9))
    assert (error.reason, error.limit, error.part) == (
        "row_number",
        1_048_576,
        "xl/worksheets/sheet1.xml",
    )
    assert error.peak_mb < 20


def test_rows_are_streamed_in_flat_memory():
    # openpyxl's own reader keeps every row element it has read, emptied but attached to the
    # sheet: 85 bytes a row, 3.7 GB for the drill's file. Here each is let go once read.
    data = crafted("".join(f'<row r="{n}" ht="15" customHeight="1"/>' for n in range(1, 100_001)))
    with xlsx.open_workbook(data) as wb:
        tracemalloc.start()
        try:
            count = sum(1 for _row in xlsx.iter_rows(wb[wb.sheetnames[0]]))
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    assert count == 100_000
    assert peak < 2


def test_a_row_number_past_excels_last_row_is_refused():
    error = refused(crafted('<row r="2000000"><c r="A2000000"><v>1</v></c></row>'))
    assert (error.reason, error.row) == ("row_number", 2_000_000)


def test_millions_of_shared_strings_are_refused_before_openpyxl_loads_them():
    # openpyxl loads every shared string at once: 15 million took the drill 1.5 GB.
    error = refused(crafted("", "<si><t>a</t></si>" * 1_000_001), xlsx.Limits(ratio=10**9))
    assert (error.reason, error.limit) == ("strings", 1_000_000)
    assert error.part == "xl/sharedStrings.xml"
    assert error.peak_mb < 50


def test_a_shared_string_of_too_many_runs_is_refused():
    error = refused(crafted("", "<si>" + "<r><t>a</t></r>" * 600 + "</si>"))
    assert (error.reason, error.limit) == ("elements", 1_000)


def test_a_million_cell_styles_are_refused_before_openpyxl_loads_them():
    error = refused(crafted("", styles="<xf/>" * 200_001), xlsx.Limits(ratio=10**9))
    assert (error.reason, error.limit, error.part) == ("elements", 200_000, "xl/styles.xml")
    assert error.peak_mb < 20


def test_a_cell_longer_than_excel_allows_is_refused_before_it_is_parsed():
    cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>' + "x" * 200_000 + "</t></is></c></row>"
    error = refused(crafted(cell))
    assert (error.reason, error.limit) == ("text", 32_767)


def test_a_value_past_the_last_column_is_refused():
    error = refused(crafted('<row r="3"><c r="AMK3"><v>1</v></c></row>'))
    assert (error.reason, error.limit, error.row) == ("columns", 1_024, 3)
    # An empty cell far to the right (formatting) is no value, and no work.
    assert read_all(crafted('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/></row>')) == [
        (1, [1])
    ]


def test_rows_and_cells_holding_values_stop_at_their_limits():
    sheet = "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>1</v></c></row>'
        for n in range(1, 31)
    )
    rows = refused(crafted(sheet), xlsx.Limits(rows=20))
    assert (rows.reason, rows.limit, rows.row) == ("rows", 20, 21)
    cells = refused(crafted(sheet), xlsx.Limits(cells=25))
    assert (cells.reason, cells.limit, cells.row) == ("cells", 25, 13)
    assert len(read_all(crafted(sheet))) == 30


def test_a_part_openpyxl_loads_whole_is_counted_even_when_declared_a_sheet():
    data = crafted("", styles="<xf/>" * 200_001)
    declared = rewrite(
        data,
        "[Content_Types].xml",
        lambda x: x.replace(
            "</Types>",
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        ),
    )
    error = refused(declared, xlsx.Limits(ratio=10**9))
    assert (error.reason, error.part) == ("elements", "xl/styles.xml")
