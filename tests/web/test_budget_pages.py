"""Finance pages: who sees what, the forms (in pounds) and their bad input."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AuditEvent
from inventory.budget import ledger, operations as budget
from inventory.budget.models import DirectPurchase, LedgerEntry, MonthClose
from inventory.extensions import db


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=1_500_000)


def entry_count():
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


GOOD_PURCHASE = {"supplier_name": "Hardware Shop", "purchased_on": "2026-06-10", "net": "25.00", "vat": "5",
                 "gross": "30.00", "receipt_reference": "R-1", "category": "Lock", "case_reference": ""}


@pytest.mark.parametrize("role, status", [
    ("finance", 200), ("coordinator", 200), ("auditor", 200), ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
def test_the_budget_page_is_for_finance_coordinators_and_auditors(client, login, period, role, status):
    login(roles=[role])
    response = client.get("/budget")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert "£15,000.00" in page and "<svg" in page and "<script" not in page.split("<main", 1)[1]


@pytest.mark.parametrize("role, may_write", [("finance", True), ("coordinator", False), ("auditor", False)])
def test_only_finance_gets_the_writing_links_on_the_budget_page(client, login, period, role, may_write):
    login(roles=[role])
    page = client.get("/budget").get_data(as_text=True)
    assert ("/budget/direct-purchases/new" in page) is may_write


@pytest.mark.parametrize("role", ["coordinator", "auditor", "admin", "caseworker", "fitter"])
@pytest.mark.parametrize("path", ["/budget/direct-purchases/new", "/budget/allocations/new",
                                  "/budget/adjustments/new", "/budget/periods/new"])
def test_the_ledgers_forms_are_for_finance_only(client, login, period, role, path):
    login(roles=[role])
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role, status", [
    ("finance", 200), ("auditor", 200), ("coordinator", 403), ("admin", 403), ("caseworker", 403), ("fitter", 403),
])
@pytest.mark.parametrize("path", ["/budget/ledger", "/budget/ledger/1"])
def test_finance_and_auditors_read_the_ledger(client, login, period, role, path, status):
    login(roles=[role])
    assert client.get(path).status_code == status


def test_an_auditor_reads_an_entry_with_its_case_reference_but_is_offered_no_correction(client, login, build,
                                                                                        period):
    purchase = build.direct_purchase(gross_pence=4500, receipt="R-9")
    case = build.case(name="Philippa Dunmore-Wick", address="9 Quarry Close", phone="07700 900999")
    entry = ledger.commit(1200, on=clock.today(), actor=build.user(roles=["finance"]), memo="Awaiting stock",
                          case_reference=case.reference, source_type="purchase_order", source_id=77)
    db.session.commit()
    login(roles=["auditor"])
    page = client.get(f"/budget/ledger/{entry.id}").get_data(as_text=True)
    assert case.reference in page and "Philippa" not in page and "Quarry" not in page and "900999" not in page
    assert "Reverse this entry" not in page and "/purchase-orders/77" not in page and "purchase order 77" in page
    actual = client.get(f"/budget/ledger/{purchase.id}").get_data(as_text=True)
    assert "Record a refund" not in actual and "Reverse this entry" not in actual
    assert client.post(f"/budget/ledger/{entry.id}/reverse", data={"reason": "No"}).status_code == 403


def test_finance_is_offered_the_corrections_and_the_order_behind_an_entry(client, login, build, period):
    purchase = build.direct_purchase(gross_pence=4500, receipt="R-9")
    order = build.purchase_order()
    commitment = db.session.scalar(select(LedgerEntry).where(LedgerEntry.source_type == "purchase_order",
                                                             LedgerEntry.source_id == order.id))
    login(roles=["finance"])
    actual = client.get(f"/budget/ledger/{purchase.id}").get_data(as_text=True)
    assert "Record a refund" in actual and "Reverse this entry" in actual
    assert f'href="/purchase-orders/{order.id}"' in client.get(f"/budget/ledger/{commitment.id}").get_data(as_text=True)


def test_finance_sees_the_ledger_and_an_entry_with_its_chain_position(client, login, period):
    login(roles=["finance"])
    listing = client.get("/budget/ledger?kind=allocation").get_data(as_text=True)
    assert "Allocation" in listing and "£15,000.00" in listing
    detail = client.get("/budget/ledger/1").get_data(as_text=True)
    assert "Position 1 in the ledger" in detail


def test_bad_ledger_filters_are_explained(client, login, period):
    login(roles=["finance"])
    response = client.get("/budget/ledger?from=last-week")
    assert response.status_code == 422
    assert "A date like 2026-04-30." in response.get_data(as_text=True)


def test_a_direct_purchase_typed_in_pounds_is_charged_in_pence(client, login, period):
    login(roles=["finance"])
    response = client.post("/budget/direct-purchases/new", data=GOOD_PURCHASE)
    assert response.status_code == 302
    assert ledger.available_pence(period) == 1_500_000 - 3_000


@pytest.mark.parametrize("field, value, message", [
    ("gross", "30.001", "at most two decimal places"),
    ("gross", "-30", "must not be negative"),
    ("gross", "0", "must not be zero"),
    ("gross", "thirty", "Enter an amount in pounds"),
    ("gross", "1000000.01", "over £1,000,000"),
    ("gross", "31.00", "Gross must be net + VAT"),
    ("net", "", "Enter an amount"),
    ("supplier_name", "", "Enter the supplier"),
    ("purchased_on", "2026-05-20", "May 2026 is closed"),
    ("purchased_on", "2026-06-20", "cannot be dated in the future"),
    ("purchased_on", "2025-01-01", "No budget period covers"),
])
def test_bad_direct_purchases_are_explained_at_the_field_and_write_nothing(client, login, period, field, value,
                                                                           message):
    finance = login(roles=["finance"])
    budget.close_month(date(2026, 5, 1), actor=finance)
    db.session.commit()
    response = client.post("/budget/direct-purchases/new", data={**GOOD_PURCHASE, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'class="field-error"' in page
    assert entry_count() == 1
    assert db.session.scalar(select(func.count()).select_from(DirectPurchase)) == 0


@pytest.mark.parametrize("data, message", [
    ({"amount": "-12.50", "on": "2026-06-14", "reason": ""}, "Write the reason."),
    ({"amount": "0", "on": "2026-06-14", "reason": "Bank charge"}, "must not be zero"),
    ({"amount": "1.234", "on": "2026-06-14", "reason": "Bank charge"}, "at most two decimal places"),
])
def test_bad_adjustments_are_explained(client, login, period, data, message):
    login(roles=["finance"])
    response = client.post("/budget/adjustments/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert entry_count() == 1


def test_an_adjustment_and_its_reversal_through_the_forms(client, login, period):
    login(roles=["finance"])
    response = client.post("/budget/adjustments/new", data={"amount": "-12.50", "on": "2026-06-14",
                                                            "reason": "Bank charge"})
    assert response.status_code == 302
    assert ledger.available_pence(period) == 1_500_000 - 1_250
    adjustment_id = db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.kind == "adjustment"))
    missing_reason = client.post(f"/budget/ledger/{adjustment_id}/reverse", data={"reason": ""})
    assert missing_reason.status_code == 422
    assert client.post(f"/budget/ledger/{adjustment_id}/reverse", data={"reason": "Refunded"}).status_code == 302
    detail = client.get(f"/budget/ledger/{adjustment_id}").get_data(as_text=True)
    assert "Reversed by" in detail and "Refunded" in detail and "Reverse this entry" not in detail
    twice = client.post(f"/budget/ledger/{adjustment_id}/reverse", data={"reason": "Again"})
    assert twice.status_code == 409
    assert "already reversed" in twice.get_data(as_text=True)
    assert ledger.available_pence(period) == 1_500_000


def test_an_allocation_through_the_form(client, login, period):
    login(roles=["finance"])
    assert client.post("/budget/allocations/new", data={"amount": "2,500.00", "memo": "Top-up"}).status_code == 302
    assert ledger.summary(period).allocated_pence == 1_750_000


def test_finance_closes_a_month_and_only_an_admin_reopens_it_with_a_reason(client, login, build, period):
    finance = build.user(roles=["finance"])
    login(finance)
    assert client.post("/budget/months/2026-05/close").status_code == 302
    again = client.post("/budget/months/2026-05/close", follow_redirects=True).get_data(as_text=True)
    assert "May 2026 is already closed." in again
    early = client.post("/budget/months/2026-06/close", follow_redirects=True).get_data(as_text=True)
    assert "June 2026 has not ended yet." in early
    assert not ledger.is_month_closed(date(2026, 6, 1))
    assert client.post("/budget/months/2026-05/reopen", data={"reason": "Late invoice"}).status_code == 403
    client.post("/logout")
    login(roles=["admin"])
    page = client.get("/budget/months").get_data(as_text=True)
    assert "Reopen May" in page
    client.post("/budget/months/2026-05/reopen", data={"reason": ""})
    assert ledger.is_month_closed(date(2026, 5, 1))
    assert client.post("/budget/months/2026-05/reopen", data={"reason": "Late invoice"}).status_code == 302
    assert not ledger.is_month_closed(date(2026, 5, 1))
    closing = db.session.scalar(select(MonthClose))
    assert closing.reopen_reason == "Late invoice"
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds[-1] == "month_reopened" and "month_closed" in kinds


def test_an_overspend_alert_shows_on_the_budget_page_and_finance_resolves_it(client, login, build, period):
    finance = login(roles=["finance"])
    commitment = ledger.commit(1_000, on=date(2026, 6, 15), actor=finance, memo="PO", source_type="purchase_order",
                               source_id=1)
    ledger.post_actual(1_500, on=date(2026, 6, 15), actor=finance, memo="Invoice", source_type="invoice",
                       source_id=2, net_pence=1_500, vat_pence=0, releasing=commitment)
    db.session.commit()
    page = client.get("/budget").get_data(as_text=True)
    assert "Overspend: £5.00" in page
    alert_id = ledger.open_overspend_alert(period).id
    assert client.post(f"/budget/alerts/{alert_id}/resolve", data={"resolution": "Agreed"}).status_code == 302
    assert ledger.open_overspend_alert(period) is None


def test_a_new_budget_period_defaults_to_the_financial_year(client, login):
    login(roles=["finance"])
    form = client.get("/budget/periods/new").get_data(as_text=True)
    assert 'value="2026-04-01"' in form and 'value="2027-03-31"' in form
    response = client.post("/budget/periods/new", data={"name": "", "starts_on": "2026-04-01",
                                                        "ends_on": "2027-03-31"})
    assert response.status_code == 302
    assert ledger.current_period().name == "2026-27"


def test_the_budget_page_forecasts_when_the_money_runs_out(client, login, period):
    finance = login(roles=["finance"])
    ledger.post_actual(75_000, on=date(2026, 6, 15), actor=finance, memo="Big order", source_type="invoice",
                       source_id=1, net_pence=75_000, vat_pence=0)
    db.session.commit()
    page = client.get("/budget").get_data(as_text=True)
    # £750 in the 76 days of the period so far (fewer than 90); £14,250 left lasts 1,444 days at that rate.
    assert "over the last 90 days (net of credits), the money runs out on 29 May 2030" in page
    assert "spending may need to speed up" in page


def test_the_month_close_page_can_show_an_earlier_period(client, login, build, period):
    earlier = build.budget_period(starts_on=date(2025, 4, 1), ends_on=date(2026, 3, 31))
    login(roles=["admin"])
    page = client.get(f"/budget/months?period_id={earlier.id}").get_data(as_text=True)
    assert "April 2025" in page and "2026-27" in page
    assert client.get("/budget/months?period_id=999").status_code == 404
    # An id no record can have (beyond 64 bits) is ignored, not sent to the database.
    assert "2026-27" in client.get(f"/budget/months?period_id={2**64}").get_data(as_text=True)


def test_the_burn_down_aims_at_the_contract_end_when_it_comes_first(app, client, login, period):
    app.config["CONTRACT_END_DATE"] = "2026-12-31"
    login(roles=["auditor"])
    page = client.get("/budget").get_data(as_text=True)
    assert "contract ends 31 Dec 2026" in page
    assert "An even spend reaches zero on 31 December 2026." in page
