"""The budget and ledger JSON API: contract, permissions and bad input."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.models import DirectPurchase, LedgerEntry
from inventory.extensions import db

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=1_500_000)


def entry_count():
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


PURCHASE = {"supplier_name": "Hardware Shop", "purchased_on": "2026-06-10", "net_pence": 2_500, "vat_pence": 500,
            "gross_pence": 3_000, "receipt_reference": "R-77", "category": "locks", "case_reference": "NS-2026-0142"}


@pytest.mark.parametrize("role, status", [
    ("finance", 200), ("coordinator", 200), ("auditor", 200), ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
def test_the_budget_summary_is_for_finance_coordinators_and_auditors(api, period, role, status):
    response = api(roles=[role]).get("/budget")
    assert response.status_code == status
    if status == 200:
        body = response.get_json()
        assert body["period"]["name"] == "2026-27"
        assert (body["allocated_pence"], body["available_pence"]) == (1_500_000, 1_500_000)


@pytest.mark.parametrize("role", ["coordinator", "auditor", "admin", "caseworker", "fitter"])
@pytest.mark.parametrize("method, path", [
    ("POST", "/ledger/allocations"), ("POST", "/ledger/direct-purchases"), ("POST", "/ledger/adjustments"),
    ("POST", "/ledger/entries/1/reversal"),
])
def test_only_finance_writes_ledger_entries(api, period, role, method, path):
    response = api(roles=[role]).request(method, path, json={})
    assert response.status_code == 403
    assert entry_count() == 1


@pytest.mark.parametrize("role, status", [
    ("finance", 200), ("auditor", 200), ("coordinator", 403), ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
def test_finance_and_auditors_read_ledger_entries(api, period, role, status):
    response = api(roles=[role]).get("/ledger/entries")
    assert response.status_code == status
    if status == 200:
        assert [entry["kind"] for entry in response.get_json()["items"]] == ["allocation"]


def test_the_budget_without_a_current_period_is_a_clear_conflict(api):
    response = api(roles=["finance"]).get("/budget")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_budget_period"


def test_finance_records_a_direct_purchase_as_an_actual(api, period):
    response = api(roles=["finance"]).post("/ledger/direct-purchases", json=PURCHASE)
    assert response.status_code == 201
    body = response.get_json()
    assert body["entry"]["kind"] == "actual"
    assert body["entry"]["amount_pence"] == -3_000
    assert (body["entry"]["source_type"], body["entry"]["source_id"]) == ("direct_purchase", body["id"])
    assert ledger.available_pence(period) == 1_497_000


def test_allocations_adjustments_and_reversals_through_the_api(api, period):
    finance = api(roles=["finance"])
    allocation = finance.post("/ledger/allocations", json={"amount_pence": 5_000, "memo": "Top-up"})
    assert allocation.status_code == 201
    adjustment = finance.post("/ledger/adjustments", json={"amount_pence": -250, "date": "2026-06-14",
                                                           "reason": "Bank charge"})
    assert adjustment.status_code == 201
    reversal = finance.post(f"/ledger/entries/{adjustment.get_json()['id']}/reversal", json={"reason": "Refunded"})
    assert reversal.status_code == 201
    assert reversal.get_json()["amount_pence"] == 250
    again = finance.post(f"/ledger/entries/{adjustment.get_json()['id']}/reversal", json={"reason": "Twice"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_reversed")
    assert ledger.available_pence(period) == 1_505_000


def test_reversing_a_missing_entry_is_not_found(api, period):
    response = api(roles=["finance"]).post("/ledger/entries/999/reversal", json={"reason": "x"})
    assert response.status_code == 404


def test_the_entry_list_filters_by_kind_and_dates_and_pages(api, period, build):
    finance = api(roles=["finance"])
    for day in ("2026-06-01", "2026-06-10", "2026-06-14"):
        finance.post("/ledger/adjustments", json={"amount_pence": 100, "date": day, "reason": "r"})
    response = finance.get("/ledger/entries?kind=adjustment&from=2026-06-05&to=2026-06-14&per_page=1")
    body = response.get_json()
    assert (body["total"], body["per_page"], len(body["items"])) == (2, 1, 1)
    assert body["items"][0]["entry_date"] == "2026-06-14"
    bad = finance.get("/ledger/entries?kind=bogus&from=yesterday")
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {"kind", "from"}


@pytest.mark.parametrize("field, value, message", [
    ("gross_pence", 30.0, "whole number"),
    ("gross_pence", "3000", "whole number"),
    ("gross_pence", 29.99, "whole number"),
    ("net_pence", True, "whole number"),
    ("gross_pence", -3_000, "negative"),
    ("gross_pence", 0, "zero"),
    ("gross_pence", 100_000_001, "over £1,000,000"),
    ("gross_pence", 3_001, "net + VAT"),
    ("purchased_on", "15/06/2026", "date"),
    ("supplier_name", "", "Required"),
])
def test_bad_direct_purchases_are_422_naming_the_field_and_write_nothing(api, period, field, value, message):
    response = api(roles=["finance"]).post("/ledger/direct-purchases", json={**PURCHASE, field: value})
    assert response.status_code == 422
    fields = response.get_json()["error"]["details"]["fields"]
    assert message in fields[field]
    assert entry_count() == 1
    assert db.session.scalar(select(func.count()).select_from(DirectPurchase)) == 0


@pytest.mark.parametrize("body, field", [
    ({"amount_pence": 0, "date": "2026-06-14", "reason": "r"}, "amount_pence"),
    ({"amount_pence": 10.5, "date": "2026-06-14", "reason": "r"}, "amount_pence"),
    ({"amount_pence": "ten", "date": "2026-06-14", "reason": "r"}, "amount_pence"),
    ({"amount_pence": 100, "date": "2026-06-14", "reason": " "}, "reason"),
    ({"amount_pence": 100, "date": "2026-06-14"}, "reason"),
    ({"amount_pence": 100, "reason": "r"}, "date"),
])
def test_bad_adjustments_are_422_naming_the_field(api, period, body, field):
    response = api(roles=["finance"]).post("/ledger/adjustments", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert entry_count() == 1


def test_an_allocation_to_a_period_id_beyond_64_bits_is_422(api, period):
    response = api(roles=["finance"]).post("/ledger/allocations", json={"amount_pence": 100, "period_id": 2**64})
    assert response.status_code == 422
    assert "period_id" in response.get_json()["error"]["details"]["fields"]
    assert entry_count() == 1


def test_a_body_that_is_not_a_json_object_is_422(api, period):
    response = api(roles=["finance"]).post("/ledger/allocations", json=[1, 2])
    assert response.status_code == 422


def test_entries_dated_in_a_closed_month_are_refused(api, period, build):
    budget.close_month(date(2026, 5, 1), actor=build.user(roles=["finance"]))
    db.session.commit()
    response = api(roles=["finance"]).post("/ledger/direct-purchases", json={**PURCHASE, "purchased_on": "2026-05-20"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "period_closed"
    assert entry_count() == 1
    assert db.session.scalar(select(func.count()).select_from(DirectPurchase)) == 0
