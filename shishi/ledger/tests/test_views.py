"""Downloads: CSV and JSON streamed row by row, xlsx from a temporary file, each as an attachment
(the upload page and its size limit are tested by the ledgers' page tests)."""

import io
import json

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook, load_workbook

from shishi.ledger.exporter import Exporter
from shishi.ledger.views import download
from shishi.lib import xlsx

ROWS = [["A1", "东一村"], ["A2", "=1+1"]]


class Notes(Exporter):
    title = "notes"
    fields = {"code": "the code", "name": "the name"}

    def rows(self):
        yield from (list(r) for r in ROWS)


class Broken(Notes):
    def header(self):
        raise RuntimeError("the database went away")


def body(response: FileResponse) -> bytes:
    """The file a response streams, closed after reading (``response.close()`` would also end
    the request, which these tests have not made)."""
    try:
        return b"".join(response.streaming_content)
    finally:
        response.file_to_stream.close()


def test_a_csv_download_is_streamed_as_an_attachment():
    notes = Notes()
    response = download(notes, "csv", "shishi-notes-20310101")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="shishi-notes-20310101.csv"'
    assert notes.count == 0  # nothing is read before the response is sent
    body = b"".join(response.streaming_content)
    assert body.decode("utf-8-sig").splitlines() == ["code,name", "A1,东一村", "A2,'=1+1"]
    assert notes.count == 2


def test_a_json_download_is_streamed_as_an_attachment():
    response = download(Notes(), "json", "notes")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="notes.json"'
    parsed = json.loads(b"".join(response.streaming_content))
    assert parsed["rows"] == [{"code": "A1", "name": "东一村"}, {"code": "A2", "name": "=1+1"}]


def test_an_xlsx_download_is_a_file_response_of_the_workbook():
    notes = Notes()
    response = download(notes, "xlsx", "notes")
    data = body(response)
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == xlsx.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="notes.xlsx"'
    assert notes.count == 2  # written before the response
    assert response["Content-Length"] == str(len(data))
    ws = load_workbook(io.BytesIO(data))["notes"]
    assert list(ws.iter_rows(values_only=True)) == [
        ("code", "name"),
        ("A1", "东一村"),
        ("A2", "'=1+1"),
    ]


def test_a_workbook_of_several_sheets_is_written_by_the_function_given():
    def write(out):
        wb = Workbook()
        wb.active.title = "first"
        wb.create_sheet("second").append(["x"])
        wb.save(out)

    response = download(write, "xlsx", "two")
    data = body(response)
    assert response["Content-Disposition"] == 'attachment; filename="two.xlsx"'
    assert load_workbook(io.BytesIO(data)).sheetnames == ["first", "second"]


def test_an_export_that_fails_while_writing_the_workbook_raises_and_sends_nothing():
    with pytest.raises(RuntimeError, match="went away"):
        download(Broken(), "xlsx", "notes")
