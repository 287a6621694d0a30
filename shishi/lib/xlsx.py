"""Reading and writing Excel (.xlsx) workbooks safely, without Django.

Reading never evaluates anything: workbooks are opened read-only with ``data_only=True``, so a
formula cell gives the value Excel cached when it last saved the file (or ``None``), never the
formula, and macros are neither kept nor run. Writing is streamed (openpyxl's write-only mode
keeps each sheet in a temporary file, strings inline), and every string that a spreadsheet would
take for a formula is neutralised first.

Reading cannot exhaust the machine (``Limits``): a 10 MB upload may unpack to gigabytes of XML
that says almost nothing (16 million empty rows, 15 million one-letter strings, a million cell
styles). Before openpyxl parses anything, ``open_workbook`` reads every part of the archive once,
as bytes, and refuses a workbook that unpacks too far or too eagerly, holds too many shared
strings or a cell longer than Excel allows, or a part that openpyxl would load whole with too
many elements in it. Rows are then streamed by ``iter_rows``, which keeps one row at a time (the
openpyxl reader keeps every row element it has read, emptied but attached) and stops at the
limits on rows, columns and cells with a ``NotXlsxError`` naming the limit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS
from openpyxl.xml.functions import fromstring, iterparse

ZIP_MAGIC = b"PK\x03\x04"
# The old binary .xls (and .doc, …) format: an OLE compound file.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of a workbook is read before it is refused. The defaults fit the largest honest
    ledgers with room to spare (the bench's 100,000 commitments: 120,000 rows, 2 million cells,
    110 MB unpacked from 12 MB) and keep a worker within a few hundred megabytes whatever the
    file: each limit bounds one thing openpyxl or this module keeps in memory."""

    # The whole archive unpacked; openpyxl's shared strings and styles are in it.
    unpacked: int = 256 * MB
    # A part of more than a megabyte unpacking to more than this many times its packed size: an
    # honest sheet unpacks some 10 times, a crafted one (a row repeated millions of times) 700.
    ratio: int = 200
    # Shared strings, which openpyxl loads all at once (about 100 bytes each in memory); and the
    # elements one of them may have (rich text runs).
    shared_strings: int = 1_000_000
    string_elements: int = 1_000
    # The elements of a part openpyxl loads whole (styles, the workbook, relationships): a
    # million empty cell styles (<xf/>, five bytes each) would take 600 MB. Excel keeps at most
    # 64,000 cell formats.
    elements: int = 200_000
    # A cell's text, in characters (Excel's own limit); measured in bytes before parsing.
    text: int = 32_767
    # Per sheet: rows holding a value, rows in all (empty ones too; Excel's last row), the
    # columns a value may be in, cells holding a value, and merged ranges.
    rows: int = 200_000
    row_number: int = 1_048_576
    columns: int = 1_024
    cells: int = 5_000_000
    merges: int = 100_000


LIMITS = Limits()
# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Source = bytes | str | os.PathLike | IO[bytes]


class NotXlsxError(ValueError):
    """The file is not a workbook we can read. ``reason`` says why, for a translated message.

    ``reason`` is one of ``"empty"``, ``"xls"`` (the old binary format), ``"not_zip"``,
    ``"damaged"`` (a zip, but not a readable workbook), or a limit of ``Limits`` that the file
    passes: ``"too_big"`` (unpacked), ``"ratio"``, ``"strings"``, ``"elements"``, ``"text"``,
    ``"rows"``, ``"row_number"``, ``"columns"``, ``"cells"``, ``"merges"``. For those, ``limit``
    is the number passed, ``part`` the archive member or sheet title, and ``row`` where reading
    stopped, when known.
    """

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        limit: int | None = None,
        part: str = "",
        row: int | None = None,
    ):
        self.reason = reason
        self.detail = detail
        self.limit = limit
        self.part = part
        self.row = row
        super().__init__(f"not a readable .xlsx file ({reason}){': ' + detail if detail else ''}")


