"""Every entry is dated inside its budget period, outside closed months and not after today
(an allocation may be dated on its period's first day before it comes); verify-ledger
reports an entry dated outside its period."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.ledger import PeriodClosed
from inventory.budget.models import LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.procurement import invoices
from tests.integration.test_ledger_verification import append_only_guard_disabled

TODAY = date(2026, 6, 15)
THREE_AND_A_HALF_MONTHS_AHEAD = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def last_year(build, finance):
    return build.budget_period(starts_on=date(2025, 4, 1), ends_on=date(2026, 3, 31), allocated_pence=50_000,
                               actor=finance)


@pytest.fixture
def this_year(build, finance):
    return build.budget_period(allocated_pence=100_000, actor=finance)


@pytest.fixture
def next_year(build):
    return build.budget_period(starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31))


def entry_count():
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def refused_field(use_case) -> dict:
    """The fields a refusal names; it writes nothing (what the test set up is committed first)."""
    db.session.commit()
    before = entry_count()
    with pytest.raises(InvalidInput) as refusal:
        use_case()
    db.session.rollback()
    assert entry_count() == before
    return refusal.value.fields


def test_an_adjustment_dated_after_today_is_refused_naming_its_date(app, this_year, finance):
    fields = refused_field(lambda: ledger.adjust(-100, on=date(2026, 6, 16), actor=finance, reason="Fee"))
    assert "cannot be dated in the future" in fields["on"]


def test_an_invoice_dated_months_ahead_is_refused_at_invoice_date_even_with_next_years_period_open(
        app, build, this_year, next_year, finance):
    order = build.purchase_order()
    line = order.lines[0]
    fields = refused_field(lambda: invoices.record_invoice(
        order, number="INV-1", invoice_date=THREE_AND_A_HALF_MONTHS_AHEAD, actor=finance,
        lines=[invoices.InvoiceLine(line.id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence)]))
    assert set(fields) == {"invoice_date"}


def test_an_invoice_outside_tolerance_dated_ahead_is_refused_before_it_waits_for_approval(
        app, build, this_year, finance):
    order = build.purchase_order()
    line = order.lines[0]
    fields = refused_field(lambda: invoices.record_invoice(
        order, number="INV-2", invoice_date=date(2026, 6, 16), actor=finance,
        lines=[invoices.InvoiceLine(line.id, line.quantity_ordered, line.unit_net_pence * 2, 0)]))
    assert set(fields) == {"invoice_date"}


def test_a_credit_note_dated_ahead_is_refused_at_invoice_date(app, build, this_year, finance):
    order = build.purchase_order()
    build.receipt(order)
    invoice = invoices.record_invoice(order, number="INV-1", invoice_date=TODAY, actor=finance, lines=[
        invoices.InvoiceLine(line.id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence)
        for line in order.lines])
    db.session.commit()
    fields = refused_field(lambda: invoices.record_credit_note(
        invoice, number="CN-1", invoice_date=date(2026, 7, 1), net_pence=100, vat_pence=0, reason="Late",
        actor=finance))
    assert set(fields) == {"invoice_date"}


def test_a_direct_purchase_dated_ahead_is_refused_at_purchased_on(app, this_year, finance):
    fields = refused_field(lambda: budget.record_direct_purchase(
        supplier_name="Shop", purchased_on=date(2026, 6, 20), net_pence=100, vat_pence=0, gross_pence=100,
        receipt_reference="R-1", category="locks", actor=finance))
    assert set(fields) == {"purchased_on"}


def test_next_years_allocation_may_be_dated_on_its_first_day_but_no_later(app, this_year, next_year, finance):
    assert ledger.allocate(next_year, 20_000, actor=finance).entry_date == date(2027, 4, 1)
    fields = refused_field(lambda: ledger.allocate(next_year, 100, actor=finance, on=date(2027, 4, 2)))
    assert "cannot be dated in the future" in fields["on"]


def test_an_allocation_is_dated_inside_its_period(app, last_year, this_year, finance):
    fields = refused_field(lambda: ledger.allocate(last_year, 100, actor=finance, on=date(2026, 4, 1)))
    assert "Between 01 Apr 2025 and 31 Mar 2026" in fields["on"]
    assert ledger.allocate(last_year, 100, actor=finance).entry_date == date(2026, 3, 31)


def test_reversing_next_years_allocation_is_dated_on_its_first_day(app, this_year, next_year, finance):
    allocation = ledger.allocate(next_year, 20_000, actor=finance)
    reversal = ledger.reverse(allocation, reason="Entered twice", actor=finance)
    assert (reversal.entry_date, reversal.period_id) == (date(2027, 4, 1), next_year.id)


def test_a_reversal_dated_years_ahead_is_refused_not_posted_into_the_entrys_period(app, this_year, finance):
    adjustment = ledger.adjust(-500, on=TODAY, actor=finance, reason="Fee")
    fields = refused_field(lambda: ledger.reverse(adjustment, reason="Wrong", actor=finance, on=date(2031, 1, 1)))
    assert "cannot be dated in the future" in fields["on"]


def test_a_reversal_is_dated_inside_the_period_of_the_entry_it_reverses(app, last_year, this_year, finance):
    adjustment = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    db.session.commit()
    with pytest.raises(InvalidInput) as refusal:
        ledger.reverse(adjustment, reason="Wrong", actor=finance, on=TODAY)
    assert "the period of the entry it reverses (2025-26)" in refusal.value.message
    assert "Between 01 Apr 2025 and 31 Mar 2026" in refusal.value.fields["on"]
    db.session.rollback()
    reversal = ledger.reverse(adjustment, reason="Wrong", actor=finance, on=date(2026, 3, 20))
    assert (reversal.entry_date, reversal.period_id) == (date(2026, 3, 20), last_year.id)


def test_reversing_last_years_entry_after_year_end_gives_the_money_back_to_last_year_on_its_last_day(
        app, last_year, this_year, finance):
    adjustment = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    reversal = ledger.reverse(adjustment, reason="Refunded", actor=finance)
    assert (reversal.entry_date, reversal.period_id) == (date(2026, 3, 31), last_year.id)
    assert ledger.available_pence(last_year) == 50_000
    assert ledger.available_pence(this_year) == 100_000


def test_once_last_years_final_month_is_closed_its_entries_are_reversed_only_after_an_admin_reopens_it(
        app, build, last_year, this_year, finance):
    adjustment = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    budget.close_month(date(2026, 3, 1), actor=finance)
    db.session.commit()
    with pytest.raises(PeriodClosed):
        ledger.reverse(adjustment, reason="Refunded", actor=finance)
    db.session.rollback()
    budget.reopen_month(date(2026, 3, 1), actor=build.user(roles=["admin"]), reason="Year-end correction")
    assert ledger.reverse(adjustment, reason="Refunded", actor=finance).entry_date == date(2026, 3, 31)


def test_last_years_commitment_released_after_year_end_is_released_on_its_last_day(
        app, last_year, this_year, finance):
    commitment = ledger.commit(1_000, on=date(2026, 3, 2), actor=finance, memo="PO", source_type="purchase_order",
                               source_id=1)
    release = ledger.release(commitment, on=TODAY, actor=finance, memo="PO closed")
    assert (release.entry_date, release.period_id) == (date(2026, 3, 31), last_year.id)
    assert ledger.summary(last_year).committed_pence == 0


def test_an_invoice_settling_last_years_commitment_posts_today_and_releases_last_year(
        app, last_year, this_year, finance, made_up_sources):
    commitment = ledger.commit(1_000, on=date(2026, 3, 2), actor=finance, memo="PO", source_type="purchase_order",
                               source_id=1)
    actual = ledger.post_actual(1_000, on=TODAY, actor=finance, memo="Invoice", source_type="invoice", source_id=1,
                                net_pence=1_000, vat_pence=0, releasing=commitment)
    release = db.session.scalar(select(LedgerEntry).where(LedgerEntry.settled_by_id == actual.id))
    assert (actual.entry_date, actual.period_id) == (TODAY, this_year.id)
    assert (release.entry_date, release.period_id) == (date(2026, 3, 31), last_year.id)
    reversal = ledger.reverse(actual, reason="Wrong supplier", actor=finance)
    undone = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == release.id))
    assert (reversal.entry_date, undone.entry_date) == (TODAY, date(2026, 3, 31))
    assert verify_ledger().ok


def test_verify_ledger_reports_an_entry_dated_outside_its_period(app, runner, this_year, finance):
    ledger.adjust(-500, on=TODAY, actor=finance, reason="Fee")
    db.session.commit()
    assert verify_ledger().ok
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET entry_date = :day WHERE kind = 'adjustment'"),
                           {"day": date(2027, 5, 1)})
        db.session.commit()
        result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 1
    assert "is dated 2027-05-01, outside its period 2026-27 (2026-04-01 to 2027-03-31)" in result.output
