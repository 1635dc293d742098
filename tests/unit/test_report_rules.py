"""Rules of the reports that need no database: CSV written in pieces is the same file, age
bands are read strictly, and an export's choice is checked field by field."""
import pytest
from werkzeug.datastructures import MultiDict

from inventory.csv_files import Column, csv_chunks, write_csv
from inventory.errors import InvalidInput
from inventory.reports import commitments, exports

COLUMNS = (Column("Memo"), Column("Amount", numeric=True))


def test_a_file_written_in_pieces_is_the_file_written_whole():
    rows = [(f"=line {n}", n) for n in range(2_500)]
    pieces = list(csv_chunks(COLUMNS, rows, rows_per_chunk=1_000))
    assert len(pieces) == 3
    assert "".join(pieces) == write_csv(COLUMNS, rows)
    assert pieces[0].startswith("Memo,Amount\r\n'=line 0,0\r\n")


def test_a_file_of_no_rows_is_its_header():
    assert list(csv_chunks(COLUMNS, [])) == ["Memo,Amount\r\n"]


@pytest.mark.parametrize("text, key", [(None, None), ("", None), (" 31-60 ", "31-60"), ("over-90", "over-90")])
def test_an_age_band_is_read_by_its_key(text, key):
    band = commitments.parse_band(text)
    assert (band.key if band else None) == key


@pytest.mark.parametrize("text", ["31 to 60", "0-31", "OVER-90", "90+"])
def test_anything_else_is_not_an_age_band(text):
    with pytest.raises(InvalidInput) as refused:
        commitments.parse_band(text)
    assert refused.value.fields == {"band": "Choose an age band: 0-30, 31-60, 61-90, over-90."}


def test_a_quarter_stands_for_its_first_and_last_days():
    choice = exports.read_choice(MultiDict({"what": "requests", "quarter": "2026Q4"}))
    assert (choice.starts_on.isoformat(), choice.ends_on.isoformat(), choice.organisation_id) == (
        "2027-01-01", "2027-03-31", None)


def test_dates_may_be_left_open_at_either_end():
    choice = exports.read_choice(MultiDict({"what": "items", "to": "2026-05-31", "organisation": "All"}))
    assert (choice.starts_on, choice.ends_on.isoformat()) == (None, "2026-05-31")
    assert choice.filename == "items-start-to-2026-05-31.csv"


def test_the_same_day_from_and_to_is_one_day():
    choice = exports.read_choice(MultiDict({"what": "items", "from": "2026-05-31", "to": "2026-05-31"}))
    assert choice.starts_on == choice.ends_on