def _as_file(source: Source) -> IO[bytes]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        return open(source, "rb")  # noqa: SIM115 - closed by open_workbook
    return source


def _check_archive(fh: IO[bytes], limits: Limits) -> None:
    """Refuse anything that is not a zip, or whose parts pass ``limits`` (see ``Limits``), before
    openpyxl parses any of it: every part is read once as bytes, never held whole."""
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
            _check_parts(archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, ParseError) as exc:
        if isinstance(exc, NotXlsxError):
            raise
        raise NotXlsxError("damaged", str(exc)) from exc
    finally:
        fh.seek(0)


# The sheets' content type: a part declared with it (and nothing else) is streamed by iter_rows;
# openpyxl loads every other part whole.
WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CHUNK = 1 << 20


def _check_parts(archive: zipfile.ZipFile, limits: Limits) -> None:
    infos = archive.infolist()
    # zipfile never yields more than a member's declared size, so the sum is a real bound.
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.unpacked:
        raise NotXlsxError("too_big", f"{unpacked} bytes unpacked", limit=limits.unpacked // MB)
    strings, sheets = _content_types(archive)
    for info in infos:
        if info.file_size > MB and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise NotXlsxError(
                "ratio",
                f"{info.filename}: {info.file_size} bytes from {info.compress_size}",
                limit=limits.ratio,
                part=info.filename,
            )
    for info in infos:
        if info.is_dir():
            continue
        if info.filename == strings:
            _check_strings(archive, info, limits)
        else:
            _check_part(archive, info, limits, count=info.filename not in sheets)


def _content_types(archive: zipfile.ZipFile) -> tuple[str | None, set[str]]:
    """The shared strings' part (found as openpyxl finds it, by its content type) and the
    sheets' parts: those declared as sheets and as nothing else, so that no part openpyxl loads
    whole (the workbook, the strings, the styles) escapes the count of its elements by being
    declared a sheet."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return None, set()  # openpyxl refuses the file itself
    if info.file_size > MB:
        raise NotXlsxError("elements", info.filename, limit=MB, part=info.filename)
    strings = None
    types: dict[str, set[str]] = {}
    for override in fromstring(archive.read(info)):
        name = (override.get("PartName") or "").lstrip("/")
        kind = override.get("ContentType") or ""
        if name:
            types.setdefault(name, set()).add(kind)
        if kind == SHARED_STRINGS and strings is None:
            strings = name
    # Under xl/worksheets/ as well, where every program puts them: the parts openpyxl reads at
    # fixed places (xl/styles.xml, docProps/core.xml, the theme) are never there.
    return strings, {
        name
        for name, kinds in types.items()
        if kinds == {WORKSHEET} and name.lower().startswith("xl/worksheets/")
    }


# How an XML part may begin: a tag, white space, or a byte-order mark (UTF-8, UTF-16).
_XML_START = (b"<", b" ", b"\t", b"\r", b"\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _texts(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> Iterator[bytes]:
    """The member's bytes in chunks when it is XML, refusing a run of text (a value, an
    attribute) longer than a cell may hold: in UTF-8 with entities a character takes at most 6
    bytes. A binary part (an image, a printer's settings) yields nothing: no XML parser reads it.
    """
    longest = limits.text * 6
    carry = b""  # the text after the last "<" of the chunks before
    first = True
    with archive.open(info) as src:
        while chunk := src.read(_CHUNK):
            if first and not chunk.startswith(_XML_START):
                return
            first = False
            data = carry + chunk
            # A run longer than ``longest`` covers a multiple of it: only those places are looked
            # at, a few per megabyte, each with two searches in C.
            for at in range(0, len(data), longest):
                if data[at] != 0x3C:  # "<"
                    start = data.rfind(b"<", 0, at) + 1
                    end = data.find(b"<", at)
                    if (len(data) if end < 0 else end) - start > longest:
                        raise NotXlsxError(
                            "text", info.filename, limit=limits.text, part=info.filename
                        )
            carry = data[data.rfind(b"<") + 1 :]
            yield chunk


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row[\s/>]")


def _check_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, *, count: bool
) -> None:
    """``count``: a part openpyxl loads whole, whose elements are counted; otherwise a sheet,
    whose rows are: openpyxl parses a sheet without a leading <dimension> to its end as it
    opens it, keeping each row element (about 85 bytes), so no more than Excel's own rows."""
    elements = rows = 0
    tail = b""
    for chunk in _texts(archive, info, limits):
        if count:
            elements += _starts(chunk)
            if elements > limits.elements:
                raise NotXlsxError(
                    "elements", info.filename, limit=limits.elements, part=info.filename
                )
            continue
        data = tail + chunk
        rows += sum(1 for m in _ROW_TAG.finditer(data) if m.end() > len(tail))
        if rows > limits.row_number:
            raise NotXlsxError(
                "row_number", info.filename, limit=limits.row_number, part=info.filename
            )
        tail = data[-64:]


_SI_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?si[\s/>]")


def _starts(data: bytes) -> int:
    """The start tags in ``data``: every "<" but those of end tags, declarations, comments."""
    return data.count(b"<") - data.count(b"</") - data.count(b"<?") - data.count(b"<!")


def _check_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Count the shared strings (<si>) and the elements inside each (rich text runs), as bytes:
    openpyxl keeps every string it loads, and builds each from its elements."""
    strings = inside = 0
    rest = b""

    def runs(count: int) -> int:
        if count > limits.string_elements:
            raise NotXlsxError(
                "elements", info.filename, limit=limits.string_elements, part=info.filename
            )
        return count

    def take(data: bytes) -> None:
        nonlocal strings, inside
        pieces = _SI_TAG.split(data)
        inside = runs(inside + _starts(pieces[0]))  # the string the previous piece left open
        strings += len(pieces) - 1
        if strings > limits.shared_strings:
            raise NotXlsxError(
                "strings", info.filename, limit=limits.shared_strings, part=info.filename
            )
        if len(pieces) > 1:
            # A start tag takes two bytes at least: only a long string can hold too many.
            long = 2 * limits.string_elements
            runs(max((_starts(p) for p in pieces[1:-1] if len(p) > long), default=0))
            inside = runs(_starts(pieces[-1]))

    for chunk in _texts(archive, info, limits):
        data = rest + chunk
        # Cut before the last "<", so that no tag is split between two pieces.
        cut = data.rfind(b"<")
        if cut <= 0:
            rest = data
            continue
        take(data[:cut])
        rest = data[cut:]
    take(rest)


@contextmanager
def open_workbook(source: Source, *, limits: Limits = LIMITS) -> Iterator[Any]:
    """Open a workbook for reading values only; closes it (and a file it opened) on exit.

    ``source`` is the file's bytes, a path, or a binary file object that can seek (an uploaded
    file is one). Raises ``NotXlsxError`` for anything that is not a readable .xlsx workbook, or
    that passes ``limits`` before openpyxl reads it.
    """
    fh = _as_file(source)
    opened_here = fh is not source
    try:
        _check_archive(fh, limits)
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


def iter_rows(
    sheet: Any, limits: Limits = LIMITS, uncached: dict[int, set[int]] | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, [normalised values])`` for each row of a sheet, row numbers from 1.

    Rows the file leaves out come back as empty lists, so numbers stay those Excel shows; trailing
    empty cells are dropped. The sheet's stored dimensions are ignored: some programs write wrong
    ones. A formula without a cached value reads as an empty cell; with ``uncached`` given, its
    place is added there as the row is read (row → 0-based columns), for the caller to report
    and take out as it goes. Raises ``NotXlsxError`` past ``limits``.
    """
    if not hasattr(sheet, "_get_source"):  # a fully loaded sheet (tests, small files)
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, _trimmed([normalise(v) for v in row])
        return
    yield from _SheetReader(sheet, limits, uncached).rows()


