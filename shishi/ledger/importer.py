"""The two-phase importer every ledger uses: read and check every row, then write all or nothing.

A mechanism subclasses ``Sheet`` for each kind of sheet it reads (its columns, ``validate`` and
``write``) and ``Import`` to name its sheets. ``Import.run`` then:

1. opens the file (.xlsx, or CSV in UTF-8 or GB18030) and finds each sheet — by its title, or for
   a file of one kind of sheet, as the first sheet with a recognisable header;
2. finds the header below title and stamp rows, maps headings to columns in any language, and
   hands each data row to the sheet (``take``), reporting cells whose formula has no value;
3. calls every sheet's ``validate``, which checks each row against the file and the database
   (with lookups loaded once, not a query per row) and counts what would be created or changed;
4. only when no row has an error, calls every sheet's ``write`` in one transaction. The audit
   entries the writes make are collected and written together at the end (``deferred``), so a
   large import holds the audit chain's lock for seconds, not for its whole write phase; a dry
   run rolls the writes back and writes no entry at all, so it takes no lock.

A sheet of many rows keeps them between the steps in a ``lib.spill.Spill`` (a temporary file, a
batch in memory), and its ``close`` lets go of it: memory stays flat with the rows.

Every problem is a ``RowError`` naming the sheet, row and column in the user's language.
"""

from __future__ import annotations

import gc
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shishi.audit.services import deferred
from shishi.lib import drill, sheets, xlsx
from shishi.lib.parse import ParseError
from shishi.lib.sheets import HEADER_SCAN, Rows, SheetInfo, fold

from .columns import Column, Headings, labels
from .results import Errors, Result, RowError, SheetResult

# PostgreSQL's codes for a server that ended the session (an administrator, a shutdown, a crash),
# besides class 08 (the connection failed); no code at all means the client lost the server.
SERVER_WENT_AWAY = {"57P01", "57P02", "57P03"}

NOT_FILE_MESSAGES = {
    "empty": gettext_lazy("The file is empty."),
    "xls": gettext_lazy(
        "This is an old Excel (.xls) file. Open it in Excel or WPS and save it as .xlsx."
    ),
    "not_zip": gettext_lazy("This is not an Excel (.xlsx) file."),
    "not_zip_or_csv": gettext_lazy("This is neither an Excel (.xlsx) file nor a CSV file."),
    "damaged": gettext_lazy("The file could not be read as an Excel workbook; it may be damaged."),
    # Past a limit of lib.xlsx.Limits: %(n)s is the limit, %(part)s the part or sheet.
    "too_big": gettext_lazy(
        "The workbook unpacks to more than %(n)s MB; split it into several files."
    ),
    "ratio": gettext_lazy(
        "A part of the workbook (%(part)s) unpacks to more than %(n)s times its packed size, "
        "which no workbook saved by Excel or WPS does; it was not read."
    ),
    "strings": gettext_lazy(
        "The workbook holds more than %(n)s different texts; split it into several files."
    ),
    "elements": gettext_lazy(
        "A part of the workbook (%(part)s) holds more than %(n)s elements; it may be damaged. "
        "Copy the data into a new workbook and upload that."
    ),
    "text": gettext_lazy(
        "A cell of the workbook holds more than %(n)s characters, more than Excel allows."
    ),
    "rows": gettext_lazy(
        "The sheet has more than %(n)s rows holding values; split it into several files."
    ),
    "row_number": gettext_lazy(
        "The sheet goes past row %(n)s, the last row of Excel; the file is damaged."
    ),
    "columns": gettext_lazy(
        "The sheet has a value past column %(column)s; a sheet may use at most %(n)s columns."
    ),
    "cells": gettext_lazy(
        "The sheet has more than %(n)s cells holding values; split it into several files."
    ),
    "merges": gettext_lazy(
        "The sheet has more than %(n)s merged ranges; copy the data into a new sheet without "
        "them and upload that."
    ),
}
# The reasons that stop a sheet at a row: reported on that row of that sheet.
AT_ROW = frozenset({"rows", "row_number", "columns", "cells"})
PARSE_MESSAGES = {
    "negative": gettext_lazy("%(value)s is negative; amounts and targets cannot be."),
    "not_number": gettext_lazy(
        "%(value)s is not a number. Write it as 68690000, 68,690,000 or 6869万元."
    ),
    "no_such_day": gettext_lazy("%(value)s is not a day of the calendar."),
    "no_year": gettext_lazy(
        "%(value)s is not a date. Write it as 2021-10-31, 2021年10月31日, 2021年10月 or 10月底."
    ),
    "format": gettext_lazy(
        "%(value)s is not a date. Write it as 2021-10-31, 2021年10月31日, 2021年10月 or 10月底."
    ),
    "ambiguous": gettext_lazy(
        "%(value)s may mean January or October: Excel saves 2021.10 as 2021.1. Write the month "
        "as 2021-01 or 2021-10, or 2021年10月."
    ),
}
FORMULA_WITHOUT_VALUE = gettext_lazy(
    "The cell holds a formula without a value; open the file in Excel or WPS, save it, and "
    "upload it again."
)


