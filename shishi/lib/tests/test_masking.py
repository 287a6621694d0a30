"""Masking phones and names for screens that do not need them in full."""

import pytest

from shishi.lib.masking import is_mobile, mask_name, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("6612-3456", "******56"),
        ("12", "**"),
        ("7", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_is_masked_to_its_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


def test_a_masked_mobile_number_hides_the_middle_four_digits():
    masked = mask_phone("13812345678")
    assert "1234" not in masked
    assert len(masked) == 11


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("王五", "王*"),
        ("欧阳娜娜", "欧***"),
        ("李", "李"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_name_keeps_only_its_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("86123", "86123"),
        (None, ""),
    ],
)
def test_a_phone_is_normalised_to_digits_without_the_country_code(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize(
    ("value", "mobile"),
    [
        ("13812345678", True),
        ("23812345678", False),
        ("1381234567", False),
        ("138123456789", False),
        ("1381234567x", False),
    ],
)
def test_a_mobile_number_is_eleven_digits_starting_with_1(value, mobile):
    assert is_mobile(value) is mobile
