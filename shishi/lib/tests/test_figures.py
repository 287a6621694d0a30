"""Published figures without Django: a percentage, and a set of figures computed in order from
counts, each with its formula."""

import ast
from pathlib import Path

import pytest

from shishi.lib import figures
from shishi.lib.figures import Figure, FigureSet, percent


def test_it_does_not_import_django():
    tree = ast.parse(Path(figures.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {n for n in names if n.split(".")[0] == "django"}


@pytest.mark.parametrize(
    ("part", "whole", "digits", "expected"),
    [
        (1, 3, 1, 33.3),
        (2, 3, 1, 66.7),
        (2, 3, 2, 66.67),
        (2, 3, 0, 67.0),
        (1, 4, 1, 25.0),
        (7, 7, 1, 100.0),
        (0, 9, 1, 0.0),
        (3, 0, 1, 0.0),
        (0, 0, 1, 0.0),
        (1.5, 6, 1, 25.0),
    ],
)
def test_a_percentage_is_rounded_to_its_digits_and_zero_of_nothing(part, whole, digits, expected):
    assert percent(part, whole, digits) == expected


def test_a_percentage_of_nothing_is_a_float():
    assert isinstance(percent(0, 0), float)


DELIVERY = FigureSet(
    Figure("on_list", "on the list = planned + delivered", lambda c, _f: c["planned"] + c["done"]),
    Figure("delivered", "delivered = done", lambda c, _f: c["done"]),
    Figure(
        "rate",
        "rate = delivered ÷ on the list × 100",
        lambda _c, f: percent(f["delivered"], f["on_list"]),
    ),
)


def test_figures_are_computed_in_order_and_a_later_one_uses_those_before_it():
    assert DELIVERY.compute({"planned": 2, "done": 1}) == {
        "on_list": 3,
        "delivered": 1,
        "rate": 33.3,
    }
    assert list(DELIVERY.compute({"planned": 0, "done": 0})) == ["on_list", "delivered", "rate"]
    assert DELIVERY.compute({"planned": 0, "done": 0})["rate"] == 0.0


def test_a_figure_sees_only_the_figures_computed_before_it():
    seen = []

    def look(_counts, computed):
        seen.append(dict(computed))
        return len(computed)

    figure_set = FigureSet(Figure("a", "a", look), Figure("b", "b", look), Figure("c", "c", look))
    assert figure_set.compute({}) == {"a": 0, "b": 1, "c": 2}
    assert seen == [{}, {"a": 0}, {"a": 0, "b": 1}]


def test_each_computation_starts_afresh():
    counts = {"planned": 1, "done": 1}
    first = DELIVERY.compute(counts)
    assert DELIVERY.compute({"planned": 3, "done": 1}) == {
        "on_list": 4,
        "delivered": 1,
        "rate": 25.0,
    }
    assert first == {"on_list": 2, "delivered": 1, "rate": 50.0}


def test_the_formulas_are_each_figures_as_declared_in_order():
    formula = object()  # a translatable text stays as declared, translated when shown
    figure_set = FigureSet(Figure("x", formula, lambda _c, _f: 1), *DELIVERY.figures)
    assert figure_set.formulas == {
        "x": formula,
        "on_list": "on the list = planned + delivered",
        "delivered": "delivered = done",
        "rate": "rate = delivered ÷ on the list × 100",
    }
    assert list(figure_set.formulas) == ["x", "on_list", "delivered", "rate"]
    assert figure_set.formulas["x"] is formula


def test_percent_rounds_halves_up_as_a_spreadsheets_round_does():
    # 1 ÷ 16 = 6.25%: 6.3, as ROUND(…, 1) in Excel or WPS gives, not Python's 6.2.
    assert percent(1, 16) == 6.3
    assert percent(1, 8, 0) == 13.0
    assert percent(3, 8, 1) == 37.5
