"""Reading statement CSV files: generous about format, strict about content."""
from datetime import date

import pytest

from inventory.errors import InvalidInput
from inventory.money import MoneyError
from inventory.reconciliation.statement_csv import (
    ColumnMapping,
    StatementTooLarge,
    fingerprints,
    guess_columns,
    parse_amount,
    parse_date,
    parse_statement,
    preview_lines,
    read_shape,
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


# Columns by position, files without a header row, guessing and previewing -----------------

# HSBC's CSV export: no header row; date, description, signed amount.
HSBC = ("31/10/2026,PCC GRANT Q3,\"12,500.00\"\n"
        "03/11/2026,LOCKSMITH DIRECT INV-1,-45.00\n"
        "04/11/2026,CARD PAYMENT TO ALARMS LTD,-19.99\n")
BY_POSITION = ColumnMapping(date=1, description=2, amount=3, has_header=False)


def test_a_file_without_a_header_row_is_read_by_position_from_its_first_line():
    lines = parse(HSBC, BY_POSITION)
    assert [(l.line_number, l.date, l.description, l.amount_pence) for l in lines] == [
        (1, date(2026, 10, 31), "PCC GRANT Q3", 1_250_000),
        (2, date(2026, 11, 3), "LOCKSMITH DIRECT INV-1", -4500),
        (3, date(2026, 11, 4), "CARD PAYMENT TO ALARMS LTD", -1999),
    ]


def test_positions_also_map_a_file_with_a_header_row_whose_header_is_skipped():
    lines = parse("Date;Details;Paid in;Paid out\n03/11/2026;Locks;;45.00\n",
                  ColumnMapping(date=1, description=2, paid_in=3, paid_out=4))
    assert [(l.line_number, l.description, l.amount_pence) for l in lines] == [(2, "Locks", -4500)]


def test_a_position_beyond_the_files_columns_is_refused_naming_the_field():
    error = rejection(HSBC, ColumnMapping(date=1, description=2, amount=4, has_header=False))
    assert error.fields["amount_position"] == "The file has only 3 column(s), not 4."
    assert "only 3 column(s)" in error.message


@pytest.mark.parametrize("mapping, field, message", [
    (dict(date="Date", description=2, amount=3, has_header=False), "date_column", "by column number"),
    (dict(date=0, description=2, amount=3), "date_position", "from 1 to"),
    (dict(date=True, description=2, amount=3), "date_position", "column number"),
    (dict(date=1, description=1, amount=3), "columns", "chosen twice"),
    (dict(date=1, description=2), "amount_column", "Choose the amount column"),
    (dict(date=1, description=2, amount=3, paid_in=4, paid_out=5), "amount_column", "not both"),
])
def test_an_impossible_mapping_is_refused_naming_the_field(mapping, field, message):
    with pytest.raises(InvalidInput) as caught:
        ColumnMapping(**mapping)
    assert message in caught.value.fields[field]


@pytest.mark.parametrize("values, expected", [
    ({"date_column": "Date", "description_column": "Details", "amount_column": "Amount"},
     ColumnMapping(date="Date", description="Details", amount="Amount")),
    ({"date_position": "1", "description_position": "2", "amount_position": "3", "header_row": "false"},
     BY_POSITION),
    ({"date_position": "1", "description_column": "Details", "amount_position": " 3 "},
     ColumnMapping(date=1, description="Details", amount=3)),
])
def test_form_fields_give_columns_by_name_or_by_position(values, expected):
    assert ColumnMapping.from_fields(values) == expected


@pytest.mark.parametrize("values, field", [
    ({"date_column": "Date", "date_position": "1", "description_position": "2", "amount_position": "3"},
     "date_position"),
    ({"date_position": "first", "description_position": "2", "amount_position": "3"}, "date_position"),
    ({"date_position": "1", "description_position": "2", "amount_position": "3", "header_row": "perhaps"},
     "header_row"),
])
def test_bad_form_fields_for_columns_are_named(values, field):
    with pytest.raises(InvalidInput) as caught:
        ColumnMapping.from_fields(values)
    assert field in caught.value.fields


def test_the_shape_of_a_file_is_its_delimiter_and_first_rows_padded_to_one_width():
    shape = read_shape(b"Date;Details;Paid in;Paid out\n03/11/2026;Locks;;45.00\n04/11/2026;Refund;5.00\n",
                       max_bytes=LIMIT)
    assert shape.delimiter == ";" and shape.column_count == 4
    assert shape.rows[2] == ["04/11/2026", "Refund", "5.00", ""]
    assert shape.header(True) == ["Date", "Details", "Paid in", "Paid out"] and shape.header(False) is None
    assert shape.options(True)[0] == (1, "Date (e.g. 03/11/2026)")
    assert shape.options(False)[3] == (4, "Column 4: Paid out")


def test_a_file_that_is_not_csv_has_no_shape():
    with pytest.raises(InvalidInput, match="binary"):
        read_shape(b"\x89PNG\r\n\x1a\n\x00\x00", max_bytes=LIMIT)
    with pytest.raises(StatementTooLarge):
        read_shape(HSBC.encode(), max_bytes=10)


@pytest.mark.parametrize("header, guess", [
    ("Date,Description,Amount,Reference", {"date": 1, "description": 2, "amount": 3, "reference": 4}),
    ("Transaction Date,Details,Paid in (£),Paid out (£),Balance",
     {"date": 1, "description": 2, "paid_in": 3, "paid_out": 4}),
    ("Date,Type,Narrative,Money Out,Money In,Balance", {"date": 1, "description": 3, "paid_out": 4, "paid_in": 5}),
    ("Posting Date,Value Date,Memo,Debit,Credit", {"date": 1, "description": 3, "paid_out": 4, "paid_in": 5}),
    ("Date,Memo,Amount GBP", {"date": 1, "description": 2, "amount": 3}),
    ("Date,Description,Credit,Amount", {"date": 1, "description": 2, "amount": 4}),
    ("Date,Description,Paid in", {"date": 1, "description": 2}),
])
def test_columns_are_guessed_from_the_names_banks_use(header, guess):
    shape = read_shape(f"{header}\n03/11/2026,x,1.00,2.00,3.00,4.00\n".encode(), max_bytes=LIMIT)
    assert guess_columns(shape, has_header=True) == guess


def test_without_a_header_row_columns_are_guessed_from_what_the_lines_hold():
    shape = read_shape(HSBC.encode(), max_bytes=LIMIT)
    assert guess_columns(shape, has_header=False) == {"date": 1, "description": 2, "amount": 3}
    assert shape.first_row_looks_like_data()
    assert not read_shape(b"Date,Description,Amount\n03/11/2026,x,1.00\n", max_bytes=LIMIT).first_row_looks_like_data()


def test_the_preview_reads_the_first_lines_and_shows_each_problem_without_refusing():
    data = ("Date,Description,Amount\n03/11/2026,ok,-1.00\n31/02/2026,bad date,-2.00\n"
            + "".join(f"05/11/2026,more {n},-3.00\n" for n in range(10))).encode()
    preview = preview_lines(data, PLAIN, max_bytes=LIMIT)
    assert len(preview) == 5
    assert (preview[0].line_number, preview[0].line.amount_pence, preview[0].problem) == (2, -100, None)
    assert preview[1].line is None and preview[1].problem.startswith("Date:")
