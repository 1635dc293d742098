"""Spend per organisation and per quarter of a financial year, figured by hand from a known
ledger: attributed to the organisation of the case each entry names, with credits and
reversals netted where they are dated, and totals that add up to the ledger's spend."""
from datetime import UTC, date, datetime

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.budget.forecast import spent_between
from inventory.budget.operations import record_direct_purchase, refund_direct_purchase
from inventory.extensions import db
from inventory.reports import spend
from inventory.reports.periods import parse_year


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def year_2026(build, finance):
    """FY 2026-27 (and the years either side) funded; today (for the whole test) is 20 April 2027."""
    with clock.frozen_at(datetime(2027, 4, 20, 10, tzinfo=UTC)):
        periods = [build.budget_period(starts_on=date(year, 4, 1), ends_on=date(year + 1, 3, 31), name=f"FY{year}",
                                       allocated_pence=1_000_000, actor=finance) for year in (2025, 2026, 2027)]
        yield periods[1]


@pytest.fixture
def organisations(build):
    lead = build.lead()
    return lead, build.organisation(name="Bravo Partner"), build.organisation(name="Alpha Partner")


def bought(pence, on, finance, case_reference=None, receipt="R-1"):
    purchase, entry = record_direct_purchase(
        supplier_name="Locksmith Direct", purchased_on=on, net_pence=pence, vat_pence=0, gross_pence=pence,
        receipt_reference=receipt, category="Lock", actor=finance, case_reference=case_reference)
    db.session.commit()
    return purchase, entry


@pytest.fixture
def known_spend(year_2026, organisations, build, finance):
    lead, bravo, _alpha = organisations
    lead_case, bravo_case = build.case(organisation=lead), build.case(organisation=bravo)
    lead_purchase, _ = bought(10_000, date(2026, 5, 10), finance, lead_case.reference)      # Q1 lead
    bought(3_000, date(2026, 6, 30), finance)                                               # Q1 no case
    bought(5_000, date(2026, 7, 1), finance, bravo_case.reference)                          # Q2 Bravo
    bought(700, date(2026, 8, 2), finance, "NS-NOT-A-CASE")                                 # Q2 unknown
    _, reversed_later = bought(2_000, date(2026, 11, 5), finance, lead_case.reference)      # Q3 lead
    ledger.reverse(reversed_later, reason="wrong card", actor=finance, on=date(2027, 1, 8))  # Q4 lead -2,000
    bought(1_000, date(2027, 3, 31), finance, bravo_case.reference)                         # Q4 Bravo
    refund_direct_purchase(lead_purchase, on=date(2027, 2, 1), net_pence=500, vat_pence=0,  # Q4 lead -500
                           reason="one lock returned", actor=finance)
    # Outside the year, and money that is not spend: none of it counts.
    bought(9_999, date(2026, 3, 31), finance, lead_case.reference)
    bought(8_888, date(2027, 4, 1), finance, lead_case.reference)
    ledger.commit(4_444, on=date(2026, 9, 1), actor=finance, memo="order", source_type="purchase_order",
                  source_id=99, case_reference=lead_case.reference)
    ledger.adjust(-333, on=date(2026, 9, 2), actor=finance, reason="bank fee", case_reference=lead_case.reference)
    db.session.commit()
    return year_2026


def test_each_organisation_and_quarter_has_the_spend_of_its_cases(known_spend, organisations):
    table = spend.spend_by_organisation(parse_year("2026"))

    assert [(row.label, row.by_quarter) for row in table.rows] == [
        ("Lead Provider", (10_000, 0, 2_000, -2_000 - 500)),
        ("Alpha Partner", (0, 0, 0, 0)),
        ("Bravo Partner", (0, 5_000, 0, 1_000)),
        (spend.NOT_TIED, (3_000, 0, 0, 0)),
        (spend.UNKNOWN_CASE, (0, 700, 0, 0)),
    ]
    assert table.quarter_totals == (13_000, 5_700, 2_000, -1_500)
    assert [row.total_pence for row in table.rows] == [9_500, 0, 6_000, 3_000, 700]
    assert table.total_pence == 19_200


def test_the_totals_add_up_to_the_ledgers_spend_for_the_year(known_spend):
    period = known_spend
    table = spend.spend_by_organisation(parse_year("2026"))
    assert table.total_pence == spent_between(period, period.starts_on, period.ends_on)
    assert sum(row.total_pence for row in table.rows) == table.total_pence == sum(table.quarter_totals)


def test_a_year_without_spend_lists_every_organisation_at_nothing(known_spend, organisations):
    table = spend.spend_by_organisation(parse_year("2030"))
    assert [row.label for row in table.rows] == ["Lead Provider", "Alpha Partner", "Bravo Partner", spend.NOT_TIED]
    assert table.total_pence == 0 and all(row.by_quarter == (0, 0, 0, 0) for row in table.rows)


def test_the_csv_has_a_row_per_organisation_and_the_totals(known_spend, organisations):
    table = spend.spend_by_organisation(parse_year("2026"))
    assert [column.header for column in spend.csv_columns(table)] == [
        "organisation", "2026Q1_pence", "2026Q2_pence", "2026Q3_pence", "2026Q4_pence", "total_pence"]
    rows = list(spend.csv_rows(table))
    assert rows[0] == ("Lead Provider", 10_000, 0, 2_000, -2_500, 9_500)
    assert rows[-1] == ("Total", 13_000, 5_700, 2_000, -1_500, 19_200)


def test_the_year_picker_offers_each_year_from_the_first_entry_to_this_one(known_spend):
    offered = spend.years_to_offer(clock.today(), parse_year("2026"))
    assert [year.key for year in offered] == ["2027", "2026", "2025"]
