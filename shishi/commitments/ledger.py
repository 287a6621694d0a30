"""The commitments ledger (台账) in Excel and CSV: import the list as officials keep it, export it.

One sheet of the shared ledger framework (``shishi.ledger``), which finds the header below the
title and stamp rows (``目标任务`` merged over ``指标名称 | 单位 | 目标值`` reads as
``目标任务/指标名称``), reads .xlsx and CSV in UTF-8 or GB18030, reports problems by row and column
in the reader's language and writes all or nothing. What is particular to the list is here: a
commitment's further targets and milestones on rows below it whose number cell is empty, dates
and amounts as officials write them (``lib.parse``), units by code or name, categories in either
language, and each commitment checked as a whole by ``services.clean_commitment``, so that only
cleaned values are kept, in a temporary file until the write (``lib.spill``): memory does not
grow with the file.

The write phase adds new commitments in bulk (``services.add_commitments``) and updates those
whose number is already on the draft list (re-importing an unchanged file changes nothing).

Export writes the same columns with one header row and canonical values (ISO dates, amounts in
yuan, the category's Chinese name, units by name), one row per target, so an export imports back
unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shishi.audit.services import record
from shishi.ledger.columns import Column
from shishi.ledger.exporter import Exporter
from shishi.ledger.importer import Import, Sheet, WriteFailed
from shishi.ledger.results import Result
from shishi.lib import sheets
from shishi.lib.parse import ParseError, parse_amount, parse_date, whole_number
from shishi.lib.sheets import Header, squash, text
from shishi.lib.spill import Spill
from shishi.orgs.ledger import OrgNames
from shishi.orgs.models import Org

from . import services
from .models import REMOVED, Category, Commitment, Programme

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


def _amount_unit(heading: str) -> str:
    """Bare numbers in a column headed ``计划投资（万元）`` are in 万元."""
    if "亿元" in heading:
        return "亿元"
    if "万元" in heading or "万" in heading:
        return "万元"
    return "元"


def _plain_number(value: Any) -> Any:
    """Ledger numbers as typed: ``１``, ``1.0`` and ``1`` are all one."""
    found = sheets.key(value)
    if re.fullmatch(r"\d+\.0*", found):
        return found.split(".")[0]
    return found


@dataclass
class Item:
    """One commitment of the file: where it is and its cleaned fields."""

    row: int
    data: dict[str, Any]
    target_rows: list[int]
    # The start date came from the programme's year, not the sheet: an update leaves it alone.
    default_start: bool = False

    def update(self) -> dict[str, Any]:
        """The fields to update the commitment of this number, already on the draft list."""
        data = {k: v for k, v in self.data.items() if k != "number"}
        if self.default_start:
            data.pop("start_date", None)
        return data


@dataclass(frozen=True)
class Match:
    """A number of the file already on the draft list, as the check phase found it."""

    pk: int
    changed: bool
    version: int


@dataclass
class Pending:
    """A commitment being read: its row, the values so far and rows of its further targets."""

    row: int
    data: dict[str, Any]
    targets: list[dict[str, Any]] = field(default_factory=list)
    target_rows: list[int] = field(default_factory=list)
    failed: set[tuple[int, str]] = field(default_factory=set)  # (row, column) reported already
    default_start: bool = False


class CommitmentSheet(Sheet):
    """The list: one commitment per numbered row, its further targets and milestones below it."""

    key = "commitments"
    label = gettext_lazy("commitments")
    columns = COLUMNS
    too_many = gettext_lazy(
        "The file has more than %(n)d commitments; split it into several files."
    )

    def __init__(self, run: CommitmentLedgerImport, title: str = ""):
        super().__init__(run, title)
        self.programme = run.programme
        self.county = run.county
        self.year = run.year
        # Checked commitments wait for the write in a temporary file: memory stays flat with
        # the rows. The lookups' objects are shared, not copied into every row.
        self.items: Spill[Item] = Spill()
        # Numbers already on the draft list: the commitment's id, whether the file changes it, and
        # the version it was checked against (an edit made meanwhile is a conflict, not lost).
        self.matched: dict[int, Match] = {}
        self.units: dict[str, str] = {}  # amount column → the unit bare numbers count in
        self.seen: dict[int, int] = {}  # number → row
        self.pending: Pending | None = None
        self.count = 0
        self._target_rows: list[int] = []
        self._load_lookups()

    @classmethod
    def looks_like_header(cls, values: list[Any]) -> bool:
        keys = {cls.match(text(v)) for v in values if v is not None}
        return "title" in keys and len(keys - {None}) >= 2

    # lookups, loaded once: every row is then checked without a query

    def _load_lookups(self) -> None:
        self.categories: dict[str, Category] = {}
        for category in Category.objects.all():
            for name in (category.code, category.name, category.name_en):
                self.categories.setdefault(squash(name), category)
        if self.programme is None:
            # A new programme starts with the default categories (create_programme makes those
            # missing, in the write phase); until then they are known but not saved.
            for order, (code, name, name_en) in enumerate(services.DEFAULT_CATEGORIES):
                unsaved = Category(code=code, name=name, name_en=name_en, order=order)
                for word in (code, name, name_en):
                    self.categories.setdefault(squash(word), unsaved)
        self.units_of_county = OrgNames(self.county)
        for obj in [*self.categories.values(), *self.units_of_county.by_code.values()]:
            self.items.share(obj)

    # errors

    def locate(self, name: str, row: int | None) -> tuple[int | None, str | None, Callable]:
        """A target's error on its own row and column; a milestone's with its number."""
        parts = name.split(".")
        if parts[0] == "targets" and len(parts) == 3:
            index = int(parts[1]) - 1
            rows = self._target_rows
            return (rows[index] if index < len(rows) else row), TARGET_FIELDS.get(parts[2]), str
        if parts[0] == "milestones" and len(parts) == 3:
            return (
                row,
                "milestones",
                lambda message: (
                    _("Milestone %(n)s: %(message)s") % {"n": parts[1], "message": message}
                ),
            )
        if parts[0] == "milestones":
            return row, "milestones", str
        return row, name if name in self._headings.by_key else None, str

    def _service_errors(
        self, row: int | None, target_rows: list[int], exc: Exception, skip: Iterable = ()
    ) -> None:
        self._target_rows = target_rows
        self.service_error(row, exc, skip)

    # the header: amounts in a column headed 计划投资（万元） count in 万元

    def _map_columns(self, header: Header) -> bool:
        ok = super()._map_columns(header)
        for col, found in self.positions.items():
            if found in ("budget_planned", "budget_spent"):
                self.units[found] = _amount_unit(header.headings[col])
        return ok

    # rows

    def take(self, number: int, cells: dict[str, Any], bad: set[str]) -> None:
        filled = {k for k, value in cells.items() if value is not None} | bad
        if cells.get("number") is None:
            if filled <= CONTINUATION_KEYS and self.pending is not None:
                self._continue(self.pending, number, cells, bad)
            elif filled <= CONTINUATION_KEYS:
                self.error(number, None, _("This row of targets has no commitment above it."))
            else:
                self.error(number, "number", _("The number is required."))
            return
        if squash(text(cells["number"])) in TOTAL_WORDS:
            return  # a totals row: sums of the rows above, nothing to import
        if self.pending is not None:
            self._finish(self.pending)
            self.pending = None
        self.count += 1
        self.check_count(number, self.count)
        self.pending = self._start(number, cells, bad)

    def end(self) -> None:
        if self.pending is not None:
            self._finish(self.pending)
            self.pending = None
        elif self.count == 0 and not self.run.errors:
            self.error(None, None, _("The file has no commitments below its header."))

    def _parse(self, pending: Pending, row: int, key: str, value: Any, parse) -> Any:
        return self.parsed(row, key, value, parse, pending.failed)

    def _date(self, value: Any) -> Any:
        return parse_date(value, default_year=self.year)

    def _target(self, pending: Pending, row: int, cells: dict) -> dict | None:
        if all(cells.get(k) is None for k in TARGET_KEYS):
            return None
        target: dict[str, Any] = {
            "name": text(cells.get("target_name")),
            "unit": text(cells.get("target_unit")),
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
        for part in MILESTONE_SEPARATORS.split(text(value)):
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

    def _unit(self, pending: Pending, row: int, key: str, name: str) -> Org | None:
        org, problem = self.units_of_county.find(name)
        if problem:
            pending.failed.add((row, key))
            self.error(row, key, problem)
        return org

    def _start(self, row: int, cells: dict, bad: set[str]) -> Pending:
        pending = Pending(row=row, data={}, failed={(row, key) for key in bad})
        data = pending.data
        number = _plain_number(cells["number"])
        data["number"] = number
        n = whole_number(number)
        if n is not None:
            if n in self.seen:
                pending.failed.add((row, "number"))
                self.error(
                    row,
                    "number",
                    _("Number %(n)s is already on row %(row)d.")
                    % {"n": number, "row": self.seen[n]},
                )
            self.seen.setdefault(n, row)
        for name in ("title", "description", "lead_official"):
            if name in self.present:
                data[name] = text(cells.get(name))
        category = cells.get("category")
        if category is not None:
            found = self.categories.get(squash(text(category)))
            if found is None:
                pending.failed.add((row, "category"))
                self.error(
                    row,
                    "category",
                    _("Unknown category: %(value)s. The categories are: %(all)s.")
                    % {
                        "value": text(category),
                        "all": "、".join(sorted({c.name for c in self.categories.values()})),
                    },
                )
            data["category"] = found
        if cells.get("responsible_unit") is not None:
            data["responsible_unit"] = self._unit(
                pending, row, "responsible_unit", text(cells["responsible_unit"])
            )
        if "co_units" in self.present:
            names = [n.strip() for n in SEPARATORS.split(text(cells.get("co_units")))]
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

    def validate(self) -> None:
        """Match numbers already on the draft list: unchanged rows are left alone, changed rows
        update the commitment in place."""
        counts = self.counts
        if self.programme is not None:
            for batch in self.items.batches():
                by_number = {item.data["number"]: item for item in batch}
                qs = services.with_details(
                    Commitment.objects.filter(programme=self.programme, number__in=by_number)
                )
                for commitment in qs:
                    item = by_number[commitment.number]
                    data = item.update()
                    changed = _comparable(data) != _comparable(
                        services.public_fields(commitment), keys=data
                    )
                    self.matched[commitment.number] = Match(
                        commitment.pk, changed, commitment.version
                    )
        counts.created = len(self.items) - len(self.matched)
        counts.changed = sum(m.changed for m in self.matched.values())
        counts.unchanged = len(self.matched) - counts.changed

    def close(self) -> None:
        self.items.close()

    def write(self) -> None:
        programme = self.programme
        saved: dict[str, Category] = {}
        if programme is None:
            try:
                programme = services.create_programme(
                    self.actor, county=self.county, year=self.year, title=self.run.title
                )
            except (ValidationError, PermissionDenied) as exc:
                self._service_errors(None, [], exc)
                raise WriteFailed from exc
            # The default categories exist now: the rows' unsaved ones become the saved ones.
            saved = {c.code: c for c in Category.objects.all()}

        def new() -> Iterator[dict[str, Any]]:
            for item in self.items:
                if item.data["number"] in self.matched:
                    continue
                category = item.data.get("category")
                if category is not None and category.pk is None:
                    item.data["category"] = saved[category.code]
                yield item.data

        try:
            # One bulk write for the new rows, checked already: thousands of rows in seconds.
            services.add_commitments(self.actor, programme, new(), cleaned=True)
        except (ValidationError, PermissionDenied) as exc:
            self._service_errors(None, [], exc)
            raise WriteFailed from exc
        if any(m.changed for m in self.matched.values()):
            self._update(programme)
        self.programme = programme

    def _update(self, programme: Programme) -> None:
        """Update the commitments the file changes, a batch at a time."""
        for batch in self.items.batches():
            matched = (self.matched.get(item.data["number"]) for item in batch)
            ids = {
                m.pk: (item, m) for item, m in zip(batch, matched, strict=True) if m and m.changed
            }
            if not ids:
                continue
            qs = services.with_details(Commitment.objects.filter(programme=programme, pk__in=ids))
            for commitment in qs.order_by("number"):
                item, match = ids[commitment.pk]
                data = item.update()
                _keep_done_dates(commitment, data)
                try:
                    services.update_commitment(self.actor, commitment, data, version=match.version)
                except (ValidationError, PermissionDenied) as exc:
                    self._service_errors(item.row, item.target_rows, exc)
                    raise WriteFailed from exc


class CommitmentLedgerImport(Import):
    """One import of a ledger into a draft programme, or into a new draft programme of
    ``county``, ``year`` and ``title`` created in the same transaction (the command's
    ``--county``)."""

    sheets = (CommitmentSheet,)

    def __init__(
        self,
        actor,
        *,
        programme: Programme | None = None,
        county: Org | None = None,
        year: int | None = None,
        title: str = "",
        dry_run: bool = False,
        max_rows: int | None = None,
    ):
        super().__init__(actor, dry_run=dry_run, max_rows=max_rows)
        if programme is not None:
            programme = Programme.objects.select_related("county").get(pk=programme.pk)
        self.programme = programme
        self.county = programme.county if programme is not None else county
        self.year = programme.year if programme is not None else year
        self.title = title

    def check(self) -> None:
        if self.programme is not None and self.programme.status != Programme.Status.DRAFT:
            self.file_error(
                _(
                    "The list is published: it changes only by adjustments, not by an import. "
                    "Propose an adjustment for each change."
                )
            )
        elif (
            self.programme is None
            and Programme.objects.filter(county=self.county, year=self.year).exists()
        ):
            self.file_error(
                _("%(county)s already has a programme for %(year)s.")
                % {"county": self.county.name, "year": self.year}
            )

    def finish(self) -> Programme | None:
        sheet = self.found[0]
        counts = sheet.counts
        record(
            self.actor,
            "commitments.ledger.imported",
            sheet.programme,
            data={
                "file": self.name[:200],
                "created": counts.created,
                "changed": counts.changed,
                "unchanged": counts.unchanged,
            },
            county_id=sheet.programme.county_id,
            public=False,  # into a draft list
        )
        # A dry run into a new programme made one only to roll it back.
        return None if self.dry_run and self.programme is None else sheet.programme


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
) -> Result:
    """Check every row of an .xlsx or .csv ledger, then (if all are right) write it at once.

    ``source`` is a path, the file's bytes or a binary file object (an upload). ``name`` is the
    file's name (uploads and paths carry their own); a file is read as CSV when its name ends in
    ``.csv`` and it is not a zip. Into ``programme`` (a draft), or into a new draft programme of
    ``county``, ``year`` and ``title`` created in the same transaction. Errors come in the active
    language; with any error nothing is written. ``result.target`` is the programme written to.
    """
    run = CommitmentLedgerImport(
        actor,
        programme=programme,
        county=county,
        year=year,
        title=title,
        dry_run=dry_run,
        max_rows=max_rows,
    )
    return run.run(source, name)


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


class CommitmentExporter(Exporter):
    """The list of one programme in the importer's columns: one header row, one row per target
    (a commitment's further targets on rows below it, number empty), canonical values."""

    def __init__(self, programme: Programme):
        super().__init__()
        self.programme = programme

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
