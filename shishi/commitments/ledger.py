"""The commitments ledger (台账) in Excel and CSV: import the list as officials keep it, export it.

The sheet officials keep has a title row, perhaps a stamp line, then one or two header rows with
merged cells (``目标任务`` over ``指标名称 | 单位 | 目标值``), then one row per commitment, with
further targets of a commitment on rows below it whose number cell is empty. The importer finds
the header among the first ten rows, combines a second header row with the merged heading above
it (``目标任务/指标名称``), and matches headings in Chinese or English.

Import runs in two phases. First every row is read, parsed (``lib.parse``) and checked by
``services.clean_commitment``, and only the cleaned values are kept, so memory grows with the
commitments, not with the cells of the file. Any problem is reported by row and column in the
active language. Only when there is none does the second phase write everything in one
transaction through ``services.add_commitment`` (or ``update_commitment`` for a number already on
the draft list: re-importing an unchanged file changes nothing). A dry run does the same and rolls
back, so it finds what a real run would.

Export writes the same columns with one header row and canonical values (ISO dates, amounts in
yuan, the category's Chinese name, units by name), one row per target, so an export imports back
unchanged.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.xml.functions import iterparse

from shishi.audit.services import record
from shishi.lib import xlsx
from shishi.lib.parse import ParseError, parse_amount, parse_date
from shishi.orgs.ledger import NOT_XLSX_MESSAGES, Column, Counts, RowError, fold
from shishi.orgs.models import Org, OrgKind

from . import services
from .models import REMOVED, Category, Commitment, Programme

HEADER_SCAN = 10  # the header is looked for in this many rows from the top
CHUNK = 500  # numbers per IN (...) query
EXPORT_CHUNK = 2000  # commitments fetched (with their targets) at a time while exporting

COLUMNS: tuple[Column, ...] = (
    Column("number", gettext_lazy("Number"), ("序号", "编号", "项目编号", "no", "no.")),
    Column("title", gettext_lazy("Title"), ("项目名称", "实事名称", "名称", "实事项目", "project")),
    Column(
        "description",
        gettext_lazy("Description"),
        ("项目内容", "建设内容", "主要内容", "实施内容", "内容"),
        False,
    ),
    Column("category", gettext_lazy("Category"), ("类别", "项目类别", "分类", "类型")),
    Column(
        "lead_official",
        gettext_lazy("Lead official"),
        ("牵头领导", "牵头县领导", "责任领导", "责任县领导", "分管领导"),
        False,
    ),
    Column(
        "responsible_unit",
        gettext_lazy("Responsible unit"),
        ("责任单位", "牵头单位", "主责单位", "牵头责任单位"),
    ),
    Column(
        "co_units",
        gettext_lazy("Co-operating units"),
        ("配合单位", "协办单位", "协作单位", "co-units"),
        False,
    ),
    Column(
        "budget_planned",
        gettext_lazy("Budget planned (yuan)"),
        ("计划投资", "计划投资额", "总投资", "投资", "预算"),
        False,
    ),
    Column(
        "budget_spent",
        gettext_lazy("Budget spent (yuan)"),
        ("已完成投资", "完成投资", "已投资", "累计完成投资"),
        False,
    ),
    Column(
        "start_date",
        gettext_lazy("Start date"),
        ("开始时间", "开工时间", "启动时间", "开始日期"),
        False,
    ),
    Column("deadline", gettext_lazy("Deadline"), ("完成时限", "完成时间", "截止时间", "时限")),
    Column(
        "target_name",
        gettext_lazy("Target name"),
        ("指标名称", "指标", "目标名称", "target"),
        False,
    ),
    Column("target_unit", gettext_lazy("Unit of measure"), ("单位", "计量单位", "指标单位"), False),
    Column("baseline", gettext_lazy("Baseline"), ("基数", "基线", "基期值"), False),
    Column("target_value", gettext_lazy("Target value"), ("目标值", "目标数"), False),
    Column("actual_value", gettext_lazy("Actual value"), ("完成值", "实际值", "已完成"), False),
    Column(
        "milestones",
        gettext_lazy("Milestones"),
        ("里程碑", "时间节点", "节点", "进度安排", "milestone"),
        False,
    ),
)
BY_KEY = {c.key: c for c in COLUMNS}
TARGET_KEYS = {"target_name", "target_unit", "baseline", "target_value", "actual_value"}
# What a row below a commitment may hold without a number: a further target, milestones.
CONTINUATION_KEYS = TARGET_KEYS | {"milestones"}
TARGET_FIELDS = {
    "name": "target_name",
    "unit": "target_unit",
    "baseline": "baseline",
    "target_value": "target_value",
    "actual_value": "actual_value",
}
TOTAL_WORDS = {"合计", "总计", "小计", "total"}
SEPARATORS = re.compile(r"[、，,;；\n]+")
MILESTONE_SEPARATORS = re.compile(r"[；;\n]+")
PARENTHESES = re.compile(r"[(（][^)）]*[)）]")
NOT_FILE_MESSAGES = {
    **NOT_XLSX_MESSAGES,
    "not_zip": gettext_lazy("This is neither an Excel (.xlsx) file nor a CSV file."),
}


def _squash(text: str) -> str:
    """Headings compare without spaces: ``序  号`` is ``序号``."""
    return fold(text).replace(" ", "")


@functools.cache
def _heading_map() -> dict[str, str]:
    """Folded heading → column key, for every language and alias; built once per process."""
    mapping: dict[str, str] = {}
    for column in COLUMNS:
        for name in column.names():
            mapping.setdefault(_squash(PARENTHESES.sub("", name)), column.key)
    return mapping


def match_heading(text: str) -> str | None:
    """The column a heading names: the whole heading first (``目标任务/指标名称``), then its last
    part, each with and without a unit in parentheses (``计划投资（万元）``)."""
    mapping = _heading_map()
    candidates = [text]
    if "/" in text:
        candidates.append(text.rsplit("/", 1)[1])
    for candidate in candidates:
        for form in (candidate, PARENTHESES.sub("", candidate)):
            key = mapping.get(_squash(form))
            if key is not None:
                return key
    return None


def _amount_unit(heading: str) -> str:
    """Bare numbers in a column headed ``计划投资（万元）`` are in 万元."""
    if "亿元" in heading:
        return "亿元"
    if "万元" in heading or "万" in heading:
        return "万元"
    return "元"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value)


def _key(value: Any) -> str:
    return unicodedata.normalize("NFKC", _text(value)).strip()


def _plain_number(value: Any) -> Any:
    """Ledger numbers as typed: ``１``, ``1.0`` and ``1`` are all one."""
    text = _key(value)
    if re.fullmatch(r"\d+\.0*", text):
        return text.split(".")[0]
    return text


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- reading the sheet: its rows, merged header cells and formulas without values -------------


@dataclass
class SheetInfo:
    """What read-only mode does not tell: merged ranges and formulas Excel never computed."""

    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows, cols (0-based)
    uncached: set[tuple[int, int]] = field(default_factory=set)  # (row, 0-based column)


def scan_sheet(sheet: Any) -> SheetInfo:
    """One streaming pass over a read-only sheet's XML for merged ranges and uncached formulas.

    openpyxl's read-only mode skips ``<mergeCells>``, and with ``data_only`` a formula without a
    cached value reads as an empty cell. Loading the workbook fully would keep every cell in
    memory; this pass keeps only the finished row's elements, clearing each as it ends.
    """
    info = SheetInfo()
    get_source = getattr(sheet, "_get_source", None)
    if get_source is None:  # a fully loaded sheet (not read-only) knows its merges
        for rng in sheet.merged_cells.ranges:
            info.merges.append((rng.min_row, rng.max_row, rng.min_col - 1, rng.max_col - 1))
        return info
    parent = None
    with get_source() as src:
        for event, element in iterparse(src, events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "sheetData":
                    parent = element
                continue
            if tag == "c":
                children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
                value = children.get("v")
                ref = element.get("r")
                if ref and "f" in children and (value is None or value.text in (None, "")):
                    letters, row = coordinate_from_string(ref)
                    info.uncached.add((row, column_index_from_string(letters) - 1))
            elif tag == "row" and parent is not None:
                parent.clear()
            elif tag == "mergeCell":
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                info.merges.append((min_row, max_row, min_col - 1, max_col - 1))
    return info


def _csv_rows(fh: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """Rows of a CSV file in UTF-8 (with or without BOM) or, failing that, GB18030.

    The encoding is decided by a first streaming pass, so a large file is never held whole.
    """
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig"
    try:
        while chunk := fh.read(64 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "gb18030"
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
    try:
        for number, row in enumerate(csv.reader(text), start=1):
            values = [xlsx.normalise(v) for v in row]
            while values and values[-1] is None:
                values.pop()
            yield number, values
    finally:
        text.detach()  # the caller owns (and closes) the file


# --- results -----------------------------------------------------------------------------------


@dataclass
class LedgerResult:
    """What an import did (or, for a dry run, would do). With errors, nothing was written."""

    dry_run: bool
    sheet: str = ""
    counts: Counts = field(default_factory=Counts)
    errors: list[RowError] = field(default_factory=list)
    # Headings no column matched, with their letters: read past, never imported.
    ignored: list[str] = field(default_factory=list)
    programme: Programme | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class WriteFailed(Exception):
    """A service refused a row during the write phase; raised to roll the transaction back."""


@dataclass
class Item:
    """One commitment of the file: where it is, its cleaned fields, and, for a number already on
    the draft list, the commitment to update."""

    row: int
    data: dict[str, Any]
    target_rows: list[int]
    # The start date came from the programme's year, not the sheet: an update leaves it alone.
    default_start: bool = False
    existing: Commitment | None = None
    changed: bool = True


@dataclass
class Pending:
    """A commitment being read: its row, the values so far and rows of its further targets."""

    row: int
    data: dict[str, Any]
    targets: list[dict[str, Any]] = field(default_factory=list)
    target_rows: list[int] = field(default_factory=list)
    failed: set[tuple[int, str]] = field(default_factory=set)  # (row, column) reported already
    default_start: bool = False


# --- importing ---------------------------------------------------------------------------------


class CommitmentImporter:
    """Reads one ledger into cleaned commitments, reports problems, then writes them.

    ``programme`` is a draft programme; or, for the command's ``--county``, None with ``county``,
    ``year`` and ``title`` of a draft programme to create inside the write transaction.
    """

    def __init__(
        self,
        actor,
        *,
        programme: Programme | None = None,
        county: Org | None = None,
        year: int | None = None,
        title: str = "",
        max_rows: int | None = None,
    ):
        self.actor = actor
        self.programme = programme
        self.county = programme.county if programme is not None else county
        self.year = programme.year if programme is not None else year
        self.title = title
        self.max_rows = max_rows
        self.result = LedgerResult(dry_run=False)
        self.items: list[Item] = []
        self.positions: dict[int, str] = {}
        self.letters: dict[str, str] = {}
        self.units: dict[str, str] = {}  # amount column → the unit bare numbers count in
        self.seen: dict[int, int] = {}  # number → row
        self._load_lookups()

    # lookups, loaded once: every row is then checked without a query

    def _load_lookups(self) -> None:
        if self.programme is None:
            # The categories a new programme starts with (create_programme ensures the same).
            services.ensure_categories()
        self.categories: dict[str, Category] = {}
        for category in Category.objects.all():
            for text in (category.code, category.name, category.name_en):
                self.categories.setdefault(_squash(text), category)
        self.org_by_code: dict[str, Org] = {}
        self.org_by_name: dict[str, list[Org]] = {}
        if self.county is None:
            return
        orgs = (
            Org.objects.filter(county=self.county, is_active=True)
            .exclude(kind=OrgKind.COUNTY)
            .only("id", "code", "name", "short_name", "county_id", "kind", "path")
        )
        for org in orgs:
            self.org_by_code[org.code] = org
            for name in {org.name, org.short_name} - {""}:
                self.org_by_name.setdefault(_squash(name), []).append(org)

    # errors

    def error(self, row: int | None, key: str | None, message: str) -> None:
        column = BY_KEY.get(key) if key else None
        self.result.errors.append(
            RowError(
                sheet=self.result.sheet,
                row=row,
                column=str(column.label) if column else "",
                letter=self.letters.get(key, "") if key else "",
                message=str(message),
            )
        )

    def _service_errors(
        self, item_row: int | None, target_rows: list[int], exc: Exception, skip: Iterable = ()
    ) -> None:
        """A service's refusal as errors by row and column (targets on their own rows)."""
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                row, key = item_row, name
                parts = name.split(".")
                if parts[0] == "targets" and len(parts) == 3:
                    index = int(parts[1]) - 1
                    row = target_rows[index] if index < len(target_rows) else item_row
                    key = TARGET_FIELDS.get(parts[2], "")
                elif parts[0] == "milestones":
                    key = "milestones"
                if (row, key) in skip:
                    continue
                message = " ".join(m for e in errors for m in e.messages)
                if parts[0] == "milestones" and len(parts) == 3:
                    message = _("Milestone %(n)s: %(message)s") % {
                        "n": parts[1],
                        "message": message,
                    }
                self.error(row, key if key in BY_KEY else None, message)
        elif isinstance(exc, ValidationError):
            for message in exc.messages:
                self.error(item_row, None, message)
        else:
            self.error(item_row, None, str(exc) or _("You may not do this."))

    # the sheet's layout

    def find_header(self, rows: list[tuple[int, list]], info: SheetInfo) -> int | None:
        """Map the header's columns; the number of the last header row, or None."""
        index = next(
            (i for i, (_number, values) in enumerate(rows) if self._looks_like_header(values)),
            None,
        )
        if index is None:
            self.error(
                None,
                None,
                _(
                    "No header row found in the first %(n)d rows. The sheet needs headings such "
                    "as: %(headings)s."
                )
                % {
                    "n": HEADER_SCAN,
                    "headings": ", ".join(str(c.label) for c in COLUMNS if c.required),
                },
            )
            return None
        number, top = rows[index]
        top = list(top)
        width = max(len(top), max((len(v) for _n, v in rows), default=0))
        top += [None] * (width - len(top))
        # A heading merged across columns (目标任务 over three) stands above each of them.
        vertical: set[int] = set()
        for min_row, max_row, min_col, max_col in info.merges:
            if min_row == number and max_col < width:
                for col in range(min_col + 1, max_col + 1):
                    top[col] = top[min_col]
                if max_row > number:
                    vertical.update(range(min_col, max_col + 1))
        sub: list = [None] * width
        following = rows[index + 1] if index + 1 < len(rows) else None
        last = number
        if following is not None and following[0] == number + 1:
            candidate = list(following[1]) + [None] * (width - len(following[1]))
            if self._is_subheader(top, candidate, vertical):
                sub = candidate
                last = number + 1
        carried = None
        for col in range(width):
            if top[col] is not None:
                carried = top[col]
            elif sub[col] is not None and col not in vertical:
                # No merge information (CSV, or merges lost): the heading to the left is the group.
                top[col] = carried
        self._map_columns(number, top, sub, last)
        return last

    def _looks_like_header(self, values: list) -> bool:
        keys = {match_heading(_text(v)) for v in values if v is not None}
        return "title" in keys and len(keys - {None}) >= 2

    def _is_subheader(self, top: list, candidate: list, vertical: set[int]) -> bool:
        filled = [col for col, v in enumerate(candidate) if v is not None]
        if not filled:
            return False
        for col in filled:
            if col in vertical:
                return False
            text = _text(candidate[col])
            if match_heading(text) is None and match_heading(f"{_text(top[col])}/{text}") is None:
                return False
        return True

    def _map_columns(self, number: int, top: list, sub: list, last: int) -> None:
        present: set[str] = set()
        for col, (upper, lower) in enumerate(zip(top, sub, strict=True)):
            if upper is None and lower is None:
                continue
            if upper is not None and lower is not None and upper != lower:
                heading = f"{_text(upper)}/{_text(lower)}"
            else:
                heading = _text(lower if lower is not None else upper)
            letter = xlsx.column_letter(col)
            key = match_heading(heading)
            if key is None:
                self.result.ignored.append(f"{letter} ({heading})")
                continue
            if key in present:
                self.error(
                    last,
                    None,
                    _("The column %(column)s appears twice (%(letters)s).")
                    % {"column": BY_KEY[key].label, "letters": f"{self.letters[key]}, {letter}"},
                )
                continue
            present.add(key)
            self.positions[col] = key
            self.letters[key] = letter
            if key in ("budget_planned", "budget_spent"):
                self.units[key] = _amount_unit(heading)
        for column in COLUMNS:
            if column.required and column.key not in present:
                self.error(
                    number,
                    None,
                    _("The column %(column)s is missing.") % {"column": column.label},
                )

    # rows

    def read(self, rows: Iterator[tuple[int, list]], info: SheetInfo) -> None:
        head: list[tuple[int, list]] = []
        for number, values in rows:
            if any(v is not None for v in values):
                head.append((number, values))
            if number >= HEADER_SCAN:
                break
        if not head:
            self.error(None, None, _("The file is empty."))
            return
        last = self.find_header(head, info)
        if last is None or self.result.errors:
            return
        self.present = set(self.positions.values())
        pending: Pending | None = None
        count = 0

        def data_rows():
            yield from ((n, v) for n, v in head if n > last)
            yield from rows

        for number, values in data_rows():
            cells = {
                key: values[col] if col < len(values) else None
                for col, key in self.positions.items()
            }
            bad = {key for col, key in self.positions.items() if (number, col) in info.uncached}
            for key in sorted(bad, key=list(BY_KEY).index):
                self.error(
                    number,
                    key,
                    _(
                        "The cell holds a formula without a value; open the file in Excel or WPS, "
                        "save it, and upload it again."
                    ),
                )
            filled = {key for key, value in cells.items() if value is not None} | bad
            if not filled:
                continue
            if cells.get("number") is None:
                if filled <= CONTINUATION_KEYS and pending is not None:
                    self._continue(pending, number, cells, bad)
                elif filled <= CONTINUATION_KEYS:
                    self.error(number, None, _("This row of targets has no commitment above it."))
                else:
                    self.error(number, "number", _("The number is required."))
                continue
            if _squash(_text(cells["number"])) in TOTAL_WORDS:
                continue  # a totals row: sums of the rows above, nothing to import
            if pending is not None:
                self._finish(pending)
            count += 1
            if self.max_rows is not None and count > self.max_rows:
                self.error(
                    number,
                    None,
                    _("The file has more than %(n)d commitments; split it into several files.")
                    % {"n": self.max_rows},
                )
                return
            pending = self._start(number, cells, bad)
        if pending is not None:
            self._finish(pending)
        elif not self.result.errors:
            self.error(None, None, _("The file has no commitments below its header."))

    def _parse(self, pending: Pending, row: int, key: str, value: Any, parse) -> Any:
        try:
            return parse(value)
        except ParseError as exc:
            pending.failed.add((row, key))
            self.error(row, key, self._parse_message(key, value, exc))
            return None

    def _parse_message(self, key: str, value: Any, exc: ParseError) -> str:
        shown = _text(value)
        if exc.code == "negative":
            return _("%(value)s is negative; amounts and targets cannot be.") % {"value": shown}
        if exc.code == "not_number":
            return _("%(value)s is not a number. Write it as 68690000, 68,690,000 or 6869万元.") % {
                "value": shown
            }
        if exc.code == "no_such_day":
            return _("%(value)s is not a day of the calendar.") % {"value": shown}
        return _(
            "%(value)s is not a date. Write it as 2021-10-31, 2021年10月31日, 2021年10月 or 10月底."
        ) % {"value": shown}

    def _date(self, value: Any) -> Any:
        return parse_date(value, default_year=self.year)

    def _target(self, pending: Pending, row: int, cells: dict) -> dict | None:
        if all(cells.get(k) is None for k in TARGET_KEYS):
            return None
        target: dict[str, Any] = {
            "name": _text(cells.get("target_name")),
            "unit": _text(cells.get("target_unit")),
        }
        for field_name in ("baseline", "target_value", "actual_value"):
            value = cells.get(field_name)
            target[field_name] = (
                None
                if value is None
                else self._parse(pending, row, field_name, value, parse_amount)
            )
        return target

    def _milestones(self, pending: Pending, row: int, value: Any) -> list[dict]:
        out = []
        for part in MILESTONE_SEPARATORS.split(_text(value)):
            part = part.strip()
            if not part:
                continue
            words = part.split(None, 1)
            try:
                if len(words) == 2:
                    try:
                        out.append({"planned_date": self._date(words[0]), "title": words[1]})
                        continue
                    except ParseError:
                        head, _sep, tail = part.rpartition(" ")
                        out.append({"planned_date": self._date(tail), "title": head.strip()})
                        continue
                raise ParseError("format", part)
            except ParseError:
                pending.failed.add((row, "milestones"))
                self.error(
                    row,
                    "milestones",
                    _(
                        "%(value)s is not a milestone. Write a date and a title for each, "
                        "separated by semicolons: 2021-05-31 开工；2021-09-30 主体完工."
                    )
                    % {"value": part},
                )
        return out

    def _unit(self, pending: Pending, row: int, key: str, text: str) -> Org | None:
        org = self.org_by_code.get(_key(text))
        if org is not None:
            return org
        found = self.org_by_name.get(_squash(text), [])
        if len(found) == 1:
            return found[0]
        pending.failed.add((row, key))
        if found:
            self.error(
                row,
                key,
                _("Several units of %(county)s are named %(value)s; write its code instead.")
                % {"county": self.county.name, "value": text},
            )
        else:
            self.error(
                row,
                key,
                _("%(value)s is not a unit of %(county)s.")
                % {"value": text, "county": self.county.name},
            )
        return None

    def _start(self, row: int, cells: dict, bad: set[str]) -> Pending:
        pending = Pending(row=row, data={}, failed={(row, key) for key in bad})
        data = pending.data
        number = _plain_number(cells["number"])
        data["number"] = number
        if number.isdigit():
            if int(number) in self.seen:
                pending.failed.add((row, "number"))
                self.error(
                    row,
                    "number",
                    _("Number %(n)s is already on row %(row)d.")
                    % {"n": number, "row": self.seen[int(number)]},
                )
            self.seen.setdefault(int(number), row)
        for key in ("title", "description", "lead_official"):
            if key in self.present:
                data[key] = _text(cells.get(key))
        category = cells.get("category")
        if category is not None:
            found = self.categories.get(_squash(_text(category)))
            if found is None:
                pending.failed.add((row, "category"))
                self.error(
                    row,
                    "category",
                    _("Unknown category: %(value)s. The categories are: %(all)s.")
                    % {
                        "value": _text(category),
                        "all": "、".join(sorted({c.name for c in self.categories.values()})),
                    },
                )
            data["category"] = found
        if cells.get("responsible_unit") is not None:
            data["responsible_unit"] = self._unit(
                pending, row, "responsible_unit", _text(cells["responsible_unit"])
            )
        if "co_units" in self.present:
            names = [n.strip() for n in SEPARATORS.split(_text(cells.get("co_units")))]
            units = [self._unit(pending, row, "co_units", n) for n in names if n]
            data["co_units"] = [u for u in units if u is not None]
        for key in ("budget_planned", "budget_spent"):
            if key in self.present:
                value = cells.get(key)
                unit = self.units.get(key, "元")
                data[key] = (
                    None
                    if value is None
                    else self._parse(pending, row, key, value, lambda v, u=unit: parse_amount(v, u))
                )
        start = cells.get("start_date")
        if start is None:
            # Sheets often give only the deadline: the work starts with the programme's year.
            pending.default_start = True
            data["start_date"] = f"{self.year}-01-01"
        else:
            data["start_date"] = self._parse(pending, row, "start_date", start, self._date)
        if cells.get("deadline") is not None:
            data["deadline"] = self._parse(pending, row, "deadline", cells["deadline"], self._date)
        if "milestones" in self.present:
            data["milestones"] = (
                self._milestones(pending, row, cells["milestones"])
                if cells.get("milestones") is not None
                else []
            )
        self._add_target(pending, row, cells)
        return pending

    def _add_target(self, pending: Pending, row: int, cells: dict) -> None:
        target = self._target(pending, row, cells)
        if target is not None:
            pending.targets.append(target)
            pending.target_rows.append(row)

    def _continue(self, pending: Pending, row: int, cells: dict, bad: set[str]) -> None:
        pending.failed |= {(row, key) for key in bad}
        self._add_target(pending, row, cells)
        if cells.get("milestones") is not None:
            pending.data.setdefault("milestones", []).extend(
                self._milestones(pending, row, cells["milestones"])
            )

    def _finish(self, pending: Pending) -> None:
        """Check the commitment as a whole with the service's validator; keep only the result."""
        data = pending.data
        if TARGET_KEYS & self.present:
            data["targets"] = pending.targets
        try:
            cleaned = services.clean_commitment(data, self.county)
        except ValidationError as exc:
            self._service_errors(pending.row, pending.target_rows, exc, skip=pending.failed)
            return
        if pending.failed:
            return  # reported already; clean_commitment took the failed cells as empty
        self.items.append(Item(pending.row, cleaned, pending.target_rows, pending.default_start))

    # comparing with the draft list

    def compare(self) -> None:
        """Match numbers already on the draft list: unchanged rows are left alone, changed rows
        update the commitment in place."""
        if self.programme is None:
            self.result.counts.created = len(self.items)
            return
        by_number = {item.data["number"]: item for item in self.items}
        for batch in _chunks(sorted(by_number)):
            qs = services.with_details(
                Commitment.objects.filter(programme=self.programme, number__in=batch)
            )
            for commitment in qs:
                item = by_number[commitment.number]
                item.existing = commitment
                if item.default_start:
                    item.data.pop("start_date")
                item.changed = _comparable(item.data) != _comparable(
                    services.public_fields(commitment), keys=item.data
                )
        counts = self.result.counts
        for item in self.items:
            if item.existing is None:
                counts.created += 1
            elif item.changed:
                counts.changed += 1
            else:
                counts.unchanged += 1

    # writing

    def write(self, source_name: str) -> Programme:
        programme = self.programme
        if programme is None:
            try:
                programme = services.create_programme(
                    self.actor, county=self.county, year=self.year, title=self.title
                )
            except (ValidationError, PermissionDenied) as exc:
                self._service_errors(None, [], exc)
                raise WriteFailed from exc
        new = [item for item in self.items if item.existing is None]
        try:
            # One bulk write for the new rows: thousands of rows in seconds.
            services.add_commitments(self.actor, programme, [dict(item.data) for item in new])
        except (ValidationError, PermissionDenied) as exc:
            # Validation ran on every row already; find the row the service refused.
            for item in new:
                try:
                    services.clean_commitment(dict(item.data), programme.county)
                except ValidationError as row_exc:
                    self._service_errors(item.row, item.target_rows, row_exc)
                    raise WriteFailed from exc
            self._service_errors(new[0].row if new else None, [], exc)
            raise WriteFailed from exc
        for item in self.items:
            try:
                if item.existing is None:
                    continue
                elif item.changed:
                    data = {k: v for k, v in item.data.items() if k != "number"}
                    _keep_done_dates(item.existing, data)
                    services.update_commitment(
                        self.actor, item.existing, data, version=item.existing.version
                    )
            except (ValidationError, PermissionDenied) as exc:
                self._service_errors(item.row, item.target_rows, exc)
                raise WriteFailed from exc
        counts = self.result.counts
        record(
            self.actor,
            "commitments.ledger.imported",
            programme,
            data={
                "file": source_name[:200],
                "created": counts.created,
                "changed": counts.changed,
                "unchanged": counts.unchanged,
            },
            county_id=programme.county_id,
            public=False,  # into a draft list
        )
        return programme


