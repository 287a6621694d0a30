"""Reading ledgers (台账) as officials keep them, without Django: rows of an .xlsx sheet or a CSV
file, and the header among title and stamp rows.

An official's sheet has a title row, perhaps a stamp line (``填报单位：…``), then one or two
header rows with merged cells (``目标任务`` over ``指标名称 | 单位 | 目标值``), then the data.
``find_header`` finds the header among the first rows and gives each column its heading, a second
header row joined to the merged heading above it (``目标任务/指标名称``). What a heading means is
the caller's business: it passes a function from heading text to a column key.

CSV files come in UTF-8 (with or without the BOM Excel writes) or in GB18030 (a superset of the
GBK that Chinese Excel and WPS save by default); ``csv_rows`` decides which by reading the file
once, so a large file is never held whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from openpyxl.utils.cell import range_boundaries

from . import xlsx

HEADER_SCAN = 10  # the header is looked for in this many non-empty rows from the top

Rows = Iterator[tuple[int, list[Any]]]


def text(value: Any) -> str:
    """A cell as stripped text; an empty cell is ``""``."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def key(value: Any) -> str:
    """A code or number as typed, full-width digits and letters made plain (NFKC)."""
    return unicodedata.normalize("NFKC", text(value)).strip()


def fold(value: str) -> str:
    """The form in which headings and choices compare: NFKC, one space, case folded."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def squash(value: str) -> str:
    """``fold`` without spaces: ``序  号`` is ``序号``."""
    return fold(value).replace(" ", "")


def chunks(items: Iterable, size: int = 500) -> Iterator[list]:
    """``items`` in lists of ``size``: keys for ``IN (...)`` queries, rows for bulk writes."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- what read-only mode does not tell: merged ranges, formulas without values ---------------


@dataclass
class SheetInfo:
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows, cols (0-based)
    # Formulas without a cached value: row → 0-based columns, filled by ``xlsx.iter_rows`` as it
    # reads each row and emptied by the reader of the rows as it goes (so it stays small).
    uncached: dict[int, set[int]] = field(default_factory=dict)


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_OVERLAP = 256  # bytes kept from one chunk to the next, so a tag across the boundary is found


def scan_sheet(sheet: Any, max_merges: int = xlsx.LIMITS.merges) -> SheetInfo:
    """Merged ranges, which read-only mode does not tell (it skips ``<mergeCells>``).

    The sheet's bytes are scanned for them, which costs a fraction of parsing them; more than
    ``max_merges`` raises ``xlsx.NotXlsxError`` (``"merges"``). Formulas without a cached value
    are found by ``xlsx.iter_rows`` as it reads, into ``SheetInfo.uncached``.
    """
    get_source = getattr(sheet, "_get_source", None)
    info = SheetInfo()
    if get_source is None:  # a fully loaded sheet (not read-only) knows its merges
        for rng in sheet.merged_cells.ranges:
            info.merges.append((rng.min_row, rng.max_row, rng.min_col - 1, rng.max_col - 1))
        return info
    tail = b""
    with get_source() as src:
        while chunk := src.read(1 << 20):
            data = tail + chunk
            for match in _MERGE_REF.finditer(data):
                if match.end() > len(tail):  # not seen whole in the previous chunk
                    ref = match.group(1).decode()
                    min_col, min_row, max_col, max_row = range_boundaries(ref)
                    info.merges.append((min_row, max_row, min_col - 1, max_col - 1))
                    if len(info.merges) > max_merges:
                        title = getattr(sheet, "title", "")
                        raise xlsx.NotXlsxError("merges", title, limit=max_merges, part=title)
            tail = data[-_OVERLAP:]
    return info


# --- CSV -----------------------------------------------------------------------------------------


def csv_encoding(fh: IO[bytes]) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8 (BOM or not), else ``gb18030``."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fh.read(64 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        fh.seek(0)
    return "utf-8-sig"


class CsvError(ValueError):
    """A CSV file that cannot be read past ``line``: a cell longer than ``csv.field_size_limit()``
    (131,072 characters), or a quotation mark never closed."""

    def __init__(self, line: int, reason: str):
        self.line = line
        super().__init__(f"line {line}: {reason}")


