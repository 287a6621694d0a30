"""One exporter base for every table Shishi hands out: xlsx, CSV and JSON from the same rows.

A subclass gives a ``header`` (labels in the active language) or ``fields`` (stable keys with
their meaning, for open data) and ``rows``; every format is then written from those rows,
streamed, with strings a spreadsheet would run as a formula neutralised (``lib.xlsx``). An
``OpenData`` exporter also counts as it goes and ends its JSON with the figures computed from
exactly the rows above them, by the mechanism's ``FigureSet``, with their formulas.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder

from shishi.lib import xlsx
from shishi.lib.figures import FigureSet

JSON_BATCH = 100  # rows per piece of a streamed JSON file


def dump(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


class Exporter:
    """A table: ``header()`` and ``rows()`` (lists in the header's order); ``count`` says how
    many rows were written once a format has been produced."""

    title: ClassVar[str] = "export"
    # Stable keys (and their meaning) for JSON and open data; the header defaults to the keys.
    fields: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        self.count = 0

    def header(self) -> list[str]:
        return list(self.fields)

    def keys(self) -> list[str]:
        return list(self.fields) or self.header()

    def rows(self) -> Iterator[list[Any]]:
        raise NotImplementedError

    def counted(self) -> Iterator[list[Any]]:
        self.count = 0
        for row in self.rows():
            self.count += 1
            yield row

    def sheet(self) -> tuple[str, list[str], Iterator[list[Any]]]:
        return self.sheet_title(), self.header(), self.counted()

    def sheet_title(self) -> str:
        return str(self.title)

    def write_xlsx(self, target: IO[bytes] | str) -> None:
        xlsx.write_workbook(target, [self.sheet()])

    def iter_csv(self) -> Iterator[bytes]:
        return xlsx.iter_csv(self.header(), self.counted())

    def json_head(self) -> dict[str, Any]:
        return {"fields": {name: str(text) for name, text in self.fields.items()}}

    def json_tail(self) -> dict[str, Any]:
        return {}

    json_items: ClassVar[str] = "rows"

    def iter_json(self) -> Iterator[bytes]:
        """``{head…, "<json_items>": [row objects…], tail…}``, streamed; the tail is computed
        after the last row."""
        keys = self.keys()
        head = dump(self.json_head())[:-1]
        yield (head + (", " if head != "{" else "") + f'"{self.json_items}": [').encode()
        pieces: list[str] = []
        for n, row in enumerate(self.counted()):
            pieces.append(("," if n else "") + "\n" + dump(dict(zip(keys, row, strict=True))))
            if len(pieces) == JSON_BATCH:
                yield "".join(pieces).encode()
                pieces.clear()
        tail = "".join(f", {dump(k)}: {dump(v)}" for k, v in self.json_tail().items())
        yield ("".join(pieces) + f"\n]{tail}}}\n").encode()

    def iter_format(self, fmt: str) -> Iterator[bytes]:
        return self.iter_csv() if fmt == "csv" else self.iter_json()


class OpenData(Exporter):
    """Open data: rows anyone may have, counted by ``tally`` as they are written, so that the
    JSON ends with the published figures recomputed from these very rows, with formulas."""

    figures: ClassVar[FigureSet]

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def tally(self, row: list[Any]) -> Iterable[str]:
        """The counters ``row`` adds one to."""
        return ()

    def counted(self) -> Iterator[list[Any]]:
        self.counts.clear()
        for row in super().counted():
            self.counts.update(self.tally(row))
            yield row

    def computed(self) -> dict[str, Any]:
        return self.figures.compute(self.counts)

    def json_tail(self) -> dict[str, Any]:
        formulas = {key: str(text) for key, text in self.figures.formulas.items()}
        return {"figures": self.computed(), "formulas": formulas}


def write_workbook(target: IO[bytes] | str, exporters: Iterable[Exporter]) -> None:
    """Several exporters as the sheets of one workbook, streamed."""
    xlsx.write_workbook(target, (e.sheet() for e in exporters))
