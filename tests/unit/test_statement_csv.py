"""Reading statement CSV files: generous about format, strict about content."""
from datetime import date

import pytest

from inventory.errors import InvalidInput
from inventory.money import MoneyError
from inventory.reconciliation.statement_csv import (
    ColumnMapping,
    StatementTooLarge,
    fingerprints,
    parse_amount,
    parse_date,
    parse_statement,
)

SIGNED = ColumnMapping(date="Date", description="Description", amount="Amount", reference="Reference")
PLAIN = ColumnMapping(date="Date", description="Description", amount="Amount")
SPLIT = ColumnMapping(date="Date", description="Details", paid_in="Paid in", paid_out="Paid out")
LIMIT = 1024 * 1024


def parse(text: str | bytes, mapping=PLAIN, **kwargs):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return parse_statement(data, mapping, max_bytes=kwargs.pop("max_bytes", LIMIT))


def rejection(text, mapping=PLAIN, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(text, mapping, **kwargs)
    return caught.value


@pytest.mark.parametrize("text, pence", [
    ("24.99", 2499), ("-24.99", -2499), ("£24.99", 2499), ("-£24.99", -2499), ("£-24.99", -2499),
    ("£1,234.50", 123450), ("1234.5", 123450), ("12", 1200), ("−5.00", -500), (" 3.10 ", 310),
    ("1,000,000.00", 100_000_000), ("(24.99)", -2499), ("(£1,200.00)", -120000),
])
def test_amounts_become_signed_pence_through_decimal(text, pence):
    assert parse_amount(text) == pence


@pytest.mark.parametrize("text, message", [
    ("24.999", "more than two decimal places"),
    ("24,99", "not an amount"),
    ("12,34.00", "not an amount"),
    ("abc", "not an amount"),
    ("1e3", "not an amount"),
    ("NaN", "not an amount"),
    ("--5", "not an amount"),
    ("(-5.00)", "not an amount"),
    ("(5.00", "not an amount"),
    ("", "empty"),
    ("1,000,000.01", "over £1,000,000"),
])
def test_bad_amounts_are_refused_with_a_reason(text, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text)


@pytest.mark.parametrize("text, day", [
    ("31/01/2026", date(2026, 1, 31)), ("1/2/2026", date(2026, 2, 1)), ("2026-02-01", date(2026, 2, 1)),
    ("01-02-2026", date(2026, 2, 1)), ("01.02.2026", date(2026, 2, 1)), ("01 Feb 2026", date(2026, 2, 1)),
    ("01-Feb-2026", date(2026, 2, 1)),
])
def test_dates_are_day_first_or_iso(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["31/02/2026", "02/31/2026", "1/2/26", "yesterday", ""])
def test_impossible_or_ambiguous_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_a_comma_separated_file_with_a_signed_amount_column_is_read():
    lines = parse("Date,Description,Amount,Reference\n"
                  "03/11/2026,LOCKSMITH DIRECT,-45.00,INV-1\n"
                  "04/11/2026,PCC GRANT,\"£10,000.00\",\n", SIGNED)
    assert [(l.line_number, l.date, l.description, l.reference, l.amount_pence) for l in lines] == [
        (2, date(2026, 11, 3), "LOCKSMITH DIRECT", "INV-1", -4500),
        (3, date(2026, 11, 4), "PCC GRANT", "", 1_000_000),
    ]


def test_a_semicolon_file_with_paid_in_and_paid_out_columns_is_read():
    lines = parse("Date;Details;Paid in;Paid out\n03/11/2026;ALARMS LTD;;£1,200.00\n04/11/2026;REFUND;12.50;\n",
                  SPLIT)
    assert [l.amount_pence for l in lines] == [-120000, 1250]


def test_a_utf8_byte_order_mark_and_windows_line_endings_are_tolerated():
    data = "\ufeffDate,Description,Amount\r\n03/11/2026,Café lock,-9.99\r\n".encode("utf-8")
    mapping = ColumnMapping(date="date", description=" DESCRIPTION ", amount="Amount")
    [line] = parse(data, mapping)
    assert line.description == "Café lock" and line.amount_pence == -999


def test_a_windows_1252_file_is_decoded():
    data = "Date,Description,Amount\n03/11/2026,Café – £ sign,-9.99\n".encode("cp1252")
    [line] = parse(data)
    assert line.description == "Café – £ sign"


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file():
    error = rejection("\nDate,Description,Amount\n\n03/11/2026,ok,-1.00\n03/11/2026,bad,-1.001\n")
    assert error.details["lines"] == [{"line": 5, "message": "Amount: '-1.001' has more than two decimal places."}]


def test_every_bad_line_is_reported_by_number_and_nothing_is_returned():
    error = rejection("Date,Description,Amount\n"
                      "03/11/2026,fine,-1.00\n"
                      "31/02/2026,bad date,-1.00\n"
                      "03/11/2026,bad amount,abc\n"
                      "03/11/2026,zero,0.00\n"
                      "03/11/2026,too big,-2000000\n")
    assert error.code == "invalid_statement"
    assert [entry["line"] for entry in error.details["lines"]] == [3, 4, 5, 6]
    assert "4 line(s)" in error.message and "nothing was imported" in error.message
    assert "not a date" in error.details["lines"][0]["message"]
    assert "over £1,000,000" in error.details["lines"][3]["message"]


@pytest.mark.parametrize("row, message", [
    ("03/11/2026,x,1.00,2.00", "Both paid in and paid out"),
    ("03/11/2026,x,,", "Neither paid in nor paid out"),
    ("03/11/2026,x,-1.00,", "Paid in must be more than zero"),
])
def test_paid_in_and_paid_out_must_be_exactly_one(row, message):
    mapping = ColumnMapping(date="Date", description="Details", paid_in="In", paid_out="Out")
    error = rejection(f"Date,Details,In,Out\n{row}\n", mapping)
    assert message in error.details["lines"][0]["message"]


def test_an_empty_file_is_refused():
    assert rejection(b"").fields["file"] == "The file is empty."
    assert rejection(b"  \r\n\n").fields["file"] == "The file is empty."


def test_a_file_with_only_a_header_is_refused():
    assert "no statement lines" in rejection("Date,Description,Amount\n").message


def test_a_binary_file_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    assert "binary data" in rejection(png).message


def test_missing_columns_are_named_with_the_columns_the_file_has():
    error = rejection("Posted,Narrative,Value\n03/11/2026,x,1.00\n", SIGNED)
    assert "'Date'" in error.message and "Posted, Narrative, Value" in error.message
    assert set(error.fields) == {"date_column", "description_column", "amount_column", "reference_column", "file"}


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read():
    with pytest.raises(StatementTooLarge) as caught:
        parse("Date,Description,Amount\n" + "03/11/2026,x,-1.00\n" * 100, max_bytes=100)
    assert caught.value.status == 413


@pytest.mark.parametrize("kwargs, field", [
    ({"date": "", "description": "D", "amount": "A"}, "date_column"),
    ({"date": "D", "description": "X"}, "amount_column"),
    ({"date": "D", "description": "X", "paid_in": "In"}, "amount_column"),
    ({"date": "D", "description": "X", "amount": "A", "paid_out": "Out"}, "amount_column"),
])
def test_an_incomplete_column_mapping_is_refused(kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        ColumnMapping(**kwargs)
    assert field in caught.value.fields


def test_identical_payments_in_one_file_get_different_fingerprints():
    lines = parse("Date,Description,Amount\n03/11/2026,BUS,-2.00\n03/11/2026,BUS,-2.00\n")
    first, second = fingerprints("Card", lines)
    assert first != second


def test_an_overlapping_file_gives_the_same_fingerprints_for_the_same_lines():
    earlier = parse("Date,Description,Amount\n03/11/2026,BUS,-2.00\n03/11/2026,BUS,-2.00\n")
    later = parse("Date,Description,Amount\n03/11/2026,BUS,-2.00\n03/11/2026,BUS,-2.00\n"
                  "03/11/2026,BUS,-2.00\n04/11/2026,TAXI,-9.00\n")
    assert fingerprints("Card", later)[:2] == fingerprints("Card", earlier)
    assert not set(fingerprints("Card", later)[2:]) & set(fingerprints("Card", earlier))


def test_the_same_line_on_another_account_is_a_different_line():
    lines = parse("Date,Description,Amount\n03/11/2026,BUS,-2.00\n")
    assert fingerprints("Card", lines) != fingerprints("Current account", lines)
