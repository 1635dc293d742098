"""Spend per organisation and per quarter of a financial year.

Spend is what the ledger spent: actuals less credits, each reversal counted with the entry it
reverses, by the date of each entry (the budget forecast reads it the same way). It is
attributed to the organisation of the case its entry names (`case_reference`); an entry that
names no case is "Not tied to a case", and one whose reference matches no case on record is
shown as such, so that the rows always add up to the ledger's spend."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased

from inventory.accounts.models import Organisation, OrganisationKind
from inventory.budget.models import SPEND_KINDS, LedgerEntry
from inventory.cases.models import Case
from inventory.csv_files import Column
from inventory.extensions import db
from inventory.reports.periods import ReportPeriod, financial_year, year_containing

NOT_TIED = "Not tied to a case"
UNKNOWN_CASE = "Case reference not on record"
# Attribution keys besides an organisation's id (ids are positive).
_NOT_TIED_KEY, _UNKNOWN_CASE_KEY = -1, 0


@dataclass(frozen=True)
class SpendRow:
    label: str
    organisation_id: int | None
    by_quarter: tuple[int, ...]  # pence, one per quarter of the year

    @property
    def total_pence(self) -> int:
        return sum(self.by_quarter)


@dataclass(frozen=True)
class SpendTable:
    year: ReportPeriod
    rows: list[SpendRow]

    @property
    def quarters(self) -> list[ReportPeriod]:
        return self.year.quarters

    @property
    def quarter_totals(self) -> tuple[int, ...]:
        return tuple(sum(row.by_quarter[index] for row in self.rows) for index in range(len(self.quarters)))

    @property
    def total_pence(self) -> int:
        return sum(self.quarter_totals)


def spend_by_organisation(year: ReportPeriod) -> SpendTable:
    """A row per organisation (the lead first, then partners by name), one for spend tied to
    no case and, if any, one for references that match no case; a column per quarter. One
    grouped query for the money and one for the organisations."""
    quarters = year.quarters
    original = aliased(LedgerEntry)
    attribution = case((LedgerEntry.case_reference.is_(None), literal(_NOT_TIED_KEY)),
                       (Case.organisation_id.is_(None), literal(_UNKNOWN_CASE_KEY)), else_=Case.organisation_id)
    quarter_index = case(*[(LedgerEntry.entry_date <= quarter.ends_on, index)
                           for index, quarter in enumerate(quarters[:-1])], else_=len(quarters) - 1)
    entries = (select(attribution.label("attribution"), quarter_index.label("quarter"), LedgerEntry.amount_pence)
               .outerjoin(original, LedgerEntry.reverses_id == original.id)
               .outerjoin(Case, Case.reference == LedgerEntry.case_reference)
               .where(LedgerEntry.entry_date.between(year.starts_on, year.ends_on),
                      func.coalesce(original.kind, LedgerEntry.kind).in_(SPEND_KINDS))
               .subquery())
    sums = db.session.execute(select(entries.c.attribution, entries.c.quarter, func.sum(entries.c.amount_pence))
                              .group_by(entries.c.attribution, entries.c.quarter)).all()
    spent: dict[int, list[int]] = {}
    for attributed_to, quarter, amount in sums:
        # Spending takes from available: its amounts are negative.
        spent.setdefault(attributed_to, [0] * len(quarters))[quarter] = -int(amount)
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name)
        .order_by(case((Organisation.kind == OrganisationKind.LEAD, 0), else_=1), Organisation.name)).all()
    empty = [0] * len(quarters)
    rows = [SpendRow(name, organisation_id, tuple(spent.get(organisation_id, empty)))
            for organisation_id, name in organisations]
    rows.append(SpendRow(NOT_TIED, None, tuple(spent.get(_NOT_TIED_KEY, empty))))
    if _UNKNOWN_CASE_KEY in spent:
        rows.append(SpendRow(UNKNOWN_CASE, None, tuple(spent[_UNKNOWN_CASE_KEY])))
    return SpendTable(year, rows)


def csv_columns(table: SpendTable) -> list[Column]:
    return [Column("organisation"), *[Column(f"{quarter.key}_pence", numeric=True) for quarter in table.quarters],
            Column("total_pence", numeric=True)]


def csv_rows(table: SpendTable):
    for row in table.rows:
        yield (row.label, *row.by_quarter, row.total_pence)
    yield ("Total", *table.quarter_totals, table.total_pence)


def years_to_offer(today: date, chosen: ReportPeriod) -> list[ReportPeriod]:
    """The financial years from the ledger's first entry to this one (and the one chosen),
    newest first."""
    first = db.session.scalar(select(func.min(LedgerEntry.entry_date)))
    start_years = {int(year_containing(today).key), int(chosen.key)}
    if first is not None:
        start_years |= set(range(int(year_containing(first).key), int(year_containing(today).key) + 1))
    return [financial_year(year) for year in sorted(start_years, reverse=True)]