def csv_rows(fh: IO[bytes]) -> Rows:
    """``(row number, [normalised values])`` for each row of a CSV file, as ``xlsx.iter_rows``;
    raises ``CsvError`` where the file cannot be read further."""
    encoding = csv_encoding(fh)
    wrapper = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(wrapper)
    try:
        for number, row in enumerate(reader, start=1):
            values = [xlsx.normalise(v) for v in row]
            while values and values[-1] is None:
                values.pop()
            yield number, values
    except csv.Error as exc:
        raise CsvError(reader.line_num, str(exc)) from exc
    finally:
        wrapper.detach()  # the caller owns (and closes) the file


def is_csv(fh: IO[bytes], name: str) -> bool:
    """A file is read as CSV when its name says so and it is not a zip (an .xlsx) or OLE (.xls)."""
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    return (
        bool(head)
        and not head.startswith((xlsx.ZIP_MAGIC, xlsx.OLE_MAGIC))
        and name.lower().endswith(".csv")
    )


# --- the header ----------------------------------------------------------------------------------


@dataclass
class Header:
    """Where the header is (``first`` to ``last`` row) and each column's heading, by index."""

    first: int
    last: int
    headings: dict[int, str]


def head_rows(rows: Rows, scan: int = HEADER_SCAN) -> list[tuple[int, list[Any]]]:
    """The first ``scan`` non-empty rows (the rest stay in ``rows``)."""
    head: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if any(v is not None for v in values):
            head.append((number, values))
            if len(head) >= scan:
                break
    return head


def find_header(
    head: list[tuple[int, list[Any]]],
    info: SheetInfo,
    match: Callable[[str], str | None],
    looks_like_header: Callable[[list[Any]], bool],
) -> Header | None:
    """The header among ``head`` (the first row ``looks_like_header`` accepts), or None.

    A heading merged across columns (``目标任务`` over three) stands above each of them; the row
    below is a second header row when each of its cells, alone or joined to the heading above
    (``目标任务/指标名称``), is something ``match`` knows. Without merge information (CSV) a
    second-row heading belongs to the nearest heading to its left.
    """
    index = next((i for i, (_n, values) in enumerate(head) if looks_like_header(values)), None)
    if index is None:
        return None
    number, top = head[index]
    width = max(len(values) for _n, values in head)
    top = list(top) + [None] * (width - len(top))
    vertical: set[int] = set()
    for min_row, max_row, min_col, max_col in info.merges:
        if min_row == number and max_col < width:
            for col in range(min_col + 1, max_col + 1):
                top[col] = top[min_col]
            if max_row > number:
                vertical.update(range(min_col, max_col + 1))
    # Each column's group heading: its own, or (no merge information) the nearest to its left.
    group: list[Any] = []
    carried = None
    for col in range(width):
        if top[col] is not None:
            carried = top[col]
        group.append(top[col] if top[col] is not None or col in vertical else carried)
    sub: list[Any] = [None] * width
    last = number
    following = head[index + 1] if index + 1 < len(head) else None
    if following is not None and following[0] == number + 1:
        candidate = list(following[1]) + [None] * (width - len(following[1]))
        filled = [col for col, v in enumerate(candidate) if v is not None]
        if filled and all(
            col not in vertical
            and (
                match(text(candidate[col])) is not None
                or match(f"{text(group[col])}/{text(candidate[col])}") is not None
            )
            for col in filled
        ):
            sub, last = candidate, number + 1
    for col in range(width):
        if top[col] is None and sub[col] is not None:
            top[col] = group[col]
    headings: dict[int, str] = {}
    for col, (upper, lower) in enumerate(zip(top, sub, strict=True)):
        if upper is None and lower is None:
            continue
        if upper is not None and lower is not None and upper != lower:
            headings[col] = f"{text(upper)}/{text(lower)}"
        else:
            headings[col] = text(lower if lower is not None else upper)
    return Header(number, last, headings)
