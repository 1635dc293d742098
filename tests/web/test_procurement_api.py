import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.extensions import db
from inventory.stock.models import Item


@pytest.fixture
def funded(build):
    return build.budget_period(allocated_pence=100_000)


def _create(caller, supplier, item_type, quantity=2, net=1000, vat=200):
    return caller.post("/purchase-orders", json={
        "supplier_id": supplier.id,
        "lines": [{"item_type_id": item_type.id, "quantity": quantity, "unit_net_pence": net, "unit_vat_pence": vat}]})


def test_an_order_is_created_raised_received_and_invoiced_through_the_api(api, build, funded):
    supplier, alarm, store = build.supplier(), build.item_type(name="Alarm"), build.location()
    # One caller: the test client shares flask.g across requests in a test, so the first
    # token's user would stick.
    coordinator = finance = api(roles=["coordinator", "finance"])
    created = _create(coordinator, supplier, alarm)
    assert created.status_code == 201
    order = created.get_json()
    assert (order["status"], order["gross_pence"]) == ("draft", 2400)
    raised = coordinator.post(f"/purchase-orders/{order['id']}/raise").get_json()
    assert raised["status"] == "raised" and ledger.available_pence(funded) == 100_000 - 2400
    line_id = order["lines"][0]["id"]
    part = coordinator.post(f"/purchase-orders/{order['id']}/receipts", json={
        "location_id": store.id, "lines": [{"line_id": line_id, "quantity": 1, "serial_numbers": ["SN-A"]}]})
    assert part.status_code == 201
    assert part.get_json()["purchase_order_status"] == "partly_received"
    assert part.get_json()["items"][0]["serial_number"] == "SN-A"
    rest = coordinator.post(f"/purchase-orders/{order['id']}/receipts", json={"location_id": store.id})
    assert rest.get_json()["purchase_order_status"] == "received" and len(rest.get_json()["items"]) == 1
    invoice = finance.post("/invoices", json={
        "purchase_order_id": order["id"], "number": "INV-77", "invoice_date": clock.today().isoformat(),
        "lines": [{"line_id": line_id, "quantity": 2, "unit_net_pence": 1000, "unit_vat_pence": 200}]})
    assert invoice.status_code == 201 and invoice.get_json()["status"] == "posted"
    db.session.expire_all()
    assert ledger.summary(funded).actual_pence == 2400


def test_raising_over_budget_is_a_409_with_the_shortfall(api, build):
    build.budget_period(allocated_pence=1000)
    caller = api(roles=["coordinator"])
    order = _create(caller, build.supplier(), build.item_type()).get_json()
    refused = caller.post(f"/purchase-orders/{order['id']}/raise")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "budget_exceeded" and error["details"]["shortfall_pence"] == 1400


@pytest.mark.parametrize("quantity", [0, -1, 1_000_000, "2", None])
def test_order_quantities_that_are_zero_negative_absurd_or_not_whole_are_a_422(api, build, quantity):
    response = _create(api(roles=["coordinator"]), build.supplier(), build.item_type(), quantity=quantity)
    assert response.status_code == 422
    assert "lines[0].quantity" in response.get_json()["error"]["details"]["fields"]


def test_receiving_more_than_ordered_through_the_api_is_a_422(api, build, funded):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    response = api(roles=["coordinator"]).post(f"/purchase-orders/{order.id}/receipts", json={
        "location_id": build.location().id, "lines": [{"line_id": order.lines[0].id, "quantity": 5}]})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "more_than_ordered"


def test_a_duplicate_serial_through_the_api_is_a_422_naming_the_line(api, build, funded):
    alarm = build.item_type()
    build.item(item_type=alarm, serial_numbers=["DUP"])
    order = build.purchase_order(lines=[(alarm, 1, 1000, 200)])
    response = api(roles=["coordinator"]).post(f"/purchase-orders/{order.id}/receipts", json={
        "location_id": build.location().id,
        "lines": [{"line_id": order.lines[0].id, "quantity": 1, "serial_numbers": ["DUP"]}]})
    assert response.status_code == 422
    assert "lines[0].serial_numbers" in response.get_json()["error"]["details"]["fields"]