CSV_UNREADABLE = gettext_lazy(
    "The CSV file cannot be read past this line: a cell holds more than 131,072 characters, or "
    "a quotation mark is not closed."
)
NUL_IN_CELL = gettext_lazy(
    "The cell contains the character NUL, which text cannot hold; save the file again from Excel "
    "or WPS."
)


class WriteFailed(Exception):
    """A service refused a row during the write phase: rolls the transaction back (the errors
    are on the import already)."""


class Stop(Exception):
    """Reading a sheet stops here (too many rows); the error is reported already."""


@dataclass
class Row:
    """One data row: its number in the file, its cells by column key, and what ``validate``
    decided to do with it."""

    number: int
    values: dict[str, Any]
    plan: dict[str, Any] = field(default_factory=dict)


class Sheet:
    """One kind of sheet: its columns, how its rows are checked and how they are written.

    Subclasses set ``key``, ``label`` (the sheet's name, translated), ``aliases`` (other names
    of the sheet) and ``columns``, and implement ``validate`` (fill each row's ``plan``, count,
    report with ``error``) and ``write`` (call the services as the plans say; on a refusal,
    ``service_error`` then ``raise WriteFailed``).
    """

    key: ClassVar[str]
    label: ClassVar[Promise]
    aliases: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[Column, ...]]
    # ValidationError keys from the services, by the column they belong to.
    service_fields: ClassVar[dict[str, str]] = {}
    # Whether a heading no column matches is an error (True) or read past and listed (False).
    strict_headings: ClassVar[bool] = False
    # What ``max_rows`` counts, for the message when a file has more.
    too_many = gettext_lazy("The sheet has more than %(n)d rows; split it into several files.")

    _headings: ClassVar[Headings]

    def __init__(self, run: Import, title: str = ""):
        self.run = run
        self.actor = run.actor
        self.rows: list[Row] = []
        self.present: set[str] = set()
        self.letters: dict[str, str] = {}
        self.positions: dict[int, str] = {}
        self.part = SheetResult(self.key, str(self.label), title or str(self.label))
        self.counts = self.part.counts

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "columns" in cls.__dict__:
            cls._headings = Headings(cls.columns)

    # names and columns

    @classmethod
    def sheet_names(cls) -> set[str]:
        return labels(cls.label) | {fold(cls.key)} | {fold(a) for a in cls.aliases}

    @classmethod
    def match(cls, heading: str) -> str | None:
        return cls._headings.match(heading)

    @classmethod
    def looks_like_header(cls, values: list[Any]) -> bool:
        """A row is the header when two or more of its cells name columns."""
        found = {cls.match(sheets.text(v)) for v in values if v is not None} - {None}
        return len(found) >= 2

    def column(self, key: str) -> Column:
        return self._headings.by_key[key]

    # errors

    def error(self, row: int | None, key: str | None, message: Any) -> None:
        self.run.errors.append(
            RowError(
                sheet=self.part.title,
                row=row,
                column=str(self.column(key).label) if key else "",
                letter=self.letters.get(key, "") if key else "",
                message=str(message),
            )
        )

    def locate(self, name: str, row: int | None) -> tuple[int | None, str | None, Callable]:
        """Where a service's error on field ``name`` belongs: (row, column key, and a function
        that words the message for that place)."""
        return row, self.service_fields.get(name), str

    def service_error(
        self, row: int | None, exc: ValidationError | PermissionDenied, skip: Iterable = ()
    ) -> None:
        """A service's refusal as errors on ``row``, by column where the service names a field
        (``locate``); ``skip`` holds (row, column key) already reported."""
        skip = set(skip)
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                at, key, word = self.locate(name, row)
                if (at, key) in skip:
                    continue
                self.error(at, key, word(" ".join(m for e in errors for m in e.messages)))
        elif isinstance(exc, ValidationError):
            for message in exc.messages:
                self.error(row, None, message)
        else:
            self.error(row, None, str(exc) or _("You may not do this."))

    # reading

    def read(self, rows: Rows, info: SheetInfo, head: list | None = None) -> None:
        """Find the header, map its columns, and hand each non-empty data row to ``take``."""
        head = head if head is not None else sheets.head_rows(rows)
        if not head:
            self.error(None, None, _("The file is empty."))
            return
        header = sheets.find_header(head, info, self.match, self.looks_like_header)
        if header is None:
            self.error(
                None,
                None,
                _(
                    "No header row found in the first %(n)d rows. The sheet needs headings such "
                    "as: %(headings)s."
                )
                % {
                    "n": HEADER_SCAN,
                    "headings": ", ".join(str(c.label) for c in self._headings.required()),
                },
            )
            return
        if not self._map_columns(header):
            return
        try:
            for number, values in self._data_rows(head, header.last, rows):
                cells = {
                    key: values[col] if col < len(values) else None
                    for col, key in self.positions.items()
                }
                formulas = info.uncached.pop(number, ())
                bad = {k for col, k in self.positions.items() if col in formulas}
                for key in sorted(bad, key=list(self._headings.by_key).index):
                    self.error(number, key, FORMULA_WITHOUT_VALUE)
                for key, value in cells.items():
                    if type(value) is str and "\x00" in value:  # a CSV's: XML cannot hold one
                        bad.add(key)
                        self.error(number, key, NUL_IN_CELL)
                if bad or any(v is not None for v in cells.values()):
                    self.take(number, cells, bad)
        except Stop:
            return
        self.end()

    @staticmethod
    def _data_rows(head: list, last: int, rows: Rows) -> Rows:
        yield from ((n, v) for n, v in head if n > last)
        yield from rows

    def _map_columns(self, header: sheets.Header) -> bool:
        ok = True
        for col, heading in header.headings.items():
            letter = xlsx.column_letter(col)
            key = self.match(heading)
            if key is None:
                if self.strict_headings:
                    ok = False
                    self.run.errors.append(
                        RowError(
                            self.part.title,
                            header.first,
                            heading,
                            letter,
                            _("Unknown column heading %(heading)s. The headings are: %(all)s.")
                            % {
                                "heading": heading,
                                "all": ", ".join(str(c.label) for c in self.columns),
                            },
                        )
                    )
                else:
                    self.part.ignored.append(f"{letter} ({heading})")
                continue
            if key in self.present:
                ok = False
                self.error(
                    header.last,
                    None,
                    _("The column %(column)s appears twice (%(letters)s).")
                    % {
                        "column": self.column(key).label,
                        "letters": f"{self.letters[key]}, {letter}",
                    },
                )
                continue
            self.present.add(key)
            self.positions[col] = key
            self.letters[key] = letter
        for column in self.columns:
            if column.required and column.key not in self.present:
                ok = False
                self.error(
                    header.first,
                    None,
                    _("The column %(column)s is missing.") % {"column": column.label},
                )
        self.header = header
        return ok

    def take(self, number: int, cells: dict[str, Any], bad: set[str]) -> None:
        """Keep one data row (``bad``: its columns whose formula has no value, reported)."""
        self.check_count(number, len(self.rows) + 1)
        self.rows.append(Row(number, cells, {"failed": bad} if bad else {}))

    def check_count(self, number: int, count: int) -> None:
        # Without a maximum of its own (the commands), an import stops where any file is
        # refused (lib.xlsx.Limits.rows), a CSV file as a workbook.
        limit = self.run.max_rows if self.run.max_rows is not None else self.run.limits.rows
        if count > limit:
            self.error(number, None, self.too_many % {"n": limit})
            raise Stop

    def end(self) -> None:
        """Called when every row is read; ``take`` may keep a row open until here."""

    # helpers for subclasses

    def parsed(self, row: int, key: str, value: Any, parse: Callable, failed: set) -> Any:
        """``parse(value)`` (``lib.parse``'s dates and amounts); on a ``ParseError`` the cell is
        reported in words that say how to write it, (row, key) joins ``failed``, and None comes
        back."""
        try:
            return parse(value)
        except ParseError as exc:
            failed.add((row, key))
            shown = sheets.text(value)
            self.error(
                row, key, PARSE_MESSAGES.get(exc.code, PARSE_MESSAGES["format"]) % {"value": shown}
            )
            return None

    def text(self, row: Row, key: str, *, as_key: bool = False) -> str:
        """The cell as text (``as_key``: a code, see ``sheets.key``), checked against its length."""
        value = sheets.key(row.values.get(key)) if as_key else sheets.text(row.values.get(key))
        limit = self.column(key).max_length
        if limit and len(value) > limit:
            self.error(
                row.number,
                key,
                _("At most %(n)d characters; this has %(m)d.") % {"n": limit, "m": len(value)},
            )
        return value

    def validate(self) -> None:
        raise NotImplementedError

    def write(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called when the import is over, written or not: let go of what the rows kept."""


Source = bytes | str | os.PathLike | IO[bytes]


class Import:
    """One import of one file. Subclasses name their ``sheets`` and may override ``check``
    (refuse before reading) and ``finish``
    (last step of the write transaction, e.g. a summary entry in the audit log)."""

    sheets: ClassVar[tuple[type[Sheet], ...]]
    # Whether a CSV file is accepted (it holds one sheet, found by its header).
    csv: ClassVar[bool] = True

    def __init__(
        self,
        actor,
        *,
        dry_run: bool = False,
        max_rows: int | None = None,
        limits: xlsx.Limits = xlsx.LIMITS,
    ):
        self.actor = actor
        self.dry_run = dry_run
        self.max_rows = max_rows
        self.limits = limits
        self.errors: Errors = Errors()
        self.found: list[Sheet] = []
        self.result = Result(dry_run=dry_run)
        self.name = ""

    def file_error(self, message: Any) -> None:
        self.errors.append(RowError("", None, "", "", str(message)))

    def check(self) -> None:
        """Refuse the import before reading (report with ``file_error``)."""

    def finish(self) -> Any:
        """The last step of the write transaction; what it returns becomes ``result.target``."""
        return None

    def sheet(self, cls: type[Sheet]) -> Sheet | None:
        return next((s for s in self.found if isinstance(s, cls)), None)

    def run(self, source: Source, name: str = "") -> Result:
        """Check every row, then (if all are right) write them all in one transaction.

        ``source`` is a path, the file's bytes or a binary file object (an upload); ``name`` is
        the file's name (uploads and paths carry their own). Errors come in the active language;
        with any error nothing is written.
        """
        result = self.result
        self.name = str(
            name or getattr(source, "name", "") or (source if isinstance(source, str) else "")
        )
        try:
            self._check_and_write(source)
        finally:
            for sheet in self.found:
                sheet.close()
        order = {s.part.title: i for i, s in enumerate(self.found)}
        # Read in one pass, a row may be checked when a later one is read: sorted, the list of
        # problems reads like the sheet.
        self.errors.sort(
            key=lambda e: (order.get(e.sheet, -1), e.row or 0, len(e.letter), e.letter)
        )
        result.errors = self.errors
        result.parts = [s.part for s in self.found]
        return result

    def _check_and_write(self, source: Source) -> None:
        self.check()
        if not self.errors:
            self._read(source)
        if not self.errors:
            for sheet in self.found:
                sheet.validate()
        if not self.errors:
            # What the import holds (lookups, the sheets' state) lives until the end of the write:
            # frozen, the cyclic garbage collector stops walking it at every full collection.
            gc.freeze()
            written = False
            try:
                with transaction.atomic():
                    with deferred(write=not self.dry_run):
                        for sheet in self.found:
                            sheet.write()
                            # Fault drills stop here, rows written and not committed.
                            drill.pause("ledger.import.writing")
                        self.result.target = self.finish()
                    if self.dry_run:
                        transaction.set_rollback(True)
                    written = True
            except WriteFailed:
                self.result.target = None
            except (OperationalError, InterfaceError) as exc:
                self.result.target = None
                self._database_failed(exc, committing=written)
            finally:
                gc.unfreeze()

    def _database_failed(self, exc: Exception, *, committing: bool) -> None:
        """The database failed under the import: said in the list of problems, not as a server
        error. Before the commit nothing was written, since the transaction never ended; if the
        connection went at the commit itself, only the database knows, and the message says so."""
        state = getattr(exc.__cause__, "sqlstate", None)
        gone = (
            isinstance(exc, InterfaceError)
            or connection.connection is None
            or connection.vendor == "postgresql"
            and (state is None or state.startswith("08") or state in SERVER_WENT_AWAY)
        )
        if gone:
            # The next request, or the command's next step, opens a new connection.
            connection.close()
        if committing:
            message = _(
                "The database went away while the import was being committed: check whether it "
                "was written before running it again."
            )
        elif gone:
            message = _(
                "The database went away during the import; nothing was written. Run the import "
                "again once the database is back."
            )
        else:
            message = _(
                "The database could not complete the import (%(error)s); nothing was written."
            ) % {
                "error": str(exc).strip().splitlines()[0]
                if str(exc).strip()
                else type(exc).__name__
            }
        self.errors.append(RowError("", None, "", "", message))

    def _read(self, source: Source) -> None:
        fh, opened_here = _open(source)
        try:
            if self.csv and sheets.is_csv(fh, self.name):
                try:
                    self._read_csv(fh)
                except sheets.CsvError as exc:
                    self.errors.append(RowError("CSV", exc.line, "", "", str(CSV_UNREADABLE)))
                return
            try:
                with xlsx.open_workbook(fh, limits=self.limits) as workbook:
                    self._read_workbook(workbook)
            except xlsx.NotXlsxError as exc:
                self._refused(exc)
        finally:
            if opened_here:
                fh.close()

    def _refused(self, exc: xlsx.NotXlsxError) -> None:
        """A workbook that is not one, or that passes a limit: one error, on the row where
        reading stopped when there is one."""
        reason = "not_zip_or_csv" if exc.reason == "not_zip" and self.csv else exc.reason
        params = {
            "n": f"{exc.limit:,}" if exc.limit is not None else "",
            "part": exc.part,
            "column": xlsx.column_letter(exc.limit - 1) if exc.limit else "",
        }
        message = str(NOT_FILE_MESSAGES.get(reason, NOT_FILE_MESSAGES["damaged"])) % params
        if reason in AT_ROW and exc.row is not None:
            self.errors.append(RowError(exc.part, exc.row, "", "", message))
        else:
            self.file_error(message)

    def _read_csv(self, fh: IO[bytes]) -> None:
        rows = sheets.csv_rows(fh)
        head = sheets.head_rows(rows)
        cls = next(
            (c for c in self.sheets if any(c.looks_like_header(v) for _n, v in head)),
            self.sheets[0],
        )
        sheet = cls(self, "CSV")
        self.found.append(sheet)
        sheet.read(rows, SheetInfo(), head)

    def _read_workbook(self, workbook: Any) -> None:
        titles = list(workbook.sheetnames)
        for cls in self.sheets:
            names = cls.sheet_names()
            title = next((t for t in titles if fold(t) in names), None)
            if title is not None:
                self._read_sheet(cls, workbook[title], title)
        if self.found:
            return
        # No sheet is named for what it holds: the first whose header is recognisable (offices'
        # files often carry notes or pivot sheets before or after the list).
        for title in titles:
            info = sheets.scan_sheet(workbook[title], self.limits.merges)
            rows = xlsx.iter_rows(workbook[title], self.limits, info.uncached)
            head = sheets.head_rows(rows)
            cls = next(
                (c for c in self.sheets if any(c.looks_like_header(v) for _n, v in head)), None
            )
            if cls is not None:
                sheet = cls(self, title)
                self.found.append(sheet)
                sheet.read(rows, info, head)
                return
        if len(self.sheets) == 1 and titles:
            # One kind of sheet: its own error (no header) says what is wrong with the first.
            self._read_sheet(self.sheets[0], workbook[titles[0]], titles[0])
            return
        self.file_error(
            _("The workbook has none of the sheets %(names)s.")
            % {"names": ", ".join(str(c.label) for c in self.sheets)}
        )

    def _read_sheet(self, cls: type[Sheet], worksheet: Any, title: str) -> None:
        sheet = cls(self, title)
        self.found.append(sheet)
        info = sheets.scan_sheet(worksheet, self.limits.merges)
        sheet.read(xlsx.iter_rows(worksheet, self.limits, info.uncached), info)


def _open(source: Source) -> tuple[IO[bytes], bool]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source), True
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True  # noqa: SIM115 - closed by Import._read
    return source, False
