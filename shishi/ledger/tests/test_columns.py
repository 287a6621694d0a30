"""Columns and choices matched in every language, yes and no as people write them, and what an
import's result says: errors by sheet, row and column, counts per sheet."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from shishi.ledger.columns import Choices, Column, Headings, labels, yes_no
from shishi.ledger.results import Counts, Result, RowError, SheetResult
from shishi.workdays.models import Counting, Day

COLUMNS = (
    Column("code", gettext_lazy("Code"), ("编号",)),
    Column("target_value", gettext_lazy("Target value"), ("数量", "Amount"), required=False),
    Column("other", "Other", ("编号", "amount")),  # aliases another column already has
)
HEADINGS = Headings(COLUMNS)


def test_a_label_is_known_in_every_language_folded():
    assert labels(gettext_lazy("Code")) == {"code", "代码"}
    with translation.override("zh-hans"):
        assert labels(gettext_lazy("Code")) == {"code", "代码"}
    assert labels("Ｏｔｈｅｒ  Name") == {"other name"}


def test_a_column_is_known_by_its_labels_key_and_aliases():
    assert COLUMNS[1].names() == {"target value", "目标值", "数量", "amount"}


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("代码", "code"),
        ("Code", "code"),
        ("  CODE ", "code"),
        ("ｃｏｄｅ", "code"),
        ("编号", "code"),  # the first column with the name keeps it
        ("目标值", "target_value"),
        ("目 标 值", "target_value"),
        ("Target Value", "target_value"),
        ("target value", "target_value"),  # the key, as words
        ("目标值（万元）", "target_value"),  # a unit in full-width parentheses
        ("目标值(万元)", "target_value"),
        ("数量（个）", "target_value"),
        ("目标任务/目标值", "target_value"),  # the last part of a merged heading
        ("目标任务/目标值（万元）", "target_value"),
        ("目标任务/备注", None),
        ("目标任务", None),
        ("Other", "other"),
        ("amount", "target_value"),
        ("", None),
    ],
)
def test_a_heading_names_its_column(heading, expected):
    assert HEADINGS.match(heading) == expected


def test_the_required_columns_are_listed_in_order():
    assert [c.key for c in HEADINGS.required()] == ["code", "other"]
    assert HEADINGS.by_key["target_value"] is COLUMNS[1]


CHOICES = Choices(Counting, {Counting.CALENDAR_DAYS: ["日历日", "natural days"]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("workdays", Counting.WORKDAYS),
        (" WORKDAYS ", Counting.WORKDAYS),
        ("working days", Counting.WORKDAYS),
        ("Working  Days", Counting.WORKDAYS),
        ("工作日", Counting.WORKDAYS),
        ("自然日", Counting.CALENDAR_DAYS),
        ("calendar days", Counting.CALENDAR_DAYS),
        ("日历日", Counting.CALENDAR_DAYS),
        ("Natural Days", Counting.CALENDAR_DAYS),
        ("weekdays", None),
        (None, None),
    ],
)
def test_a_choice_is_read_by_value_label_in_any_language_or_alias(value, expected):
    assert CHOICES.parse(value) == expected


def test_choices_work_whatever_the_active_language():
    with translation.override("zh-hans"):
        assert Choices(Day.Source).parse("set by an administrator") == Day.Source.ADMIN
    with translation.override("en"):
        assert Choices(Day.Source).parse("管理员设置") == Day.Source.ADMIN


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (True, True),
        (False, False),
        ("是", True),
        ("否", False),
        ("Yes", True),
        (" NO ", False),
        ("y", True),
        ("n", False),
        ("√", True),
        ("×", False),
        ("1", True),
        (0, False),
        (1, True),
        ("true", True),
        ("也许", None),
        ("", None),
    ],
)
def test_yes_and_no_as_people_write_them(value, expected):
    assert yes_no.parse(value) is expected


# --- results -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "english", "chinese"),
    [
        (RowError("people", None, "", "", "m"), "people", "people"),
        (RowError("people", 3, "", "", "m"), "people, row 3", "people，第 3 行"),
        (RowError("people", 3, "", "D", "m"), "people, row 3, column D", "people，第 3 行，“D”列"),
        (
            RowError("people", 3, "Mobile number", "", "m"),
            "people, row 3, column Mobile number",
            "people，第 3 行，“Mobile number”列",
        ),
        (
            RowError("people", 3, "Mobile number", "D", "m"),
            "people, row 3, column D (Mobile number)",
            "people，第 3 行，“D (Mobile number)”列",
        ),
    ],
)
def test_an_error_says_where_in_the_active_language(error, english, chinese):
    with translation.override("en"):
        assert error.where == english
        assert str(error) == f"{english}: m"
    with translation.override("zh-hans"):
        assert error.where == chinese


def test_an_error_about_the_whole_file_is_its_message_alone():
    assert str(RowError("", None, "", "", "The file is empty.")) == "The file is empty."


def test_counts_add_up():
    assert Counts(1, 2, 3) + Counts(10, 20, 30) == Counts(11, 22, 33)
    assert Counts() == Counts(0, 0, 0)


def test_a_result_counts_by_sheet_and_lists_what_was_read_past():
    people = SheetResult("people", "people", "人员", Counts(2, 1, 0), ["F (备注)"])
    orgs = SheetResult("orgs", "organisations", "组织", Counts(1, 0, 4), ["G (x)", "H (y)"])
    result = Result(dry_run=True, parts=[orgs, people])
    assert result.ok
    assert result.counts == {"orgs": Counts(1, 0, 4), "people": Counts(2, 1, 0)}
    assert result.total == Counts(3, 1, 4)
    assert result.ignored == ["G (x)", "H (y)", "F (备注)"]


def test_a_result_with_errors_counts_nothing():
    result = Result(
        dry_run=False,
        errors=[RowError("people", 2, "", "", "wrong")],
        parts=[SheetResult("people", "people", "人员", Counts(2, 0, 0))],
    )
    assert not result.ok
    assert result.counts == {}
    assert result.total == Counts()
