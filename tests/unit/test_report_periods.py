from datetime import date

import pytest

from inventory.errors import InvalidInput
from inventory.reports.periods import (financial_year, last_complete_quarter, parse_quarter, parse_year,
                                       quarter_containing, year_containing)


@pytest.mark.parametrize("text, starts_on, ends_on", [
    ("2026Q1", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026Q3", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026q4", date(2027, 1, 1), date(2027, 3, 31)),
    (" 2025Q2 ", date(2025, 7, 1), date(2025, 9, 30)),
])
def test_quarters_are_of_the_financial_year_named_by_the_year_it_starts_in(text, starts_on, ends_on):
    period = parse_quarter(text)
    assert (period.starts_on, period.ends_on) == (starts_on, ends_on)


@pytest.mark.parametrize("text", ["", None, "2026Q5", "2026Q0", "2026-Q3", "Q3 2026", "1999Q1", "２０２６Q1"])
def test_a_quarter_not_in_the_form_2026Q3_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as refused:
        parse_quarter(text)
    assert "quarter" in refused.value.details["fields"]


@pytest.mark.parametrize("day, key", [
    (date(2026, 4, 1), "2026Q1"), (date(2026, 3, 31), "2025Q4"), (date(2027, 1, 15), "2026Q4"),
    (date(2026, 12, 31), "2026Q3"), (date(2026, 7, 1), "2026Q2"),
])
def test_each_day_falls_in_one_quarter(day, key):
    assert quarter_containing(day).key == key


def test_the_last_complete_quarter_is_the_one_before_today_s():
    assert last_complete_quarter(date(2026, 12, 1)).key == "2026Q2"
    assert last_complete_quarter(date(2026, 4, 1)).key == "2025Q4"


def test_a_year_runs_april_to_march_and_has_four_quarters_that_tile_it():
    year = parse_year("2026")
    assert (year.starts_on, year.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
    quarters = year.quarters
    assert [q.key for q in quarters] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert quarters[0].starts_on == year.starts_on and quarters[-1].ends_on == year.ends_on
    assert all((b.starts_on - a.ends_on).days == 1 for a, b in zip(quarters, quarters[1:]))
    assert year_containing(date(2027, 2, 1)) == financial_year(2026)


@pytest.mark.parametrize("text", ["", "26", "2026-27", "1999"])
def test_a_year_not_given_as_its_first_calendar_year_is_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse_year(text)
    assert "year" in refused.value.details["fields"]
