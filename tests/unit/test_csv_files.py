"""The one CSV writer: text a spreadsheet would run as a formula is neutralised, numbers are not."""
import csv
import io
from decimal import Decimal

import pytest

from inventory.csv_files import Column, neutralise, write_csv

COLUMNS = (Column("Supplier"), Column("Reference"), Column("Memo"), Column("Amount", numeric=True))


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x","y")', "@SUM(A1:A2)", "+cmd", "-2+3", "\t=1+1",
                                       "\r=1+1"])
def test_a_text_cell_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(dangerous):
    [_, row] = read_back(write_csv(COLUMNS, [(dangerous, "", "", "1.00")]))
    assert row[0] == "'" + dangerous


def test_ordinary_text_is_left_as_it_is():
    assert neutralise("Locksmith Direct") == "Locksmith Direct"
    assert neutralise("R-1001 (door lock)") == "R-1001 (door lock)"
    assert neutralise("") == ""


def test_negative_amounts_in_number_columns_stay_negative_numbers():
    [_, row] = read_back(write_csv(COLUMNS, [("-2+3", "@SUM(A1:A2)", "+cmd", "-12.50")]))
    assert row == ["'-2+3", "'@SUM(A1:A2)", "'+cmd", "-12.50"]


@pytest.mark.parametrize("value, written", [(-1250, "-1250"), (Decimal("-12.50"), "-12.50"), ("7", "7"),
                                            (None, "")])
def test_a_number_column_takes_whole_numbers_decimals_and_numeric_text(value, written):
    [_, row] = read_back(write_csv(COLUMNS, [("", "", "", value)]))
    assert row[3] == written


@pytest.mark.parametrize("value", ["=1+1", "-2+3", "12,50", True, 1.5])
def test_a_number_column_refuses_anything_but_a_number(value):
    with pytest.raises(ValueError):
        write_csv(COLUMNS, [("", "", "", value)])


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError):
        write_csv(COLUMNS, [("only one",)])


def test_lines_end_in_crlf_and_quotes_and_commas_survive_the_round_trip():
    text = write_csv(COLUMNS, [('Alarms, "Best" Ltd', "x", "y", "0.00")])
    assert text.endswith("\r\n") and text.count("\r\n") == 2
    assert read_back(text)[1][0] == 'Alarms, "Best" Ltd'
