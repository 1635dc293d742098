"""The dates rule through the API and the pages: a date after today, outside the entry's
period, or in a closed month is refused naming the field as each caller calls it."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.models import LedgerEntry
from inventory.extensions import db
from inventory.procurement import invoices
from inventory.procurement.models import SupplierInvoice

AHEAD = "2026-10-01"  # three and a half months after today


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
def period(build, finance):
    build.budget_period(starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31))  # next year's is open already
    return build.budget_period(allocated_pence=100_000, actor=finance)


@pytest.fixture
def order(build, period):
    order = build.purchase_order()
    build.receipt(order)
    return order


@pytest.fixture
def invoice(order, finance):
    """The order's goods, invoiced today at its price (a credit note needs an invoice to credit)."""
    posted = invoices.record_invoice(order, number="INV-1", invoice_date=date(2026, 6, 15), actor=finance, lines=[
        invoices.InvoiceLine(line.id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence)
        for line in order.lines])
    db.session.commit()
    return posted


def entry_count():
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def refused(response, field: str) -> str:
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = response.get_json()["error"]["details"]["fields"]
    assert set(fields) == {field}
    return fields[field]


# The API ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, field", [
    ("/ledger/adjustments", {"amount_pence": -100, "date": AHEAD, "reason": "Fee"}, "date"),
    ("/ledger/allocations", {"amount_pence": 100, "date": AHEAD}, "date"),
    ("/ledger/direct-purchases", {"supplier_name": "Shop", "purchased_on": AHEAD, "net_pence": 100, "vat_pence": 0,
                                  "gross_pence": 100, "receipt_reference": "R-1", "category": "locks"},
     "purchased_on"),
])
def test_ledger_postings_dated_ahead_are_422_naming_the_date(api, period, path, body, field):
    before = entry_count()
    message = refused(api(roles=["finance"]).post(path, json=body), field)
    assert "cannot be dated in the future" in message
    assert entry_count() == before


def test_an_invoice_dated_ahead_is_422_naming_invoice_date(api, order):
    line = order.lines[0]
    response = api(roles=["finance"]).post("/invoices", json={
        "purchase_order_id": order.id, "number": "INV-9", "invoice_date": AHEAD,
        "lines": [{"line_id": line.id, "quantity": 2, "unit_net_pence": 1000, "unit_vat_pence": 200}]})
    refused(response, "invoice_date")
    assert db.session.scalar(select(func.count()).select_from(SupplierInvoice)) == 0


def test_a_credit_note_dated_ahead_is_422_naming_invoice_date(api, invoice):
    response = api(roles=["finance"]).post("/invoices", json={
        "invoice_id": invoice.id, "kind": "credit_note", "number": "CN-9", "invoice_date": AHEAD,
        "net_pence": 500, "vat_pence": 0, "reason": "Late delivery"})
    refused(response, "invoice_date")


@pytest.mark.parametrize("day, message", [
    ("2031-01-01", "cannot be dated in the future"),
    ("2026-06-01", "Between 01 Apr 2025 and 31 Mar 2026"),
])
def test_a_reversal_dated_outside_the_reversed_entrys_period_is_422(api, last_year, period, finance, day, message):
    entry = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    db.session.commit()
    response = api(roles=["finance"]).post(f"/ledger/entries/{entry.id}/reversal", json={"reason": "Wrong",
                                                                                          "date": day})
    assert message in refused(response, "date")


def test_reversing_last_years_entry_once_its_final_month_is_closed_is_409_period_closed(api, last_year, period,
                                                                                       finance):
    entry = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    budget.close_month(date(2026, 3, 1), actor=finance)
    db.session.commit()
    response = api(roles=["finance"]).post(f"/ledger/entries/{entry.id}/reversal", json={"reason": "Refunded"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "period_closed"


def test_reversing_last_years_entry_through_the_api_lands_on_its_last_day(api, last_year, period, finance):
    entry = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    db.session.commit()
    response = api(roles=["finance"]).post(f"/ledger/entries/{entry.id}/reversal", json={"reason": "Refunded"})
    assert response.status_code == 201
    assert (response.get_json()["entry_date"], response.get_json()["period_id"]) == ("2026-03-31", last_year.id)


# The pages -------------------------------------------------------------------------------

@pytest.mark.parametrize("path, data", [
    ("/budget/adjustments/new", {"amount": "-1.00", "on": AHEAD, "reason": "Fee"}),
    ("/budget/allocations/new", {"amount": "1.00", "on": AHEAD}),
    ("/budget/direct-purchases/new", {"supplier_name": "Shop", "purchased_on": AHEAD, "net": "1.00", "vat": "0",
                                      "gross": "1.00", "receipt_reference": "R-1", "category": "Lock"}),
])
def test_pages_explain_a_date_ahead_at_the_field_and_write_nothing(client, login, period, path, data):
    login(roles=["finance"])
    before = entry_count()
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "Entries cannot be dated in the future (after 15 Jun 2026)." in response.get_data(as_text=True)
    assert entry_count() == before


def test_the_invoice_page_refuses_an_invoice_dated_ahead(client, login, order):
    login(roles=["finance"])
    line = order.lines[0]
    response = client.post(f"/purchase-orders/{order.id}/invoices", data={
        "number": "INV-5", "invoice_date": AHEAD, "lines-0-line_id": line.id, "lines-0-quantity": "2",
        "lines-0-unit_net": "10.00", "lines-0-unit_vat": "2.00"})
    assert response.status_code == 422
    assert "Entries cannot be dated in the future (after 15 Jun 2026)." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SupplierInvoice)) == 0


def test_the_credit_note_page_refuses_a_note_dated_ahead(client, login, order, invoice):
    login(roles=["finance"])
    response = client.post(f"/purchase-orders/{order.id}/credit-notes", data={
        "invoice_id": invoice.id, "number": "CN-5", "invoice_date": AHEAD, "net": "5.00", "vat": "0", "reason": "Late"})
    assert response.status_code == 422
    assert "Entries cannot be dated in the future (after 15 Jun 2026)." in response.get_data(as_text=True)


def test_the_entry_page_explains_that_last_years_closed_year_end_must_be_reopened_first(client, login, last_year,
                                                                                       period, finance):
    entry = ledger.adjust(-500, on=date(2026, 3, 10), actor=finance, reason="Fee")
    budget.close_month(date(2026, 3, 1), actor=finance)
    db.session.commit()
    login(finance)
    response = client.post(f"/budget/ledger/{entry.id}/reverse", data={"reason": "Refunded"})
    assert response.status_code == 409
    assert "March 2026 is closed: nothing may be dated inside it." in response.get_data(as_text=True)
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id)) is None
