"""Credit notes, refunds and invoice reversals through the API and the pages."""
import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry
from inventory.extensions import db
from inventory.procurement import invoices, orders
from inventory.procurement.models import PurchaseOrder, SupplierInvoice


@pytest.fixture
def invoiced(build):
    """A received order for 2 × (£10 + £2 VAT), invoiced in full: £24.00."""
    build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(name="Alarm"), 2, 1000, 200)])
    build.receipt(order)
    return order, build.invoice(order, number="INV-1")


def _credit_note(caller, invoice, *, number="CN-1", **amounts):
    return caller.post("/invoices", json={"kind": "credit_note", "invoice_id": invoice.id, "number": number,
                                          "invoice_date": clock.today().isoformat(), "reason": "Returned",
                                          **amounts})


def test_a_credit_beyond_what_was_invoiced_is_a_409_with_the_figures(api, invoiced):
    _, invoice = invoiced
    finance = api(roles=["finance"])
    assert _credit_note(finance, invoice, number="CN-1", net_pence=1000, vat_pence=200).status_code == 201
    refused = _credit_note(finance, invoice, number="CN-2", net_pence=500_000, vat_pence=0)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "credit_exceeds_invoiced"
    assert (error["details"]["invoiced_pence"], error["details"]["credited_pence"],
            error["details"]["creditable_pence"]) == (2400, 1200, 1200)


def test_a_credit_by_invoice_lines_through_the_api_is_bounded_per_line(api, invoiced):
    _, invoice = invoiced
    finance = api(roles=["finance"])
    line = invoice.lines[0]
    too_many = _credit_note(finance, invoice, lines=[
        {"invoice_line_id": line.id, "quantity": 3, "unit_net_pence": 100, "unit_vat_pence": 0}])
    assert too_many.status_code == 409 and too_many.get_json()["error"]["details"]["invoice_line_id"] == line.id
    done = _credit_note(finance, invoice, lines=[
        {"invoice_line_id": line.id, "quantity": 1, "unit_net_pence": 1000, "unit_vat_pence": 200}])
    assert done.status_code == 201
    assert done.get_json()["lines"][0]["credited_line_id"] == line.id


def test_a_credit_note_naming_an_invoice_of_another_order_is_a_422(api, build, invoiced):
    _, invoice = invoiced
    other = build.purchase_order()
    response = api(roles=["finance"]).post("/invoices", json={
        "kind": "credit_note", "invoice_id": invoice.id, "purchase_order_id": other.id, "number": "CN-1",
        "invoice_date": clock.today().isoformat(), "reason": "x", "net_pence": 100, "vat_pence": 0})
    assert response.status_code == 422 and "invoice_id" in response.get_json()["error"]["details"]["fields"]


def test_reversing_an_invoices_actual_through_the_api_reverses_the_invoice_and_reopens_the_order(api, build,
                                                                                                 invoiced):
    order, invoice = invoiced
    finance = api(roles=["finance"])
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    actual = invoices.document_entries(invoice)[0]
    response = finance.post(f"/ledger/entries/{actual.id}/reversal", json={"reason": "Wrong supplier"})
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(SupplierInvoice, invoice.id).status == "reversed"
    assert db.session.get(PurchaseOrder, order.id).status == "received"
    assert ledger.summary().committed_pence == 2400


def test_a_refund_of_a_direct_purchase_through_the_api_is_bounded_by_the_purchase(api, build):
    build.budget_period(allocated_pence=100_000)
    entry = build.direct_purchase(gross_pence=4500)
    finance = api(roles=["finance"])
    url = f"/ledger/direct-purchases/{entry.source_id}/refunds"
    body = {"date": clock.today().isoformat(), "vat_pence": 0, "reason": "Faulty lock taken back"}
    done = finance.post(url, json={**body, "net_pence": 3000})
    assert done.status_code == 201 and (done.get_json()["kind"], done.get_json()["amount_pence"]) == ("credit", 3000)
    refused = finance.post(url, json={**body, "net_pence": 1501})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "refund_exceeds_purchase"
    assert refused.get_json()["error"]["details"]["refundable_pence"] == 1500
    assert finance.post(url, json={**body, "net_pence": 0}).status_code == 422
    assert finance.post("/ledger/direct-purchases/999999/refunds", json={**body, "net_pence": 1}).status_code == 404
    assert api(roles=["coordinator"]).post(url, json={**body, "net_pence": 1}).status_code == 403


def test_finance_credits_a_chosen_invoice_on_the_order_page_and_a_credit_too_large_is_explained(client, login,
                                                                                                invoiced):
    order, invoice = invoiced
    login(roles=["finance"])
    page = client.get(f"/purchase-orders/{order.id}")
    assert b"Invoice it credits" in page.data and b"INV-1" in page.data
    form = {"invoice_id": invoice.id, "number": "CN-9", "invoice_date": clock.today().isoformat(),
            "reason": "Faulty"}
    too_much = client.post(f"/purchase-orders/{order.id}/credit-notes", data={**form, "net": "50.00", "vat": "0"},
                           follow_redirects=True)
    assert b"at most \xc2\xa324.00 more" in too_much.data
    assert db.session.scalar(select(SupplierInvoice).where(SupplierInvoice.number == "CN-9")) is None
    done = client.post(f"/purchase-orders/{order.id}/credit-notes", data={**form, "net": "10.00", "vat": "2.00"})
    assert done.status_code == 302
    note = db.session.scalar(select(SupplierInvoice).where(SupplierInvoice.number == "CN-9"))
    assert (note.credited_invoice_id, note.status) == (invoice.id, "posted")


def test_finance_records_a_refund_from_the_purchases_ledger_entry(client, login, build):
    build.budget_period(allocated_pence=100_000)
    entry = build.direct_purchase(gross_pence=4500)
    login(roles=["finance"])
    assert b"Record a refund" in client.get(f"/budget/ledger/{entry.id}").data
    url = f"/budget/direct-purchases/{entry.source_id}/refunds"
    assert client.get(url).status_code == 200
    form = {"refunded_on": clock.today().isoformat(), "vat": "0", "reason": "Returned unopened"}
    too_much = client.post(url, data={**form, "net": "50.00"})
    assert too_much.status_code == 422 and b"at most \xc2\xa345.00 more" in too_much.data
    assert client.post(url, data={**form, "net": "45.00"}).status_code == 302
    refund = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CREDIT))
    assert refund.source_id == db.session.get(DirectPurchase, entry.source_id).id
