"""Finance actions in the JSON API: open overspend alerts on the budget and their
resolution (audited), month close and reopen, and cancelling or closing a purchase order."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AuditEvent
from inventory.budget import ledger, operations as budget
from inventory.budget.models import MonthClose, OverspendAlert
from inventory.extensions import db
from inventory.procurement.invoices import InvoiceLine, record_invoice


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=10_000)


@pytest.fixture
def alert(build, period) -> OverspendAlert:
    """An overspend: a direct purchase £20 beyond what is available, for a named case."""
    _, entry = budget.record_direct_purchase(
        supplier_name="Locksmith Direct", purchased_on=date(2026, 6, 14), net_pence=12_000, vat_pence=0,
        gross_pence=12_000, receipt_reference="R-9", category="Locks", case_reference="NS-2026-0142",
        actor=build.user(roles=["finance"]))
    db.session.commit()
    return db.session.scalar(select(OverspendAlert).where(OverspendAlert.entry_id == entry.id))


def audit_kinds() -> list[str]:
    """The audit log's kinds of finance events, in order (users and tokens made by the builders left out)."""
    return db.session.scalars(select(AuditEvent.kind).where(
        AuditEvent.kind.in_(["month_closed", "month_reopened", "overspend_resolved"])).order_by(AuditEvent.id)).all()


# Overspend alerts ---------------------------------------------------------------------------

def test_the_budget_lists_each_open_overspend_alert_saying_by_how_much_and_which_entry(api, alert):
    body = api(roles=["finance"]).get("/budget").get_json()
    [listed] = body["alerts"]
    assert (listed["id"], listed["kind"], listed["over_by_pence"]) == (alert.id, "overspend", 2_000)
    assert "£20.00" in listed["message"] and f"entry {alert.entry_id}" in listed["message"]
    assert datetime.fromisoformat(listed["raised_at"]) == alert.raised_at
    assert "NS-2026-0142" not in listed["message"] and "Locksmith" not in listed["message"]


def test_without_an_open_alert_the_budget_lists_none(api, period):
    assert api(roles=["auditor"]).get("/budget").get_json()["alerts"] == []


def test_finance_resolves_an_alert_with_a_reason_and_the_resolution_is_audited(api, alert, period):
    finance = api(roles=["finance"])
    response = finance.post(f"/budget/alerts/{alert.id}/resolution", json={"reason": "Price rise agreed"})
    assert response.status_code == 200
    assert (response.get_json()["resolution"], response.get_json()["resolved_by_id"]) == (
        "Price rise agreed", finance.user.id)
    assert ledger.open_overspend_alert(period) is None
    assert finance.get("/budget").get_json()["alerts"] == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "overspend_resolved"))
    assert event.actor_id == finance.user.id
    assert event.details == {"alert_id": alert.id, "entry_id": alert.entry_id, "over_by_pence": 2_000,
                             "resolution": "Price rise agreed"}


def test_resolving_a_resolved_alert_is_a_409_and_records_nothing_more(api, alert):
    finance = api(roles=["finance"])
    assert finance.post(f"/budget/alerts/{alert.id}/resolution", json={"reason": "Agreed"}).status_code == 200
    again = finance.post(f"/budget/alerts/{alert.id}/resolution", json={"reason": "Twice"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_resolved")
    assert audit_kinds().count("overspend_resolved") == 1


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 7}, {"reason": "x" * 501}])
def test_a_resolution_without_a_reason_is_a_422_naming_reason(api, alert, period, body):
    response = api(roles=["finance"]).post(f"/budget/alerts/{alert.id}/resolution", json=body)
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["details"]["fields"]
    assert ledger.open_overspend_alert(period) is not None


def test_resolving_an_unknown_alert_is_404(api, period):
    assert api(roles=["finance"]).post("/budget/alerts/999/resolution", json={"reason": "x"}).status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "auditor", "admin", "caseworker", "fitter"])
def test_only_finance_resolves_alerts(api, alert, period, role):
    response = api(roles=[role]).post(f"/budget/alerts/{alert.id}/resolution", json={"reason": "x"})
    assert response.status_code == 403
    assert ledger.open_overspend_alert(period) is not None


def test_resolving_on_the_budget_page_is_audited_too(client, login, alert):
    finance = login(roles=["finance"])
    response = client.post(f"/budget/alerts/{alert.id}/resolve", data={"resolution": "Agreed with the supplier"})
    assert response.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "overspend_resolved"))
    assert (event.actor_id, event.details["resolution"]) == (finance.id, "Agreed with the supplier")


# Month close and reopen ---------------------------------------------------------------------

def test_finance_closes_a_finished_month_once(api, period):
    finance = api(roles=["finance"])
    response = finance.post("/ledger/months/2026-05/close")
    assert response.status_code == 200
    assert response.get_json() | {"closed_at": None} == {
        "month": "2026-05", "closed": True, "closed_at": None, "closed_by_id": finance.user.id,
        "reopened_at": None, "reopened_by_id": None, "reopen_reason": None}
    assert ledger.is_month_closed(date(2026, 5, 1))
    again = finance.post("/ledger/months/2026-05/close")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_closed")
    this_month = finance.post("/ledger/months/2026-06/close")
    assert (this_month.status_code, this_month.get_json()["error"]["code"]) == (409, "month_not_ended")
    assert audit_kinds() == ["month_closed"]