def _comparable(data: dict, keys: Iterable[str] | None = None) -> dict:
    """Cleaned import values and ``public_fields`` in one shape, limited to the sheet's fields."""

    def plain(name: str, value: Any) -> Any:
        if isinstance(value, Category):
            return value.code
        if isinstance(value, Org):
            return value.name
        if name == "co_units":
            return sorted(v.name if isinstance(v, Org) else v for v in value)
        if name == "targets":
            return [
                {k: str(v) if v is not None else None for k, v in t.items() if k in TARGET_FIELDS}
                for t in value
            ]
        if name == "milestones":
            return [(str(m["planned_date"]), m["title"]) for m in value]
        return None if value is None else str(value)

    wanted = set(keys if keys is not None else data)
    return {k: plain(k, v) for k, v in data.items() if k in wanted}


def _keep_done_dates(commitment: Commitment, data: dict) -> None:
    """The ledger carries planned dates only: a milestone already done keeps its done date."""
    done = {(m.title, m.planned_date): m.done_date for m in commitment.milestones.all()}
    for milestone in data.get("milestones", []):
        milestone["done_date"] = done.get((milestone["title"], milestone["planned_date"]))


def _open(source: Any) -> tuple[IO[bytes], bool]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source), True
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        return open(source, "rb"), True  # noqa: SIM115 - closed by import_ledger
    return source, False