def _trimmed(values: list[Any]) -> list[Any]:
    while values and values[-1] is None:
        values.pop()
    return values


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _SheetReader:
    """A read-only sheet's rows, streamed with one row in memory at a time.

    openpyxl's own reader clears each row element it has read but leaves it attached to the
    document, about 85 bytes a row: 16 million empty rows took 3.7 GB. Here every finished element
    is taken off its parent, and openpyxl only converts each cell (shared strings, numbers, dates).
    """

    # Elements under one child of <sheetData> (or of the sheet) before it is taken off: a full row
    # of Excel's 16,384 cells, each with its value and inline string, fits.
    MAX_OPEN = 100_000

    def __init__(self, sheet: Any, limits: Limits, uncached: dict[int, set[int]] | None):
        self.sheet = sheet
        self.limits = limits
        self.uncached = uncached
        book = sheet.parent
        self.parser = WorkSheetParser(
            None,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        self.title = getattr(sheet, "title", "")

    def refuse(self, reason: str, limit: int, row: int | None = None) -> NotXlsxError:
        return NotXlsxError(
            reason, f"{self.title}: row {row}", limit=limit, part=self.title, row=row
        )

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        limits = self.limits
        previous = 0  # the last row number read
        with_values = cells = 0
        with self.sheet._get_source() as src:
            stack: list[Any] = []
            open_elements = 0
            try:
                for event, element in iterparse(src, events=("start", "end")):
                    if event == "start":
                        stack.append(element)
                        open_elements += 1
                        if open_elements > self.MAX_OPEN:
                            raise NotXlsxError("damaged", f"{self.title}: too many elements")
                        continue
                    stack.pop()
                    depth = len(stack)
                    if depth == 2 and _local(element.tag) == "row":
                        number, values = self.row(element, previous)
                        if number > limits.row_number:
                            raise self.refuse("row_number", limits.row_number, number)
                        for gap in range(previous + 1, number):
                            yield gap, []
                        previous = number
                        if values:
                            with_values += 1
                            cells += sum(v is not None for v in values)
                            if with_values > limits.rows:
                                raise self.refuse("rows", limits.rows, number)
                            if cells > limits.cells:
                                raise self.refuse("cells", limits.cells, number)
                        yield number, values
                    if depth <= 2:
                        # Finished: taken off its parent (the first child, the others went before).
                        if stack:
                            stack[-1].remove(element)
                        element.clear()
                        open_elements = depth
            except ParseError as exc:
                raise NotXlsxError("damaged", f"{self.title}: {exc}") from exc

    def row(self, element: Any, previous: int) -> tuple[int, list[Any]]:
        parser = self.parser
        ref = element.get("r")
        try:
            number = int(ref) if ref is not None else previous + 1
        except ValueError:
            raise NotXlsxError("damaged", f"{self.title}: row {ref!r}") from None
        if number <= previous:
            raise NotXlsxError("damaged", f"{self.title}: row {number} after row {previous}")
        parser.row_counter = number
        parser.col_counter = 0
        found: dict[int, Any] = {}
        for cell in element:
            if _local(cell.tag) != "c":
                continue
            try:
                parsed = parser.parse_cell(cell)
            except (ValueError, IndexError, TypeError, KeyError, OverflowError) as exc:
                raise NotXlsxError("damaged", f"{self.title}: row {number}: {exc}") from exc
            column = parsed["column"] - 1
            value = normalise(parsed["value"])
            if value is None:
                if self.uncached is not None and self._uncached(cell):
                    if column >= self.limits.columns:
                        raise self.refuse("columns", self.limits.columns, number)
                    self.uncached.setdefault(number, set()).add(column)
                continue
            if column >= self.limits.columns:
                raise self.refuse("columns", self.limits.columns, number)
            found[column] = value
        if not found:
            return number, []
        values: list[Any] = [None] * (max(found) + 1)
        for column, value in found.items():
            values[column] = value
        return number, values

    @staticmethod
    def _uncached(cell: Any) -> bool:
        children = {_local(child.tag): child for child in cell}
        value = children.get("v")
        return "f" in children and (value is None or value.text in (None, ""))


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
