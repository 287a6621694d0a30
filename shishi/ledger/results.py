"""What an import found and did: errors by sheet, row and column, and counts per sheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _


@dataclass
class RowError:
    """One problem: where (sheet, row, column) and what, in the language active when found."""

    sheet: str
    row: int | None
    column: str
    letter: str
    message: str

    @property
    def where(self) -> str:
        """``people, row 3, column D (Mobile number)``, in the active language."""
        if self.row is None:
            return self.sheet
        column = self.letter or self.column
        if self.letter and self.column:
            column = f"{self.letter} ({self.column})"
        if not column:
            return _("%(sheet)s, row %(row)d") % {"sheet": self.sheet, "row": self.row}
        return _("%(sheet)s, row %(row)d, column %(column)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": column,
        }

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class Counts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created,
            self.changed + other.changed,
            self.unchanged + other.unchanged,
        )


@dataclass
class SheetResult:
    """One sheet of the file: what kind of sheet (``key``, ``label``), its title in the file,
    its counts, and the headings no column matched (read past, never imported)."""

    key: str
    label: str
    title: str
    counts: Counts = field(default_factory=Counts)
    ignored: list[str] = field(default_factory=list)


# Problems listed for the reader: a file wrong on every one of its 100,000 rows names the first
# ones and counts the rest, instead of filling memory and a page with them.
MAX_ERRORS = 500


class Errors(list):
    """An import's problems as they are found: the first ``MAX_ERRORS`` kept, ``more`` counting
    the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def append(self, error: RowError) -> None:
        if len(self) < MAX_ERRORS:
            super().append(error)
        else:
            self.more += 1


@dataclass
class Result:
    """What an import did (or, for a dry run, would do). With errors, nothing was written."""

    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    parts: list[SheetResult] = field(default_factory=list)
    # What the rows went into, when the import made or names it (a programme, …).
    target: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def more_errors(self) -> int:
        """Problems found beyond those listed in ``errors``."""
        return getattr(self.errors, "more", 0)

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    def error_lines(self) -> list[str]:
        """The problems as lines of text (the commands print them), the unlisted ones counted."""
        lines = [str(error) for error in self.errors]
        if self.more_errors:
            lines.append(
                _("… and %(n)d more problems, not listed: correct these first.")
                % {"n": self.more_errors}
            )
        return lines

    @property
    def counts(self) -> dict[str, Counts]:
        """Counts by kind of sheet; empty when there were errors (nothing was written)."""
        return {part.key: part.counts for part in self.parts} if self.ok else {}

    @property
    def total(self) -> Counts:
        return sum(self.counts.values(), Counts())

    @property
    def ignored(self) -> list[str]:
        return [heading for part in self.parts for heading in part.ignored]
