import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from shishi.lib.parse import ParseError, parse_amount, parse_date, whole_number

D = dt.date


def test_it_does_not_import_django():
    tree = ast.parse(Path(__file__).parents[1].joinpath("parse.py").read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.startswith("django") for m in modules)


@pytest.mark.parametrize(
    "value, expected",
    [
        (dt.datetime(2021, 10, 31, 0, 0), D(2021, 10, 31)),
        (D(2021, 10, 31), D(2021, 10, 31)),
        ("2021-10-31", D(2021, 10, 31)),
        ("2021/10/31", D(2021, 10, 31)),
        ("2021.10.31", D(2021, 10, 31)),
        ("2021-10-31 00:00:00", D(2021, 10, 31)),
        ("2021年10月31日", D(2021, 10, 31)),
        ("２０２１年１０月３１日", D(2021, 10, 31)),
        ("2021年10月", D(2021, 10, 31)),
        ("2021年9月", D(2021, 9, 30)),
        ("2024年2月", D(2024, 2, 29)),
        ("2021年10月底", D(2021, 10, 31)),
        ("2021年9月底前", D(2021, 9, 30)),
        ("2021年6月30日以前", D(2021, 6, 30)),
        ("2021年12月下旬", D(2021, 12, 31)),
        ("2021年底", D(2021, 12, 31)),
        (" 2021-1-5 ", D(2021, 1, 5)),
        (20211031, D(2021, 10, 31)),
    ],
)
def test_it_reads_the_dates_officials_write(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("10月底", D(2021, 10, 31)), ("10月", D(2021, 10, 31)), ("2月底", D(2021, 2, 28))],
)
def test_a_month_without_a_year_is_the_last_day_of_that_month_in_the_default_year(value, expected):
    assert parse_date(value, default_year=2021) == expected


def test_a_month_without_a_year_and_no_default_is_refused():
    with pytest.raises(ParseError) as caught:
        parse_date("10月底")
    assert caught.value.code == "no_year"


@pytest.mark.parametrize("value", ["2021.1", "2021.2", "2021.9", "２０２１．１", 2021.1, 2021.2])
def test_a_year_dot_one_digit_month_is_refused_as_ambiguous(value):
    # Excel saves 2021.10 typed into a number cell as 2021.1: January or October cannot be told.
    with pytest.raises(ParseError) as caught:
        parse_date(value)
    assert caught.value.code == "ambiguous"


@pytest.mark.parametrize(
    "value, expected",
    [("2021.10", D(2021, 10, 31)), ("2021.01", D(2021, 1, 31)), ("2021.12", D(2021, 12, 31))],
)
def test_a_year_dot_two_digit_month_is_read(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value, code",
    [
        ("2021-02-30", "no_such_day"),
        ("2021年13月", "no_such_day"),
        ("next spring", "format"),
        ("", "format"),
        (None, "format"),
        (3.5, "format"),
        ("2021年10月31日前后", "format"),
    ],
)
def test_anything_else_is_not_a_date(value, code):
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "value, expected",
    [
        (68690000, Decimal("68690000")),
        (1234.5, Decimal("1234.5")),
        (Decimal("12.34"), Decimal("12.34")),
        ("6869万元", Decimal("68690000")),
        ("6,869万", Decimal("68690000")),
        ("68,690,000", Decimal("68690000")),
        ("68690000元", Decimal("68690000")),
        ("68690000.50", Decimal("68690000.50")),
        ("1.2亿", Decimal("120000000")),
        ("1.2亿元", Decimal("120000000")),
        ("￥1,000", Decimal("1000")),
        ("¥1000元", Decimal("1000")),
        ("６８６９万元", Decimal("68690000")),
        ("６，８６９万", Decimal("68690000")),
        ("0", Decimal("0")),
    ],
)
def test_it_reads_amounts_in_yuan(value, expected):
    assert parse_amount(value) == expected


def test_bare_numbers_count_in_the_unit_the_column_is_headed_with():
    assert parse_amount(6869, "万元") == Decimal("68690000")
    assert parse_amount("6869", "万元") == Decimal("68690000")
    assert parse_amount("500元", "万元") == Decimal("500")


@pytest.mark.parametrize("value", [-5, "-5", "−5", "（5）", "-6869万元", Decimal("-1")])
def test_negative_amounts_are_refused(value):
    with pytest.raises(ValueError) as caught:
        parse_amount(value)
    assert caught.value.code == "negative"


@pytest.mark.parametrize(
    "value", ["abc", "5 apples", "", None, True, "1,2", "6869万美元", float("nan"), "1.2.3"]
)
def test_anything_else_is_not_an_amount(value):
    with pytest.raises(ValueError) as caught:
        parse_amount(value)
    assert caught.value.code == "not_number"


@pytest.mark.parametrize(
    "value, expected",
    [("12", 12), ("0", 0), (7, 7), ("9" * 18, int("9" * 18))]
    + [(bad, None) for bad in ("", "²", "１２", "-1", "1.0", " 1", "9" * 19, "1\x00")],
)
def test_a_whole_number_is_ascii_digits_that_fit_the_database(value, expected):
    assert whole_number(value) == expected
