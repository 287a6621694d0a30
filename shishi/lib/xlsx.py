"""Reading and writing Excel (.xlsx) workbooks safely, without Django.

Reading never evaluates anything: workbooks are opened read-only with ``data_only=True``, so a
formula cell gives the value Excel cached when it last saved the file (or ``None``), never the
formula, and macros are neither kept nor run. Writing is streamed (openpyxl's write-only mode
keeps each sheet in a temporary file, strings inline), and every string that a spreadsheet would
take for a formula is neutralised first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

ZIP_MAGIC = b"PK\x03\x04"
# The old binary .xls (and .doc, …) format: an OLE compound file.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A 10 MB upload may unpack to much more; past this the file is refused before parsing, so a
# "zip bomb" cannot fill memory (openpyxl keeps the shared strings in memory).
MAX_UNPACKED = 256 * 1024 * 1024
# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Source = bytes | str | os.PathLike | IO[bytes]


class NotXlsxError(ValueError):
    """The file is not a workbook we can read. ``reason`` says why, for a translated message.

    ``reason`` is one of ``"empty"``, ``"xls"`` (the old binary format), ``"not_zip"``,
    ``"too_big"`` (unpacks to more than the limit) or ``"damaged"`` (a zip, but not a readable
    workbook).
    """

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"not a readable .xlsx file ({reason}){': ' + detail if detail else ''}")


def _as_file(source: Source) -> IO[bytes]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        return open(source, "rb")  # noqa: SIM115 - closed by open_workbook
    return source


def _check_archive(fh: IO[bytes], max_unpacked: int) -> None:
    """Refuse anything that is not a zip, or unpacks to more than ``max_unpacked`` bytes."""
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if not head:
        raise NotXlsxError("empty")
    if head.startswith(OLE_MAGIC):
        raise NotXlsxError("xls")
    if not head.startswith(ZIP_MAGIC):
        raise NotXlsxError("not_zip")
    try:
        with zipfile.ZipFile(fh) as archive:
            # zipfile never yields more than a member's declared size, so the sum is a real bound.
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise NotXlsxError("damaged", str(exc)) from exc
    finally:
        fh.seek(0)
    if unpacked > max_unpacked:
        raise NotXlsxError("too_big", f"{unpacked} bytes unpacked")


@contextmanager
def open_workbook(source: Source, *, max_unpacked: int = MAX_UNPACKED) -> Iterator[Any]:
    """Open a workbook for reading values only; closes it (and a file it opened) on exit.

    ``source`` is the file's bytes, a path, or a binary file object that can seek (an uploaded
    file is one). Raises ``NotXlsxError`` for anything that is not a readable .xlsx workbook.
    """
    fh = _as_file(source)
    opened_here = fh is not source
    try:
        _check_archive(fh, max_unpacked)
        try:
            workbook = load_workbook(
                fh, read_only=True, data_only=True, keep_vba=False, keep_links=False
            )
        except (
            zipfile.BadZipFile,
            InvalidFileException,
            KeyError,
            ValueError,
            TypeError,
            IndexError,
            AttributeError,
            OSError,
            ParseError,
        ) as exc:
            # A zip that is not a workbook (a .docx, a damaged file) fails deep inside openpyxl
            # with any of these; to the person uploading it they all mean the same thing.
            raise NotXlsxError("damaged", f"{type(exc).__name__}: {exc}") from exc
        try:
            yield workbook
        finally:
            workbook.close()
    finally:
        if opened_here:
            fh.close()


def normalise(value: Any) -> Any:
    """A cell's value as an importer wants it.

    Strings are stripped and empty ones become ``None``; a float that is a whole number becomes
    an ``int`` (Excel stores 13800000000 as 13800000000.0); a string that ``neutralise`` protected
    on export loses its protecting apostrophe, so an export reads back unchanged.
    """
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
            return value[1:]
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def iter_rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, [normalised values])`` for each row of a sheet, row numbers from 1.

    Rows the file leaves out come back as empty lists, so numbers stay those Excel shows; trailing
    empty cells are dropped. The sheet's stored dimensions are ignored: some programs write wrong
    ones, and read-only mode would otherwise stop reading at them.
    """
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = [normalise(v) for v in row]
        while values and values[-1] is None:
            values.pop()
        yield number, values


def column_letter(index: int) -> str:
    """``0`` → ``A``: the letter Excel shows for a 0-based column index."""
    return get_column_letter(index + 1)


def neutralise(value: Any) -> Any:
    """Protect a string a spreadsheet would run as a formula by prefixing an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def iter_csv(
    header: Sequence[str], rows: Iterable[Iterable[Any]], batch: int = 100
) -> Iterator[bytes]:
    """A CSV file in pieces of ``batch`` rows: UTF-8 with a BOM (Excel then reads it as UTF-8),
    text a spreadsheet would run as a formula neutralised, decimals in full, None as empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    writer.writerow(header)
    yield "\ufeff".encode() + take()
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
        if n % batch == 0:
            yield take()
    yield take()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return format(value, "f") if hasattr(value, "as_tuple") else neutralise(value)


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        # Control characters are not allowed in the XML; openpyxl would refuse the whole file.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # Excel has no time zones; write the wall-clock time the value already carries.
        return value.replace(tzinfo=None)
    return value


def write_workbook(
    target: IO[bytes] | str | os.PathLike,
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Iterable[Any]]]],
) -> None:
    """Write ``(title, header, rows)`` sheets to ``target``, streaming the rows.

    Rows may be generators: each is written as it comes and not kept. Every string cell is
    neutralised (see ``neutralise``), the header included.
    """
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([_cell(v) for v in header])
        for row in rows:
            sheet.append([_cell(v) for v in row])
    workbook.save(target)
