"""Year end: what is still committed when a budget period ends is carried into the next
one, so closing the old year's last month never leaves money stuck in it, and the invoices
and goods that come later settle the new year's commitment."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger, operations as budget, year_end
from inventory.budget.ledger import BudgetExceeded
from inventory.budget.models import LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.procurement import invoices, orders
from inventory.requests.holdings import open_pence
from inventory.stock.receiving import NewUnits, receive_units

FEBRUARY = datetime(2026, 2, 10, 12, 0)
APRIL = datetime(2026, 4, 15, 12, 0)


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def years(build, finance):
    last = build.budget_period(starts_on=date(2025, 4, 1), ends_on=date(2026, 3, 31), allocated_pence=100_000,
                               actor=finance)
    this = build.budget_period(starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31), allocated_pence=50_000,
                               actor=finance)
    return last, this


def committed(period) -> int:
    return ledger.summary(period).committed_pence


def test_an_order_raised_before_year_end_is_carried_forward_and_its_april_invoice_settles_it(build, years, finance):
    last, this = years
    with clock.frozen_at(FEBRUARY):
        order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    assert committed(last) == 2400
    with clock.frozen_at(APRIL):
        with pytest.raises(Conflict) as refused:
            budget.close_month(date(2026, 3, 1), actor=finance)
        assert refused.value.code == "open_commitments" and "£24.00 is still committed in 2025-26" in refused.value.message
        db.session.rollback()

        carried = year_end.carry_forward(last, actor=finance)
        db.session.commit()
        assert (carried.commitments, carried.pence, carried.into.id) == (1, 2400, this.id)
        assert (committed(last), committed(this)) == (0, 2400)
        budget.close_month(date(2026, 3, 1), actor=finance)
        db.session.commit()

        build.receipt(order)
        invoice = invoices.record_invoice(order, number="INV-APR", invoice_date=clock.today(), actor=finance, lines=[
            invoices.InvoiceLine(line.id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence)
            for line in order.lines])
        db.session.commit()
        assert invoice.status == "posted"
        assert (committed(last), committed(this), orders.committed_pence(order)) == (0, 0, 0)
        assert ledger.summary(this).actual_pence == 2400
        assert verify_ledger().ok, verify_ledger().problems


def test_a_request_awaiting_stock_is_carried_forward_and_released_when_its_goods_arrive(build, years, finance):
    last, this = years
    alarm = build.item_type(standard_cost_pence=2500)
    with clock.frozen_at(FEBRUARY):
        request = build.awaiting_request(lines=[(alarm, 2)])
    assert committed(last) == 5000
    with clock.frozen_at(APRIL):
        year_end.carry_forward(last, actor=finance)
        db.session.commit()
        assert (committed(last), committed(this)) == (0, 5000)
        category = alarm.budget_category.name
        assert open_pence(request, category) == 5000
        receive_units(NewUnits(item_type=alarm, quantity=1, location=build.location()), actor=finance)
        db.session.commit()  # one unit arrives: its cost comes back from this year's commitment
        assert (committed(last), committed(this)) == (0, 2500)
        assert verify_ledger().ok, verify_ledger().problems


def test_carrying_forward_more_than_the_new_year_holds_is_refused_and_changes_nothing(build, years, finance):
    last, this = years
    with clock.frozen_at(FEBRUARY):
        build.purchase_order(lines=[(build.item_type(), 5, 10_000, 2_000)])  # £600 committed last year
    with clock.frozen_at(APRIL):
        ledger.adjust(-45_000, on=clock.today(), actor=finance, reason="Spent elsewhere")
        db.session.commit()
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        with pytest.raises(BudgetExceeded) as refused:
            year_end.carry_forward(last, actor=finance)
        db.session.rollback()
        assert refused.value.details["needed_pence"] == 60_000
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
        assert committed(last) == 60_000


@pytest.mark.parametrize("moment, code", [(FEBRUARY, "period_not_ended"), (APRIL, "nothing_open")])
def test_carrying_forward_a_period_not_ended_or_with_nothing_open_is_refused(build, years, finance, moment, code):
    last, _ = years
    with clock.frozen_at(moment), pytest.raises(Conflict) as refused:
        year_end.carry_forward(last, actor=finance)
    assert refused.value.code == code


def test_the_month_close_page_offers_the_carry_forward_and_explains_a_refused_close(build, client, login, years,
                                                                                    finance):
    last, this = years
    with clock.frozen_at(FEBRUARY):
        build.purchase_order(lines=[(build.item_type(), 1, 1000, 0)])
    login(finance)
    with clock.frozen_at(APRIL):
        refused = client.post("/budget/months/2026-03/close", follow_redirects=True)
        assert refused.status_code == 200
        page = refused.get_data(as_text=True)
        assert "£10.00 is still committed in 2025-26" in page and "Carry £10.00 forward" in page
        done = client.post(f"/budget/periods/{last.id}/carry-forward", follow_redirects=True)
        assert "£10.00 in 1 commitment(s) carried forward from 2025-26 into 2026-27." in done.get_data(as_text=True)
        assert client.post("/budget/months/2026-03/close", follow_redirects=True).status_code == 200
        assert ledger.is_month_closed(date(2026, 3, 1))


def test_the_api_carries_forward_and_answers_a_second_try_with_nothing_open(build, api, years, finance):
    last, this = years
    with clock.frozen_at(FEBRUARY):
        build.purchase_order(lines=[(build.item_type(), 1, 1000, 0)])
    caller = api(user=finance)
    with clock.frozen_at(APRIL):
        first = caller.post(f"/budget/periods/{last.id}/carry-forward")
        assert first.status_code == 200
        assert first.get_json() == {"period_id": last.id, "into_period_id": this.id, "commitments": 1,
                                    "carried_pence": 1000}
        again = caller.post(f"/budget/periods/{last.id}/carry-forward")
        assert (again.status_code, again.get_json()["error"]["code"]) == (409, "nothing_open")