def import_ledger(
    actor,
    source: Any,
    *,
    programme: Programme | None = None,
    county: Org | None = None,
    year: int | None = None,
    title: str = "",
    name: str = "",
    dry_run: bool = False,
    max_rows: int | None = None,
) -> LedgerResult:
    """Check every row of an .xlsx or .csv ledger, then (if all are right) write it at once.

    ``source`` is a path, the file's bytes or a binary file object (an upload). ``name`` is the
    file's name (uploads and paths carry their own); a file is read as CSV when its name ends in
    ``.csv`` and it is not a zip. Into ``programme`` (a draft), or into a new draft programme of
    ``county``, ``year`` and ``title`` created in the same transaction. Errors come in the active
    language; with any error nothing is written.
    """
    if programme is not None:
        programme = Programme.objects.select_related("county").get(pk=programme.pk)
    result_programme = programme
    name = name or str(getattr(source, "name", "") or (source if isinstance(source, str) else ""))
    importer = CommitmentImporter(
        actor, programme=programme, county=county, year=year, title=title, max_rows=max_rows
    )
    result = importer.result
    result.dry_run = dry_run
    if programme is not None and programme.status != Programme.Status.DRAFT:
        importer.error(
            None,
            None,
            _(
                "The list is published: it changes only by adjustments, not by an import. "
                "Propose an adjustment for each change."
            ),
        )
        return result
    if programme is None and Programme.objects.filter(county=county, year=year).exists():
        importer.error(
            None,
            None,
            _("%(county)s already has a programme for %(year)s.")
            % {"county": county.name, "year": year},
        )
        return result
    fh, opened_here = _open(source)
    try:
        fh.seek(0)
        head = fh.read(8)
        fh.seek(0)
        is_zip = head.startswith(xlsx.ZIP_MAGIC)
        if (
            not is_zip
            and head
            and not head.startswith(xlsx.OLE_MAGIC)
            and (str(name).lower().endswith(".csv"))
        ):
            result.sheet = "CSV"
            importer.read(_csv_rows(fh), SheetInfo())
        else:
            try:
                with xlsx.open_workbook(fh) as workbook:
                    _read_workbook(importer, workbook)
            except xlsx.NotXlsxError as exc:
                importer.error(None, None, str(NOT_FILE_MESSAGES[exc.reason]))
    finally:
        if opened_here:
            fh.close()
    if result.errors:
        # Read in one pass, a commitment is checked as a whole when its last target row is read:
        # sorted, the list reads like the sheet.
        result.errors.sort(key=lambda e: (e.row or 0, len(e.letter), e.letter))
        return result
    importer.compare()
    try:
        with transaction.atomic():
            result_programme = importer.write(str(name))
            if dry_run:
                transaction.set_rollback(True)
    except WriteFailed:
        result.counts = Counts()
        return result
    result.programme = None if dry_run and programme is None else result_programme
    return result