def test_an_admin_reopens_a_closed_month_with_a_reason(api, build, period):
    budget.close_month(date(2026, 5, 1), actor=build.user(roles=["finance"]))
    db.session.commit()
    admin = api(roles=["admin"])
    missing = admin.post("/ledger/months/2026-05/reopen", json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["details"]["fields"]
    response = admin.post("/ledger/months/2026-05/reopen", json={"reason": "A late invoice"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["closed"], body["reopened_by_id"], body["reopen_reason"]) == (False, admin.user.id, "A late invoice")
    assert not ledger.is_month_closed(date(2026, 5, 1))
    again = admin.post("/ledger/months/2026-05/reopen", json={"reason": "Twice"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "not_closed")
    assert audit_kinds() == ["month_closed", "month_reopened"]


@pytest.mark.parametrize("role", ["finance", "coordinator", "auditor"])
def test_only_an_admin_reopens_a_month(api, build, period, role):
    budget.close_month(date(2026, 5, 1), actor=build.user(roles=["finance"]))
    db.session.commit()
    response = api(roles=[role]).post("/ledger/months/2026-05/reopen", json={"reason": "Late invoice"})
    assert response.status_code == 403
    assert ledger.is_month_closed(date(2026, 5, 1))


@pytest.mark.parametrize("role", ["admin", "coordinator", "auditor"])
def test_only_finance_closes_a_month(api, period, role):
    assert api(roles=[role]).post("/ledger/months/2026-05/close").status_code == 403
    assert not ledger.is_month_closed(date(2026, 5, 1))


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "99999-01", "2026-5", "May-2026", "2026-05-01", "０２０２-05"])
@pytest.mark.parametrize("action, role, body", [("close", "finance", None), ("reopen", "admin", {"reason": "x"})])
def test_a_month_that_is_not_yyyy_mm_is_a_404_that_says_so(api, period, month, action, role, body):
    response = api(roles=[role]).post(f"/ledger/months/{month}/{action}", json=body)
    assert response.status_code == 404
    assert "2026-05" in response.get_json()["error"]["message"]  # shows the form a month takes
    assert db.session.scalar(select(func.count()).select_from(MonthClose)) == 0


# Purchase orders: cancel and close ----------------------------------------------------------

def test_a_raised_order_is_cancelled_with_a_reason(api, build, period):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    caller = api(roles=["coordinator"])
    missing = caller.post(f"/purchase-orders/{order.id}/cancel", json={"reason": " "})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["details"]["fields"]
    response = caller.post(f"/purchase-orders/{order.id}/cancel", json={"reason": "Supplier out of stock"})
    assert response.status_code == 200
    assert (response.get_json()["id"], response.get_json()["status"]) == (order.id, "cancelled")
    assert ledger.available_pence(period) == 10_000
    again = caller.post(f"/purchase-orders/{order.id}/cancel", json={"reason": "Twice"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "purchase_order_state")
    assert again.get_json()["error"]["details"]["status"] == "cancelled"


def test_a_received_and_invoiced_order_is_closed(api, build, period):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    record_invoice(order, number="INV-1", invoice_date=clock.today(), actor=build.user(roles=["finance"]),
                   lines=[InvoiceLine(order.lines[0].id, 2, 1000, 200)])
    db.session.commit()
    response = api(roles=["finance"]).post(f"/purchase-orders/{order.id}/close")
    assert response.status_code == 200
    assert response.get_json()["status"] == "closed"


def test_closing_an_order_not_yet_received_is_a_409(api, build, period):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    response = api(roles=["coordinator"]).post(f"/purchase-orders/{order.id}/close")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["details"]["status"]) == ("purchase_order_state", "raised")


def test_a_received_order_cannot_be_cancelled(api, build, period):
    order = build.purchase_order(lines=[(build.item_type(), 1, 1000, 200)])
    build.receipt(order)
    response = api(roles=["coordinator"]).post(f"/purchase-orders/{order.id}/cancel", json={"reason": "Late"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "purchase_order_state")


@pytest.mark.parametrize("action", ["cancel", "close"])
def test_cancelling_or_closing_an_unknown_order_is_404(api, period, action):
    response = api(roles=["coordinator"]).post(f"/purchase-orders/999/{action}", json={"reason": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["admin", "caseworker", "fitter", "auditor"])
@pytest.mark.parametrize("action", ["cancel", "close"])
def test_only_those_who_manage_orders_cancel_or_close_them(api, build, period, role, action):
    order = build.purchase_order(lines=[(build.item_type(), 1, 1000, 200)])
    response = api(roles=[role]).post(f"/purchase-orders/{order.id}/{action}", json={"reason": "x"})
    assert response.status_code == 403
    db.session.expire_all()
    assert order.status == "raised"
