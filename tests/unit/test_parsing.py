"""The one parsing module: the same rules for forms, query strings and the JSON API."""
from datetime import date, time
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from inventory import parsing
from inventory.errors import InvalidInput
from inventory.parsing import MAX_ID, Fields, ParseError


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_64_bit_id_reads_back_from_json_and_from_text(value):
    assert parsing.record_id(value) == value
    assert parsing.record_id(str(value), text=True) == value


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_ID + 1)))
def test_ids_outside_the_databases_range_are_refused(value):
    with pytest.raises(ParseError):
        parsing.record_id(value)
    with pytest.raises(ParseError):
        parsing.record_id(str(value), text=True)


@pytest.mark.parametrize("value", [True, 1.0, "1", None, [1], {"id": 1}])
def test_json_ids_must_be_json_integers(value):
    with pytest.raises(ParseError):
        parsing.record_id(value)


@pytest.mark.parametrize("value", ["", "1.5", "1e3", "one", "１２", "9" * 40])
def test_typed_whole_numbers_must_be_plain_digits(value):
    with pytest.raises(ParseError, match="whole number"):
        parsing.whole_number(value, text=True)


def test_whole_numbers_keep_to_their_range():
    assert parsing.whole_number(-3, minimum=None) == -3
    with pytest.raises(ParseError, match="at least 0"):
        parsing.whole_number(-3)
    with pytest.raises(ParseError, match="at most 10"):
        parsing.whole_number(11, maximum=10)


def test_pence_from_json_are_integers_and_pounds_from_people_are_decimal_text():
    assert parsing.pence(1250) == 1250
    for wrong in ("12.50", 12.5, True):
        with pytest.raises(ParseError, match="whole number of pence"):
            parsing.pence(wrong)
    with pytest.raises(ParseError, match="zero"):
        parsing.pence(0)
    assert parsing.pence(0, allow_zero=True) == 0
    with pytest.raises(ParseError, match="negative"):
        parsing.pence(-5)
    assert parsing.pence(-5, allow_negative=True) == -5
    assert parsing.pounds("£1,234.50") == 123_450
    with pytest.raises(ParseError, match="two decimal places"):
        parsing.pounds("1.234")


def test_dates_times_text_and_choices():
    assert parsing.iso_date(" 2026-04-30 ") == date(2026, 4, 30)
    assert parsing.iso_time("09:30") == time(9, 30)
    for wrong in ("30/04/2026", 20260430, None):
        with pytest.raises(ParseError, match="2026-04-30"):
            parsing.iso_date(wrong)
    assert parsing.text("  a note ") == "a note"
    assert parsing.text("   ", required=False) is None
    with pytest.raises(ParseError, match="Required"):
        parsing.text("   ")
    with pytest.raises(ParseError, match="At most 3"):
        parsing.text("abcd", max_length=3)
    assert parsing.choice("blue", Colour) is Colour.BLUE
    with pytest.raises(ParseError, match="red, blue"):
        parsing.choice("green", Colour)


def test_fields_collect_every_problem_before_refusing_once():
    fields = Fields({"amount_pence": "12", "on": "tomorrow", "lines": [{"quantity": 0}, "x"]})
    fields.pence("amount_pence")
    fields.date("on")
    fields.text("reason")
    for line in fields.objects("lines"):
        line.whole_number("quantity", minimum=1)
        line.record_id("item_type_id")
    with pytest.raises(InvalidInput) as refused:
        fields.check()
    assert set(refused.value.fields) == {"amount_pence", "on", "reason", "lines[0].quantity",
                                         "lines[0].item_type_id", "lines[1]"}


def test_fields_from_a_query_string_read_text_and_repeated_values():
    args = Fields(MultiDict([("page", "2"), ("item", "3"), ("item", "4"), ("state", ""), ("big", str(MAX_ID + 1))]),
                  text=True)
    assert args.whole_number("page") == 2
    assert args.ids("item") == [3, 4]
    assert args.choice("state", Colour, required=False) is None
    assert args.record_id("big", required=False) is None
    assert set(args.errors) == {"big"}
