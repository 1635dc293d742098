"""Low stock on the pages: the stock page's "Low" and the API's below_reorder count units on
order, and the suggested orders page turns its lines into a draft order in one click."""
import pytest
from sqlalchemy import func, select

from inventory.budget.models import LedgerEntry
from inventory.catalogue.operations import set_product_code
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder


def test_stock_on_order_keeps_a_type_from_showing_low_on_the_page_and_in_the_api(client, login, api, build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    build.items(1, item_type=alarm)
    build.purchase_order(lines=[(alarm, 4, 1000, 0)])
    row = api(roles=["coordinator"]).get("/stock").get_json()["items"][0]
    assert (row["in_stock"], row["on_order"], row["below_reorder"]) == (1, 4, False)
    login(roles=["coordinator"])
    html = client.get("/stock/").get_data(as_text=True)
    assert "row--low" not in html and "Suggested orders" not in html


def test_the_stock_page_links_a_low_type_to_the_suggested_orders(client, login, build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    build.items(1, item_type=alarm)
    build.purchase_order(lines=[(alarm, 1, 1000, 0)])
    login(roles=["coordinator"])
    html = client.get("/stock/").get_data(as_text=True)
    assert "row--low" in html and 'href="/purchase-orders/reorder"' in html


def test_the_suggestions_page_groups_lines_by_the_supplier_with_the_product_code(client, login, build):
    alarm = build.item_type(name="Personal alarm", reorder_level=2, standard_cost_pence=1500)
    build.item_type(name="Window alarm", reorder_level=1, standard_cost_pence=800)
    maker = build.supplier(name="Alarm maker")
    set_product_code(alarm, maker, "AL-1")
    db.session.commit()
    login(roles=["coordinator"])
    html = client.get("/purchase-orders/reorder").get_data(as_text=True)
    assert "Alarm maker" in html and "No supplier has a product code for these" in html
    assert "£60.00" in html and "£16.00" in html  # 4 × £15 and 2 × £8


def test_one_click_drafts_the_order_and_leads_to_it(client, login, build):
    alarm = build.item_type(name="Personal alarm", reorder_level=2, standard_cost_pence=1500)
    maker = build.supplier(name="Alarm maker")
    set_product_code(alarm, maker, "AL-1")
    db.session.commit()
    login(roles=["coordinator"])
    response = client.post("/purchase-orders/reorder",
                           data={"supplier_id": str(maker.id), "item_type_ids": [str(alarm.id)]})
    order = db.session.scalar(select(PurchaseOrder))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/purchase-orders/{order.id}")
    assert (order.status, order.supplier_id) == ("draft", maker.id)
    assert [(line.item_type_id, line.quantity_ordered, line.unit_net_pence, line.supplier_product_code)
            for line in order.lines] == [(alarm.id, 4, 1500, "AL-1")]
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    page = client.get("/purchase-orders/reorder").get_data(as_text=True)
    assert "disabled" in page  # already on the draft: nothing left to order


def test_a_second_click_drafts_nothing_more(client, login, build):
    alarm = build.item_type(reorder_level=2)
    supplier = build.supplier()
    login(roles=["coordinator"])
    data = {"supplier_id": str(supplier.id), "item_type_ids": [str(alarm.id)]}
    client.post("/purchase-orders/reorder", data=data)
    response = client.post("/purchase-orders/reorder", data=data, follow_redirects=True)
    assert "already on a draft order" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 1


def test_drafting_needs_a_supplier(client, login, build):
    alarm = build.item_type(reorder_level=2)
    login(roles=["coordinator"])
    response = client.post("/purchase-orders/reorder", data={"supplier_id": "0", "item_type_ids": [str(alarm.id)]},
                           follow_redirects=True)
    assert "Choose a supplier." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0


@pytest.mark.parametrize("role, status", [
    ("coordinator", 200), ("finance", 200), ("admin", 403), ("caseworker", 403), ("fitter", 403), ("auditor", 403),
])
def test_the_suggestions_page_is_for_those_who_manage_orders(client, login, role, status):
    login(roles=[role])
    assert client.get("/purchase-orders/reorder").status_code == status
