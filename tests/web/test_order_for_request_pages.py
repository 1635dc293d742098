import pytest
from sqlalchemy import func, select

from inventory.budget.models import EntryKind, LedgerEntry
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder
from inventory.procurement import orders
from inventory.procurement.orders import OrderLine
from inventory.requests import holdings
from tests.support import recorded_statements


def test_a_coordinator_drafts_an_order_for_what_a_request_awaits_and_raising_it_converts(client, login, build):
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)])
    supplier = build.supplier(name="Brightwell")
    login(build.user(roles=["coordinator"]))
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Draft a purchase order" in page and "3 × Personal alarm" in page and "Brightwell" in page
    assert "Suggested purchase order lines" in page
    response = client.post(f"/requests/{request.id}/purchase-order", data={"supplier_id": str(supplier.id)})
    assert response.status_code == 302
    order = db.session.scalar(select(PurchaseOrder))
    assert response.headers["Location"].endswith(f"/purchase-orders/{order.id}")
    assert order.status == "draft" and order.supplier_id == supplier.id
    assert [(line.item_type_id, line.quantity_ordered, line.unit_net_pence, line.unit_vat_pence,
             line.request_line_id) for line in order.lines] == [(alarm.id, 3, 2500, 0, request.lines[0].id)]
    page = client.get(f"/purchase-orders/{order.id}").get_data(as_text=True)
    assert f"Request {request.id} · case {request.case.reference}" in page
    assert request.case.name not in page
    assert client.post(f"/purchase-orders/{order.id}/raise").status_code == 302
    assert holdings.open_pence(request, alarm.category_label) == 0


@pytest.mark.parametrize("supplier_id, message", [
    ("", "Choose a supplier."), ("0", "Choose a supplier."), ("abc", "Choose a supplier."),
    ("999999", "Not a valid choice"), ("inactive", "Not a valid choice"),
])
def test_a_bad_supplier_is_shown_on_the_form_and_nothing_is_drafted(client, login, build, supplier_id, message):
    request = build.awaiting_request()
    if supplier_id == "inactive":
        supplier_id = str(build.supplier(active=False).id)
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{request.id}/purchase-order", data={"supplier_id": supplier_id})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0


def test_a_request_whose_shortfall_is_all_on_order_offers_no_draft_and_refuses_one(client, login, build):
    request = build.awaiting_request()
    supplier = build.supplier()
    build.order_for_request(request)
    login(build.user(roles=["coordinator"]))
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Suggested purchase order lines" not in page and "Draft a purchase order" not in page
    response = client.post(f"/requests/{request.id}/purchase-order", data={"supplier_id": str(supplier.id)},
                           follow_redirects=True)
    assert "Everything this request awaits is already on order." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 1


def test_a_caseworker_sees_no_draft_action_and_may_not_post_one(client, login, build):
    request = build.awaiting_request()
    supplier = build.supplier()
    login(request.raised_by)
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Suggested purchase order lines" in page and "Draft a purchase order" not in page
    response = client.post(f"/requests/{request.id}/purchase-order", data={"supplier_id": str(supplier.id)})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0


def test_raising_an_order_refused_for_want_of_budget_leaves_the_requests_commitment_as_it_was(client, login,
                                                                                               build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)], budget_pence=5500)
    order = build.order_for_request(request, unit_net_pence=2500, unit_vat_pence=500, raised=False)
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/purchase-orders/{order.id}/raise", follow_redirects=True)
    assert b"short by" in response.data
    db.session.expire_all()
    assert holdings.open_pence(request, alarm.category_label) == 5000
    assert db.session.get(PurchaseOrder, order.id).status == "draft"
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.kind == EntryKind.RELEASE)) == 0


def _order_for_requests(build, count):
    """A draft order with one line for each of `count` requests awaiting stock."""
    lines = []
    for _ in range(count):
        alarm = build.item_type(standard_cost_pence=2500)
        waiting = build.awaiting_request(lines=[(alarm, 1)])
        lines.append(OrderLine(alarm.id, 1, 2500, request_line_id=waiting.lines[0].id))
    lines.append(OrderLine(build.item_type().id, 2, 1000))  # one for stock
    order = orders.create_purchase_order(supplier=build.supplier(), lines=lines,
                                         actor=build.user(roles=["coordinator"]))
    db.session.commit()
    return order


def test_the_order_page_names_each_lines_request_in_the_same_few_queries_however_many_requests(client, login,
                                                                                                build):
    one, four = _order_for_requests(build, 1), _order_for_requests(build, 4)
    login(build.user(roles=["coordinator"]))
    counts = []
    for order in (one, four):
        with recorded_statements(selects_only=True) as statements:
            page = client.get(f"/purchase-orders/{order.id}").get_data(as_text=True)
        counts.append(len(statements))
        for line in order.lines:
            if line.request_line_id is not None:
                assert f"Request {line.request_line.request_id} · case" in page
        assert "Stock" in page
    assert counts[0] == counts[1]
