import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder, SupplierInvoice
from inventory.stock.models import Item
from tests.support import recorded_selects


@pytest.mark.parametrize("role, status", [("coordinator", 200), ("finance", 200), ("admin", 403),
                                          ("fitter", 403), ("caseworker", 403), ("auditor", 403)])
def test_purchase_order_pages_by_role(client, login, build, role, status):
    order = build.purchase_order(raised=False)
    login(roles=[role])
    for path in ("/purchase-orders/", "/purchase-orders/new", f"/purchase-orders/{order.id}"):
        assert client.get(path).status_code == status, path


def test_a_coordinator_drafts_an_order_with_the_lines_filled_in(client, login, build):
    supplier, alarm = build.supplier(name="Brightwell"), build.item_type(name="Alarm")
    login(roles=["coordinator"])
    response = client.post("/purchase-orders/new", data={
        "supplier_id": supplier.id,
        "lines-0-item_type_id": alarm.id, "lines-0-quantity": "5", "lines-0-unit_net": "10.00",
        "lines-0-unit_vat": "2.00", "lines-1-item_type_id": "0", "lines-1-quantity": "", "lines-1-unit_net": "",
    })
    assert response.status_code == 302
    order = db.session.scalar(select(PurchaseOrder))
    assert (order.status, order.gross_pence, len(order.lines)) == ("draft", 6000, 1)


@pytest.mark.parametrize("quantity, net, message", [
    ("0", "10", b"Number must be between 1 and 1000"),
    ("-4", "10", b"Number must be between 1 and 1000"),
    ("5000", "10", b"Number must be between 1 and 1000"),
    ("2", "", b"Enter a price"),
    ("2", "1.999", b"two decimal places"),
])
def test_bad_order_lines_are_shown_at_the_field(client, login, build, quantity, net, message):
    supplier, alarm = build.supplier(), build.item_type()
    login(roles=["coordinator"])
    response = client.post("/purchase-orders/new", data={
        "supplier_id": supplier.id, "lines-0-item_type_id": alarm.id, "lines-0-quantity": quantity,
        "lines-0-unit_net": net})
    assert response.status_code == 422 and message in response.data
    assert db.session.scalar(select(PurchaseOrder.id)) is None


def test_raising_over_budget_says_by_how_much(client, login, build):
    build.budget_period(allocated_pence=1000)
    order = build.purchase_order(lines=[(build.item_type(), 1, 1500, 300)], raised=False)
    login(roles=["coordinator"])
    page = client.post(f"/purchase-orders/{order.id}/raise", follow_redirects=True)
    assert b"short by \xc2\xa38.00" in page.data
    db.session.expire_all()
    assert db.session.get(PurchaseOrder, order.id).status == "draft"


def test_receiving_on_the_page_goes_on_to_print_the_labels(client, login, build):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    store = build.location()
    login(roles=["coordinator"])
    line = order.lines[0]
    response = client.post(f"/purchase-orders/{order.id}/receipts", data={
        "location_id": store.id, "lines-0-line_id": line.id, "lines-0-quantity": "1",
        "lines-0-serial_numbers": "SER-1\n"})
    assert response.status_code == 302 and "/stock/labels/print?receipt=" in response.headers["Location"]
    assert db.session.scalar(select(Item.serial_number)) == "SER-1"
    more = client.post(f"/purchase-orders/{order.id}/receipts", data={
        "location_id": store.id, "lines-0-line_id": line.id, "lines-0-quantity": "3"})
    assert more.status_code == 422 and b"more than was ordered" in more.data
    everything = client.post(f"/purchase-orders/{order.id}/receipts", data={
        "location_id": store.id, "everything": "1", "lines-0-line_id": line.id})
    assert everything.status_code == 302
    assert db.session.scalar(select(func.count(Item.id))) == 2


def test_finance_records_an_invoice_outside_tolerance_then_approves_it(client, login, build):
    build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(name="Doorbell"), 1, 8000, 1600)])
    build.receipt(order)
    login(roles=["finance"])
    line = order.lines[0]
    response = client.post(f"/purchase-orders/{order.id}/invoices", data={
        "number": "INV-5", "invoice_date": clock.today().isoformat(), "lines-0-line_id": line.id,
        "lines-0-quantity": "1", "lines-0-unit_net": "90.00", "lines-0-unit_vat": "18.00"}, follow_redirects=True)
    assert b"waits for finance" in response.data and b"beyond the 2% tolerance" in response.data
    invoice = db.session.scalar(select(SupplierInvoice))
    assert client.post(f"/purchase-orders/{order.id}/invoices/{invoice.id}/approve",
                       data={"reason": ""}).status_code == 422
    assert client.post(f"/purchase-orders/{order.id}/invoices/{invoice.id}/approve",
                       data={"reason": "New price list"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(SupplierInvoice, invoice.id).status == "posted"


def test_the_order_list_pages_without_a_query_per_row(client, login, build):
    supplier = build.supplier()
    for _ in range(4):
        build.purchase_order(supplier=supplier, raised=False)
    login(roles=["coordinator"])
    with recorded_selects() as few:
        client.get("/purchase-orders/?per_page=1")
    with recorded_selects() as many:
        client.get("/purchase-orders/?per_page=4")
    assert len(many) == len(few)