def _read_workbook(importer: CommitmentImporter, workbook: Any) -> None:
    """Read the first sheet with a recognisable header (officials' files often carry notes or
    pivot sheets before or after the list)."""
    for title in workbook.sheetnames:
        sheet = workbook[title]
        rows = xlsx.iter_rows(sheet)
        head = []
        for number, values in rows:
            head.append((number, values))
            if number >= HEADER_SCAN:
                break
        if any(importer._looks_like_header(values) for _n, values in head):
            importer.result.sheet = title
            importer.read(_chain(head, rows), scan_sheet(sheet))
            return
    importer.result.sheet = workbook.sheetnames[0] if workbook.sheetnames else ""
    first = workbook[workbook.sheetnames[0]] if workbook.sheetnames else None
    if first is None:
        importer.error(None, None, _("The file is empty."))
        return
    importer.read(xlsx.iter_rows(first), SheetInfo())


def _chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


# --- exporting ---------------------------------------------------------------------------------


class CommitmentExporter:
    """The list of one programme in the importer's columns: one header row, one row per target
    (a commitment's further targets on rows below it, number empty), canonical values."""

    def __init__(self, programme: Programme):
        self.programme = programme
        self.count = 0

    def header(self) -> list[str]:
        return [str(c.label) for c in COLUMNS]

    def queryset(self):
        """The commitments on the list (not cancelled or merged away), in number order."""
        return services.with_details(
            self.programme.commitments.exclude(status__in=REMOVED).order_by("number")
        )

    def _unit_names(self) -> Any:
        """A unit by its name, or by its code where the county has two units of that name."""
        ambiguous = set(
            Org.objects.filter(county_id=self.programme.county_id)
            .values("name")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("name", flat=True)
        )
        return lambda org: org.code if org.name in ambiguous else org.name

    def rows(self) -> Iterator[list[Any]]:
        unit = self._unit_names()
        for c in self.queryset().iterator(chunk_size=EXPORT_CHUNK):
            self.count += 1
            targets = list(c.targets.all()) or [None]
            milestones = "；".join(
                f"{m.planned_date.isoformat()} {m.title}" for m in c.milestones.all()
            )
            first = [
                c.number,
                c.title,
                c.description,
                c.category.name,
                c.lead_official,
                unit(c.responsible_unit),
                "、".join(sorted(unit(u) for u in c.co_units.all())),
                c.budget_planned,
                c.budget_spent,
                c.start_date.isoformat(),
                c.deadline.isoformat(),
            ]
            for i, t in enumerate(targets):
                row = first if i == 0 else [None] * len(first)
                values = (
                    [t.name, t.unit, t.baseline, t.target_value, t.actual_value]
                    if t is not None
                    else [None] * 5
                )
                yield row + values + [milestones if i == 0 else None]

    def write_xlsx(self, target: IO[bytes] | str) -> None:
        xlsx.write_workbook(target, [(self.sheet_title(), self.header(), self.rows())])

    def iter_csv(self) -> Iterator[bytes]:
        """The CSV, a few rows at a time (``xlsx.iter_csv``)."""
        return xlsx.iter_csv(self.header(), self.rows())

    def sheet_title(self) -> str:
        return str(self.programme.year)


def export_ledger(actor, programme: Programme, fmt: str) -> CommitmentExporter:
    """The exporter of ``programme``'s list, the export written to the audit log first (the rows
    are streamed afterwards: ``write_xlsx`` or ``iter_csv``)."""
    exporter = CommitmentExporter(programme)
    record(
        actor,
        "commitments.ledger.exported",
        programme,
        data={"format": fmt},
        county_id=programme.county_id,
        public=False,
    )
    return exporter
