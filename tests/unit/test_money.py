import pytest
from hypothesis import given, strategies as st

from inventory.money import MoneyError, check_pence, format_pence, parse_pounds


@pytest.mark.parametrize("text, pence", [
    ("24.99", 2499), ("£1,234.50", 123450), (" 7 ", 700), ("0.01", 1), ("1000000", 100_000_000),
])
def test_pounds_typed_by_people_become_whole_pence(text, pence):
    assert parse_pounds(text) == pence


@pytest.mark.parametrize("text, message", [
    ("", "Enter an amount"),
    ("abc", "in pounds"),
    ("1.234", "two decimal places"),
    ("0", "must not be zero"),
    ("-5", "must not be negative"),
    ("1000000.01", "over £1,000,000"),
    ("NaN", "in pounds"),
    ("Infinity", "in pounds"),
])
def test_bad_amounts_are_refused_with_a_reason(text, message):
    with pytest.raises(MoneyError, match=message):
        parse_pounds(text)


def test_zero_and_negative_are_allowed_only_when_asked():
    assert parse_pounds("0", allow_zero=True) == 0
    assert parse_pounds("-12.30", allow_negative=True) == -1230


@pytest.mark.parametrize("value", [1.5, "100", True, None])
def test_pence_must_be_an_integer(value):
    with pytest.raises(MoneyError):
        check_pence(value)


@given(st.integers(min_value=1, max_value=100_000_000))
def test_formatting_then_parsing_gives_the_same_pence(pence):
    assert parse_pounds(format_pence(pence)) == pence


def test_negative_amounts_format_with_a_minus_sign():
    assert format_pence(-123456) == "−£1,234.56"
    assert format_pence(None) == "—"
