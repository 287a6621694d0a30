"""The exporter base on its own: the same rows as xlsx, CSV and JSON, strings a spreadsheet would
run neutralised, and open data ending with the figures computed from its own rows."""

import datetime as dt
import io
import json
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from shishi.ledger import exporter
from shishi.ledger.exporter import Exporter, OpenData
from shishi.lib.figures import Figure, FigureSet, percent

ROWS = [
    ["A1", "东一村", Decimal("68690000.50"), dt.date(2031, 1, 5)],
    ["A2", '=HYPERLINK("http://example.org")', None, dt.date(2031, 2, 1)],
    ["A3", "+1", 3, None],
]


class Notes(Exporter):
    title = "notes"
    fields = {
        "code": gettext_lazy("Code"),
        "name": gettext_lazy("Name"),
        "amount": "amount in yuan",
        "day": "the day, ISO",
    }

    def __init__(self, rows=ROWS):
        super().__init__()
        self.source = rows
        self.produced = 0

    def rows(self):
        for row in self.source:
            self.produced += 1
            yield list(row)


class Labelled(Notes):
    """A table for people: labels in the active language as the header, no stable keys."""

    fields = {}

    def header(self):
        return [str(gettext_lazy("Code")), str(gettext_lazy("Name")), "金额", "日期"]


