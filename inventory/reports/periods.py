"""Financial quarters and years, the periods reports are asked for.

The financial year runs April to March, as budget periods do, and is named by the calendar
year it starts in: `2026Q1` is April–June 2026, `2026Q3` October–December 2026 and `2026Q4`
January–March 2027; the year `2026` is April 2026 to March 2027."""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from inventory.errors import InvalidInput

YEAR_STARTS_IN_MONTH = 4
_QUARTER = re.compile(r"([0-9]{4})Q([1-4])")
_YEAR = re.compile(r"[0-9]{4}")
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class ReportPeriod:
    """A financial quarter or year: first and last day (inclusive) and how people name it."""

    key: str  # "2026Q3" or "2026"
    starts_on: date
    ends_on: date
    label: str  # "Q3 2026-27 (October to December 2026)"

    def has_ended(self, today: date) -> bool:
        return self.ends_on < today

    def has_begun(self, today: date) -> bool:
        return self.starts_on <= today

    @property
    def quarters(self) -> list["ReportPeriod"]:
        """The quarters of a year (a quarter is its own only quarter)."""
        if "Q" in self.key:
            return [self]
        return [quarter(int(self.key), number) for number in range(1, 5)]


def _month_start(year: int, month_index: int) -> date:
    """The first day of the `month_index`-th month (0-based) of the financial year `year`."""
    months = YEAR_STARTS_IN_MONTH - 1 + month_index
    return date(year + months // 12, months % 12 + 1, 1)


def _year_name(year: int) -> str:
    return f"{year}-{str(year + 1)[-2:]}"


def quarter(year: int, number: int) -> ReportPeriod:
    starts_on = _month_start(year, 3 * (number - 1))
    ends_on = _month_start(year, 3 * number) - timedelta(days=1)
    return ReportPeriod(f"{year}Q{number}", starts_on, ends_on,
                        f"Q{number} {_year_name(year)} ({starts_on:%B} to {ends_on:%B %Y})")


def financial_year(year: int) -> ReportPeriod:
    starts_on = _month_start(year, 0)
    ends_on = _month_start(year, 12) - timedelta(days=1)
    return ReportPeriod(str(year), starts_on, ends_on,
                        f"{_year_name(year)} ({starts_on:%B %Y} to {ends_on:%B %Y})")


def quarter_containing(day: date) -> ReportPeriod:
    months = (day.year * 12 + day.month - 1) - (YEAR_STARTS_IN_MONTH - 1)
    year, index = divmod(months, 12)
    return quarter(year, index // 3 + 1)


def year_containing(day: date) -> ReportPeriod:
    return financial_year(int(quarter_containing(day).key[:4]))


def last_complete_quarter(today: date) -> ReportPeriod:
    return quarter_containing(quarter_containing(today).starts_on - timedelta(days=1))


def parse_quarter(text: str | None, *, field: str = "quarter") -> ReportPeriod:
    """`2026Q3` -> that quarter; anything else is refused naming `field`."""
    match = _QUARTER.fullmatch((text or "").strip().upper())
    if not match or int(match.group(1)) < EARLIEST_YEAR:
        message = "Give a financial quarter like 2026Q3 (October to December 2026)."
        raise InvalidInput(message, fields={field: message})
    return quarter(int(match.group(1)), int(match.group(2)))


def parse_year(text: str | None, *, field: str = "year") -> ReportPeriod:
    """`2026` -> the financial year April 2026 to March 2027."""
    cleaned = (text or "").strip()
    if not _YEAR.fullmatch(cleaned) or int(cleaned) < EARLIEST_YEAR:
        message = "Give the year a financial year starts in, like 2026 (April 2026 to March 2027)."
        raise InvalidInput(message, fields={field: message})
    return financial_year(int(cleaned))
