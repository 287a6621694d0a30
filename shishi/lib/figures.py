"""Published figures with their formulas, without Django.

Every figure Shishi publishes is computed in one place from counts anyone can take from the open
data, and carries its formula in words beside it. A mechanism declares its figures once as a
``FigureSet``; the public page, the API and the open-data file all call ``compute`` and show
``formulas``, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def percent(part: int | float, whole: int | float, digits: int = 1) -> float:
    """``part ÷ whole × 100`` rounded to ``digits`` decimals, halves up (四舍五入, as a
    spreadsheet's ROUND does, so anyone recomputing from the open data gets the same figure);
    0.0 when ``whole`` is 0."""
    if not whole:
        return 0.0
    exact = Decimal(str(part)) * 100 / Decimal(str(whole))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Figure:
    """One figure: its key, its formula in words (a translatable text), and how it is computed
    from the counts and the figures before it in its set."""

    key: str
    formula: Any
    compute: Callable[[Mapping[str, int], Mapping[str, Any]], Any]


class FigureSet:
    """A mechanism's figures, computed in order (a rate may use the totals above it)."""

    def __init__(self, *figures: Figure):
        self.figures = figures

    def compute(self, counts: Mapping[str, int]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for figure in self.figures:
            out[figure.key] = figure.compute(counts, out)
        return out

    @property
    def formulas(self) -> dict[str, Any]:
        """Each figure's formula, as declared (translate with ``str`` when shown)."""
        return {figure.key: figure.formula for figure in self.figures}