def test_an_invoice_outside_tolerance_awaits_finances_approval_with_a_reason(api, build, funded):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    finance = api(roles=["finance"])
    body = finance.post("/invoices", json={
        "purchase_order_id": order.id, "number": "INV-9", "invoice_date": clock.today().isoformat(),
        "lines": [{"line_id": order.lines[0].id, "quantity": 2, "unit_net_pence": 1500, "unit_vat_pence": 300}]
    }).get_json()
    assert body["status"] == "awaiting_approval" and body["mismatches"]
    assert finance.post(f"/invoices/{body['id']}/approval", json={"reason": ""}).status_code == 422
    approved = finance.post(f"/invoices/{body['id']}/approval", json={"reason": "Price rise agreed"})
    assert approved.status_code == 200 and approved.get_json()["status"] == "posted"
    again = finance.post(f"/invoices/{body['id']}/approval", json={"reason": "again"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_decided")


def test_a_credit_note_through_the_api_names_the_invoice_it_credits(api, build, funded):
    order = build.purchase_order()
    build.receipt(order)
    invoice = build.invoice(order)
    response = api(roles=["finance"]).post("/invoices", json={
        "purchase_order_id": order.id, "invoice_id": invoice.id, "kind": "credit_note", "number": "CN-1",
        "invoice_date": clock.today().isoformat(), "net_pence": 500, "vat_pence": 100, "reason": "Late delivery"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["kind"], body["credited_invoice_id"], body["status"]) == ("credit_note", invoice.id, "posted")
    assert len(body["ledger_entry_ids"]) == 1


def test_a_credit_note_without_the_invoice_it_credits_is_a_422_naming_it(api, build, funded):
    order = build.purchase_order()
    build.receipt(order)
    build.invoice(order)
    response = api(roles=["finance"]).post("/invoices", json={
        "purchase_order_id": order.id, "kind": "credit_note", "number": "CN-1",
        "invoice_date": clock.today().isoformat(), "net_pence": 500, "vat_pence": 100, "reason": "Late delivery"})
    assert response.status_code == 422
    assert "invoice_id" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("role, create, receive, invoice", [
    ("coordinator", 201, 201, 403), ("finance", 201, 403, 201), ("admin", 403, 403, 403),
    ("fitter", 403, 403, 403), ("caseworker", 403, 403, 403), ("auditor", 403, 403, 403),
])
def test_procurement_permissions_by_role(api, build, funded, role, create, receive, invoice):
    caller = api(roles=[role])
    assert _create(caller, build.supplier(), build.item_type()).status_code == create
    order = build.purchase_order()
    assert caller.post(f"/purchase-orders/{order.id}/receipts",
                       json={"location_id": build.location().id}).status_code == receive
    response = caller.post("/invoices", json={
        "purchase_order_id": order.id, "number": f"INV-{role}", "invoice_date": clock.today().isoformat(),
        "lines": [{"line_id": order.lines[0].id, "quantity": 1, "unit_net_pence": 1000, "unit_vat_pence": 200}]})
    assert response.status_code == invoice


def test_bad_bodies_are_422_not_500(api, build):
    caller = api(roles=["finance"])
    assert caller.post("/purchase-orders", json=["x"]).status_code == 422
    assert caller.post("/purchase-orders", json={"supplier_id": 999, "lines": []}).status_code == 422
    assert caller.post("/invoices", json={"purchase_order_id": "x"}).status_code == 422
    assert caller.post("/invoices", json={"purchase_order_id": 999, "number": "A", "invoice_date": "2026-01-01",
                                          "lines": []}).status_code == 404
    assert caller.post("/purchase-orders/999/raise").status_code == 404


def test_a_credit_note_for_nothing_is_a_422_not_a_500(api, build, funded):
    order = build.purchase_order()
    build.receipt(order)
    invoice = build.invoice(order)
    response = api(roles=["finance"]).post("/invoices", json={
        "invoice_id": invoice.id, "kind": "credit_note", "number": "CN-0",
        "invoice_date": clock.today().isoformat(), "net_pence": 0, "vat_pence": 0, "reason": "Nothing"})
    assert response.status_code == 422
    assert "net_pence" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"kind": "receipt"}, "kind"),
    ({"purchase_order_id": 2**63}, "purchase_order_id"),
    ({"lines": [{"line_id": 1, "quantity": 1, "unit_net_pence": -5}]}, "lines[0].unit_net_pence"),
    ({"lines": [{"line_id": 1, "quantity": 1, "unit_net_pence": 100, "unit_vat_pence": "20"}]},
     "lines[0].unit_vat_pence"),
])
def test_a_bad_invoice_field_is_a_422_naming_it(api, body, field):
    response = api(roles=["finance"]).post("/invoices", json={
        "purchase_order_id": 1, "number": "INV-1", "invoice_date": "2026-01-01", "lines": [], **body})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_serial_numbers_that_are_not_a_list_of_text_are_a_422_naming_the_line(api, build, funded):
    order = build.purchase_order()
    response = api(roles=["coordinator"]).post(f"/purchase-orders/{order.id}/receipts", json={
        "location_id": build.location().id, "lines": [{"line_id": order.lines[0].id, "quantity": 1,
                                                        "serial_numbers": "SN-1"}]})
    assert response.status_code == 422
    assert "lines[0].serial_numbers" in response.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(select(func.count(Item.id))) == 0
