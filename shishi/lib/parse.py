"""Dates and amounts as officials write them in spreadsheets, without Django.

``parse_date`` reads ``2021-10-31``, ``2021年10月31日``, ``2021年10月底`` (the last day of the
month), ``10月底`` (in a default year) and friends; ``parse_amount`` reads ``6869万元``,
``68,690,000``, ``1.2亿`` and ``￥1,000`` as yuan. Both raise ``ParseError`` (a ``ValueError``)
whose ``code`` says what was wrong, so a caller can give its own translated message; the
exception's text is a plain English reason for logs and the console.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any


class ParseError(ValueError):
    """A value that is not a date or an amount. ``code`` is one of ``"format"``, ``"no_year"``,
    ``"no_such_day"``, ``"ambiguous"``, ``"negative"`` and ``"not_number"``."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def _plain(text: str) -> str:
    # NFKC turns full-width digits, letters and punctuation (２０２１／１０／３１, ￥, ，) into
    # their ASCII forms and leaves 年月日 alone.
    return "".join(unicodedata.normalize("NFKC", text).split())


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


_TIME = r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_FULL = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_FULL_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?")
_MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})")
# 2021年10月, 2021年10月底, 10月底, 10月下旬 …
_MONTH_CN = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(底|末|份|上旬|中旬|下旬)?")
# 2021年底, 年底, 2021年内: the end of the year.
_YEAR_END = re.compile(r"(\d{4})?年(底|末|内)")
# A year and a month of one digit after a dot: Excel saves 2021.10 typed into a number cell as
# 2021.1, so the month may be October as well as January; it is asked for again, never guessed.
_YEAR_DOT_DIGIT = re.compile(r"\d{4}\.\d")
# Deadlines are often written "10月底前" or "2021年9月30日以前": the date itself is meant.
_BEFORE = re.compile(r"(?:以前|之前|前)$")


def _day(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError("no_such_day", f"there is no day {year}-{month:02d}-{day:02d}") from None


def parse_date(value: Any, default_year: int | None = None) -> dt.date:
    """The date ``value`` stands for; a month alone means its last day.

    ``default_year`` completes dates written without a year (``10月底``); without it they are
    refused. Date and datetime cells are taken as they are.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or isinstance(value, bool):
        raise ParseError("format", "no date given")
    if isinstance(value, int) and 19000101 <= value <= 29991231:
        # 20211031 typed into a number cell.
        return _day(value // 10000, value // 100 % 100, value % 100)
    if isinstance(value, float) and _YEAR_DOT_DIGIT.fullmatch(repr(value)):
        raise ParseError("ambiguous", f"{value!r} may be the year's first or tenth month")
    if not isinstance(value, str):
        raise ParseError("format", f"{value!r} is not a date")
    text = _BEFORE.sub("", _plain(value))
    if _YEAR_DOT_DIGIT.fullmatch(text):
        raise ParseError("ambiguous", f"{value!r} may be the year's first or tenth month")
    if m := _FULL.fullmatch(text) or _FULL_CN.fullmatch(text):
        return _day(int(m[1]), int(m[2]), int(m[3]))
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ParseError("no_such_day", f"there is no month {month}")
        return _day(year, month, _last_day(year, month))
    if m := _MONTH_CN.fullmatch(text):
        year = int(m[1]) if m[1] else default_year
        if year is None:
            raise ParseError("no_year", f"{value!r} has no year")
        month = int(m[2])
        if not 1 <= month <= 12:
            raise ParseError("no_such_day", f"there is no month {month}")
        day = {"上旬": 10, "中旬": 20}.get(m[3] or "", _last_day(year, month))
        return _day(year, month, day)
    if m := _YEAR_END.fullmatch(text):
        year = int(m[1]) if m[1] else default_year
        if year is None:
            raise ParseError("no_year", f"{value!r} has no year")
        return dt.date(year, 12, 31)
    raise ParseError("format", f"{value!r} is not a date")


_UNITS = {
    "": Decimal(1),
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万": Decimal(10_000),
    "万元": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "亿元": Decimal(100_000_000),
}
_CURRENCY = re.compile(r"^(?:¥|RMB|CNY|人民币)", re.IGNORECASE)
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?)(千元|万元|亿元|万|亿|元)?")


def parse_amount(value: Any, unit: str = "元") -> Decimal:
    """The amount ``value`` stands for, in yuan; a bare number counts in ``unit`` (元, 万元, 亿元).

    Negative amounts (``-5``, ``−5``, ``(5)``) and anything that is not a number are refused.
    """
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    scale = _UNITS[unit]
    if value is None or isinstance(value, bool):
        raise ParseError("not_number", "no number given")
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise ParseError("not_number", f"{value!r} is not a number") from None
        if not number.is_finite():
            raise ParseError("not_number", f"{value!r} is not a number")
        if number < 0:
            raise ParseError("negative", f"{value!r} is negative")
        return number * scale
    if not isinstance(value, str):
        raise ParseError("not_number", f"{value!r} is not a number")
    text = _CURRENCY.sub("", _plain(value))
    if text.startswith(("-", "−", "负", "(")):
        raise ParseError("negative", f"{value!r} is negative")
    m = _AMOUNT.fullmatch(text)
    if m is None:
        raise ParseError("not_number", f"{value!r} is not a number")
    number = Decimal(m[1].replace(",", ""))
    return number * (_UNITS[m[2]] if m[2] else scale)


# Ids and positions in URLs and forms: 18 digits stay below 2⁶³, the largest integer the
# databases keep.
ID_DIGITS = 18


def whole_number(value: Any, digits: int = ID_DIGITS) -> int | None:
    """``value`` as a whole number when it is 1 to ``digits`` ASCII digits, else None: an id or a
    position from a request. ``str.isdigit`` alone also passes ``²`` and full-width digits, which
    ``int`` then refuses, and any length, which the database then refuses."""
    text = value if isinstance(value, str) else str(value)
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None
