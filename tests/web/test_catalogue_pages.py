import pytest
from sqlalchemy import select

from inventory.budget.models import BudgetCategory
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.extensions import db

CATALOGUE_PAGES = ["/catalogue/item-types", "/catalogue/item-types/new", "/catalogue/suppliers",
                   "/catalogue/suppliers/new"]


@pytest.mark.parametrize("path", CATALOGUE_PAGES)
@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("coordinator", 403), ("caseworker", 403), ("fitter", 403), ("finance", 403), ("auditor", 403),
])
def test_only_admins_manage_the_catalogue(client, login, path, role, status):
    login(roles=[role])
    assert client.get(path).status_code == status


def test_an_admin_adds_an_item_type_with_an_other_category(client, login):
    login(roles=["admin"])
    lock = db.session.scalar(select(BudgetCategory).where(BudgetCategory.name == "Lock"))
    door_chain = {"name": "Door chain", "category": "other", "other_category": "Door security",
                  "standard_cost": "12.50", "reorder_level": "4", "loaned": "", "active": "y"}
    refused = client.post("/catalogue/item-types/new", data=door_chain)
    assert refused.status_code == 422 and b"No budget category is named Door security" in refused.data
    response = client.post("/catalogue/item-types/new", data={**door_chain, "budget_category_id": str(lock.id)})
    assert response.status_code == 302
    item_type = db.session.scalar(select(ItemType).where(ItemType.name == "Door chain"))
    assert (item_type.category_label, item_type.standard_cost_pence, item_type.loaned) == ("Door security", 1250, False)
    assert item_type.budget_category.name == "Lock"
    assert b"Door security" in client.get("/catalogue/item-types").data


def test_an_item_type_is_charged_to_the_budget_category_named_as_its_kind_unless_another_is_chosen(client, login):
    login(roles=["admin"])
    page = client.get("/catalogue/item-types/new").get_data(as_text=True)
    assert "Budget category" in page and ">PIR light</option>" in page
    response = client.post("/catalogue/item-types/new", data={
        "name": "Solar light", "category": "pir_light", "standard_cost": "20", "reorder_level": "1", "active": "y"})
    assert response.status_code == 302
    light = db.session.scalar(select(ItemType).where(ItemType.name == "Solar light"))
    assert light.budget_category.name == "PIR light"


@pytest.mark.parametrize("data, field, message", [
    ({"category": "other", "other_category": ""}, "other_category", b"Enter the name of the category"),
    ({"standard_cost": "-3"}, "standard_cost", b"must not be negative"),
    ({"standard_cost": "1.234"}, "standard_cost", b"two decimal places"),
    ({"reorder_level": "-1"}, "reorder_level", b"Number must be between"),
    ({"reorder_level": "99999999"}, "reorder_level", b"Number must be between"),
    ({"name": ""}, "name", b"This field is required"),
])
def test_bad_item_type_input_is_shown_at_the_field(client, login, data, field, message):
    login(roles=["admin"])
    form = {"name": "Alarm", "category": "personal_alarm", "standard_cost": "10", "reorder_level": "1", **data}
    response = client.post("/catalogue/item-types/new", data=form)
    assert response.status_code == 422
    assert message in response.data
    assert db.session.scalar(select(ItemType.id)) is None


def test_a_duplicate_item_type_name_is_refused(client, login, build):
    build.item_type(name="Personal alarm")
    login(roles=["admin"])
    response = client.post("/catalogue/item-types/new", data={
        "name": "personal ALARM", "category": "personal_alarm", "standard_cost": "10", "reorder_level": "1"})
    assert response.status_code == 422 and b"Already in use" in response.data


def test_an_admin_records_a_suppliers_product_code_for_an_item_type(client, login, build):
    item_type = build.item_type(name="Camera doorbell", category="camera_doorbell")
    supplier = build.supplier(name="Acme Safety")
    other = build.item_type(name="PIR light", category="pir_light")
    login(roles=["admin"])
    url = f"/catalogue/item-types/{item_type.id}/product-codes"
    assert client.post(url, data={"supplier_id": supplier.id, "product_code": "DB-200"}).status_code == 302
    clash = client.post(f"/catalogue/item-types/{other.id}/product-codes",
                        data={"supplier_id": supplier.id, "product_code": "DB-200"})
    assert clash.status_code == 422 and b"Already used for another item type" in clash.data
    codes = db.session.scalars(select(SupplierProductCode)).all()
    assert [(c.item_type_id, c.product_code) for c in codes] == [(item_type.id, "DB-200")]
    assert b"DB-200" in client.get(f"/catalogue/item-types/{item_type.id}").data


def test_an_admin_adds_and_edits_a_supplier(client, login):
    login(roles=["admin"])
    assert client.post("/catalogue/suppliers/new", data={
        "name": "Northern Locks Ltd", "email": "orders@northernlocks.example", "phone": "0100 000 0000",
        "active": "y"}).status_code == 302
    supplier = db.session.scalar(select(Supplier))
    assert client.post(f"/catalogue/suppliers/{supplier.id}", data={
        "name": "Northern Locks Limited", "email": "not-an-email", "active": "y"}).status_code == 422
    assert client.post(f"/catalogue/suppliers/{supplier.id}", data={
        "name": "Northern Locks Limited", "email": "", "active": "y"}).status_code == 302
    db.session.refresh(supplier)
    assert supplier.name == "Northern Locks Limited" and supplier.email is None