def xlsx_rows(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_the_header_defaults_to_the_keys():
    assert Notes().header() == ["code", "name", "amount", "day"]
    assert Notes().keys() == ["code", "name", "amount", "day"]
    assert Labelled().keys() == ["Code", "Name", "金额", "日期"]


def test_an_xlsx_holds_the_header_and_rows_and_counts_them():
    out = io.BytesIO()
    notes = Notes()
    assert notes.count == 0
    notes.write_xlsx(out)
    assert notes.count == 3
    rows = xlsx_rows(out.getvalue())["notes"]
    assert rows[0] == ("code", "name", "amount", "day")
    assert rows[1][:2] == ("A1", "东一村")
    assert rows[1][3].date() == dt.date(2031, 1, 5)
    assert rows[2][1] == '\'=HYPERLINK("http://example.org")'  # neutralised, never run
    assert rows[3][:3] == ("A3", "'+1", 3)
    assert len(rows) == 4


def test_a_csv_has_a_bom_neutralised_formulas_and_full_decimals():
    notes = Notes()
    data = b"".join(notes.iter_csv())
    assert notes.count == 3
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines() == [
        "code,name,amount,day",
        "A1,东一村,68690000.50,2031-01-05",
        'A2,"\'=HYPERLINK(""http://example.org"")",,2031-02-01',
        "A3,'+1,3,",
    ]


def test_json_has_its_head_fields_rows_as_objects_and_nothing_after():
    notes = Notes()
    with translation.override("zh-hans"):
        data = b"".join(notes.iter_json())
    assert notes.count == 3
    parsed = json.loads(data)
    assert list(parsed) == ["fields", "rows"]
    assert parsed["fields"] == {
        "code": "代码",
        "name": "名称",
        "amount": "amount in yuan",
        "day": "the day, ISO",
    }
    assert parsed["rows"] == [
        {"code": "A1", "name": "东一村", "amount": "68690000.50", "day": "2031-01-05"},
        {
            "code": "A2",
            "name": '=HYPERLINK("http://example.org")',
            "amount": None,
            "day": "2031-02-01",
        },
        {"code": "A3", "name": "+1", "amount": 3, "day": None},
    ]


def test_json_of_many_rows_comes_in_pieces_and_parses_whole():
    many = [[f"A{i}", f"村{i}", i, None] for i in range(exporter.JSON_BATCH * 2 + 7)]
    notes = Notes(many)
    pieces = list(notes.iter_json())
    assert len(pieces) >= 3  # the head, full batches, then the last rows and the end
    parsed = json.loads(b"".join(pieces))
    assert [r["code"] for r in parsed["rows"]] == [r[0] for r in many]
    assert notes.count == len(many)


def test_json_without_a_head_or_rows_is_still_json():
    notes = Labelled([])
    assert json.loads(b"".join(notes.iter_json())) == {"fields": {}, "rows": []}
    assert notes.count == 0


def test_iter_format_chooses_csv_or_json():
    assert b"".join(Notes().iter_format("csv")).startswith(b"\xef\xbb\xbfcode,")
    assert json.loads(b"".join(Notes().iter_format("json")))["rows"][0]["code"] == "A1"


def test_count_is_that_of_the_last_format_written():
    notes = Notes()
    b"".join(notes.iter_csv())
    b"".join(notes.iter_json())
    assert notes.count == 3
    assert notes.produced == 6  # each format reads the rows afresh


def test_several_exporters_are_the_sheets_of_one_workbook():
    out = io.BytesIO()
    first, second = Notes(), Labelled(ROWS[:1])
    second.title = "labelled"
    exporter.write_workbook(out, [first, second])
    sheets = xlsx_rows(out.getvalue())
    assert list(sheets) == ["notes", "labelled"]
    assert sheets["labelled"][0] == ("Code", "Name", "金额", "日期")
    assert len(sheets["notes"]) == 4 and len(sheets["labelled"]) == 2
    assert (first.count, second.count) == (3, 1)


# --- open data ---------------------------------------------------------------------------------


FIGURES = FigureSet(
    Figure("listed", "listed = every row", lambda c, _f: c["listed"]),
    Figure("done", "done = rows done", lambda c, _f: c["done"]),
    Figure("rate", "rate = done ÷ listed × 100", lambda _c, f: percent(f["done"], f["listed"])),
)


class Open(OpenData):
    title = "open"
    fields = {"code": "the code", "status": "planned or done"}
    figures = FIGURES

    def __init__(self, rows):
        super().__init__()
        self.source = rows

    def rows(self):
        yield from (list(r) for r in self.source)

    def tally(self, row):
        return ["listed", row[1]]


def test_open_data_ends_with_figures_computed_from_its_rows_and_their_formulas():
    rows = [["A1", "done"], ["A2", "planned"], ["A3", "done"]]
    data = Open(rows)
    parsed = json.loads(b"".join(data.iter_json()))
    assert list(parsed) == ["fields", "rows", "figures", "formulas"]
    assert parsed["rows"] == [{"code": c, "status": s} for c, s in rows]
    assert parsed["figures"] == {"listed": 3, "done": 2, "rate": 66.7}
    assert parsed["formulas"] == {
        "listed": "listed = every row",
        "done": "done = rows done",
        "rate": "rate = done ÷ listed × 100",
    }
    assert data.count == 3
    assert data.counts == {"listed": 3, "done": 2, "planned": 1}


def test_open_data_counts_afresh_each_time_it_is_written():
    data = Open([["A1", "done"], ["A2", "planned"]])
    b"".join(data.iter_csv())
    first = json.loads(b"".join(data.iter_json()))
    assert first["figures"] == {"listed": 2, "done": 1, "rate": 50.0}
    assert data.computed() == first["figures"]


def test_open_data_of_nothing_has_figures_of_nothing():
    parsed = json.loads(b"".join(Open([]).iter_json()))
    assert parsed["rows"] == []
    assert parsed["figures"] == {"listed": 0, "done": 0, "rate": 0.0}


def test_open_data_formulas_are_translated_when_written():
    class Translated(Open):
        figures = FigureSet(Figure("n", gettext_lazy("Code"), lambda c, _f: c["listed"]))

    with translation.override("zh-hans"):
        parsed = json.loads(b"".join(Translated([["A1", "done"]]).iter_json()))
    assert parsed["formulas"] == {"n": "代码"}
    assert parsed["figures"] == {"n": 1}
