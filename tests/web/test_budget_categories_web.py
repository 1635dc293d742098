"""The budget categories page, the list in the API, and picking from it on finance forms."""
import pytest
from sqlalchemy import func, select

from inventory.budget.models import BudgetCategory, LedgerEntry
from inventory.extensions import db


def named(name: str) -> BudgetCategory:
    return db.session.scalar(select(BudgetCategory).where(BudgetCategory.name == name))


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=1_500_000)


@pytest.mark.parametrize("role, status", [
    ("finance", 200), ("admin", 200), ("coordinator", 403), ("auditor", 403), ("caseworker", 403), ("fitter", 403),
])
def test_finance_and_admins_manage_the_list_of_categories(client, login, role, status):
    login(roles=[role])
    response = client.get("/budget/categories")
    assert response.status_code == status
    if status == 200:
        assert b"PIR light" in response.data and b"Bank charges" in response.data


def test_finance_adds_renames_and_deactivates_a_category(client, login, build):
    login(roles=["finance"])
    added = client.post("/budget/categories", data={"name": "Door  security"}, follow_redirects=True)
    assert b"Added the category Door security." in added.data
    door = named("Door security")
    too_close = client.post("/budget/categories", data={"name": "door Security"})
    assert too_close.status_code == 422 and "Too close to “Door security”" in too_close.get_data(as_text=True)
    renamed = client.post(f"/budget/categories/{door.id}", data={"name": "Door chains"}, follow_redirects=True)
    assert b"Renamed to Door chains." in renamed.data
    deactivated = client.post(f"/budget/categories/{door.id}/deactivate", follow_redirects=True)
    assert b"Door chains is no longer offered" in deactivated.data
    db.session.refresh(door)
    assert (door.name, door.active) == ("Door chains", False)
    client.post(f"/budget/categories/{door.id}/reactivate")
    db.session.refresh(door)
    assert door.active


def test_a_category_an_active_item_type_is_charged_to_stays_active_and_the_page_says_why(client, login, build):
    build.item_type(name="Pocket alarm")
    login(roles=["admin"])
    response = client.post(f"/budget/categories/{named('Personal alarm').id}/deactivate", follow_redirects=True)
    assert "Personal alarm is the budget category of Pocket alarm" in response.get_data(as_text=True)
    assert named("Personal alarm").active


def test_a_used_category_offers_no_rename_and_refuses_one(client, login, build, period):
    build.direct_purchase()  # in Lock
    login(roles=["finance"])
    lock = named("Lock")
    assert f"/budget/categories/{lock.id}\"".encode() not in client.get("/budget/categories").data
    response = client.post(f"/budget/categories/{lock.id}", data={"name": "Locks and bolts"})
    assert response.status_code == 422 and "name is fixed" in response.get_data(as_text=True)


def test_the_direct_purchase_form_picks_from_the_active_categories(client, login, period):
    login(roles=["finance"])
    db.session.get(BudgetCategory, named("CCTV camera").id).active = False
    db.session.commit()
    page = client.get("/budget/direct-purchases/new").get_data(as_text=True)
    assert '<select' in page and ">PIR light</option>" in page and "CCTV camera" not in page
    purchase = {"supplier_name": "Shop", "purchased_on": "2026-06-10", "net": "10", "vat": "0", "gross": "10",
                "receipt_reference": "R-1", "case_reference": ""}
    refused = client.post("/budget/direct-purchases/new", data={**purchase, "category": "CCTV camera"})
    assert refused.status_code == 422
    response = client.post("/budget/direct-purchases/new", data={**purchase, "category": "PIR light"})
    assert response.status_code == 302
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "actual"))
    assert (entry.category, entry.category_id) == ("PIR light", named("PIR light").id)


def test_the_api_lists_the_categories_active_first(api):
    db.session.get(BudgetCategory, named("Lock").id).active = False
    db.session.commit()
    body = api(roles=["caseworker"]).get("/budget-categories").get_json()
    assert body["total"] == 7
    assert body["items"][-1] == {"id": named("Lock").id, "name": "Lock", "active": False}
    assert all(item["active"] for item in body["items"][:-1])


def test_the_api_takes_a_direct_purchases_category_by_id_or_by_name_and_answers_with_its_name(api, period):
    client = api(roles=["finance"])
    purchase = {"supplier_name": "Shop", "purchased_on": "2026-06-10", "net_pence": 1_000, "vat_pence": 0,
                "gross_pence": 1_000}
    by_name = client.post("/ledger/direct-purchases", json={**purchase, "receipt_reference": "R-1",
                                                           "category": "pir LIGHTS"})
    assert by_name.status_code == 201
    assert (by_name.get_json()["category"], by_name.get_json()["entry"]["category"]) == ("PIR light", "PIR light")
    by_id = client.post("/ledger/direct-purchases", json={**purchase, "receipt_reference": "R-2",
                                                         "category_id": named("Lock").id})
    assert by_id.status_code == 201 and by_id.get_json()["category_id"] == named("Lock").id
    for field, value in (("category", "Sundries"), ("category_id", 9_999)):
        refused = client.post("/ledger/direct-purchases", json={**purchase, "receipt_reference": "R-3", field: value})
        assert refused.status_code == 422 and field in refused.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 3
