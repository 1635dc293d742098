"""Export batches on the pages and in the API: finance only, past batches byte-identical."""
import csv
import hashlib
import io

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget.models import DirectPurchase
from inventory.extensions import db
from inventory.reconciliation.models import ExportBatch

ROLES = ["admin", "coordinator", "caseworker", "fitter", "finance", "auditor"]


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def spend(build, finance):
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    return build.direct_purchase(gross_pence=4500, actor=finance)


def batches():
    return db.session.scalar(select(func.count()).select_from(ExportBatch))


# Pages -----------------------------------------------------------------------------------------

def test_finance_exports_everything_new_and_downloads_it_again_unchanged(client, login, finance, spend):
    login(finance)
    response = client.post("/reconciliation/exports", data={"format": "xero"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reconciliation/exports")
    page = client.get("/reconciliation/exports").get_data(as_text=True)
    assert "Batch 1: 1 entry exported for Xero manual journals." in page
    [batch] = db.session.scalars(select(ExportBatch))
    assert f'href="/reconciliation/exports/{batch.id}/files/1"' in page and batch.files[0].name in page
    first = client.get(f"/reconciliation/exports/{batch.id}/files/1")
    assert first.status_code == 200 and first.mimetype == "text/csv"
    assert f'filename="{batch.files[0].name}"' in first.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(first.get_data(as_text=True))))
    assert [row["*Amount"] for row in rows] == ["45.00", "-45.00"]
    assert client.get(f"/reconciliation/exports/{batch.id}/files/1").data == first.data


def test_exporting_again_with_nothing_new_says_so_and_makes_no_batch(client, login, finance, spend):
    login(finance)
    client.post("/reconciliation/exports", data={"format": "sage"})
    response = client.post("/reconciliation/exports", data={"format": "sage"}, follow_redirects=True)
    assert b"Nothing to export" in response.data
    assert batches() == 1


@pytest.mark.parametrize("data", [{}, {"format": "quickbooks"}])
def test_an_unknown_format_is_refused(client, login, finance, spend, data):
    login(finance)
    assert client.post("/reconciliation/exports", data=data).status_code == 422
    assert batches() == 0


def test_the_export_page_offers_a_button_per_format_and_lists_nothing_at_first(client, login, finance):
    login(finance)
    page = client.get("/reconciliation/exports").get_data(as_text=True)
    assert "Export everything not yet exported: Xero manual journals" in page
    assert "Export everything not yet exported: Sage 50 audit trail" in page
    assert "Nothing exported yet." in page


def test_a_file_that_is_not_there_is_not_found(client, login, finance, spend):
    login(finance)
    client.post("/reconciliation/exports", data={"format": "xero"})
    assert client.get("/reconciliation/exports/1/files/2").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_finance_may_export(client, login, spend, role):
    login(roles=[role])
    assert client.post("/reconciliation/exports", data={"format": "xero"}).status_code == (
        302 if role == "finance" else 403)
    assert batches() == (1 if role == "finance" else 0)


# API -------------------------------------------------------------------------------------------

def test_the_api_makes_a_batch_and_serves_its_file_byte_identical(api, finance, spend):
    caller = api(user=finance)
    response = caller.post("/exports", json={"format": "sage"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["format"], body["entry_count"], body["created_by"]) == ("sage", 1, finance.id)
    [file] = body["files"]
    first = caller.get(file["url"].removeprefix("/api/v1"))
    assert first.mimetype == "text/csv" and hashlib.sha256(first.data).hexdigest() == file["sha256"]
    assert caller.get(file["url"].removeprefix("/api/v1")).data == first.data
    assert caller.get(f"/exports/{body['id']}").get_json() == body
    listed = caller.get("/exports?per_page=1").get_json()
    assert listed["total"] == 1 and listed["items"] == [body]


def test_the_api_answers_409_when_there_is_nothing_to_export(api, finance, spend):
    caller = api(user=finance)
    caller.post("/exports", json={"format": "xero"})
    response = caller.post("/exports", json={"format": "xero"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "nothing_to_export"


@pytest.mark.parametrize("body", [{}, {"format": "csv"}, {"format": 1}])
def test_the_api_names_a_bad_format(api, finance, body):
    response = api(user=finance).post("/exports", json=body)
    assert response.status_code == 422 and "format" in response.get_json()["error"]["details"]["fields"]


def test_a_batch_or_file_that_is_not_there_is_a_404(api, finance):
    caller = api(user=finance)
    assert caller.get("/exports/99").status_code == 404
    assert caller.get("/exports/99/files/1").status_code == 404


@pytest.mark.parametrize("role", [role for role in ROLES if role != "finance"])
def test_only_finance_reaches_the_exports_api(api, spend, role):
    caller = api(roles=[role])
    assert caller.post("/exports", json={"format": "xero"}).status_code == 403
    assert caller.get("/exports").status_code == 403


def test_a_direct_purchase_paid_by_card_goes_to_sage_as_a_card_payment(api, finance, build):
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    caller = api(user=finance)
    purchase = caller.post("/ledger/direct-purchases", json={
        "supplier_name": "Hardware Shop", "purchased_on": clock.today().isoformat(), "net_pence": 1000, "vat_pence": 200,
        "gross_pence": 1200, "receipt_reference": "T-77", "category": "Locks", "payment_method": "card"})
    assert purchase.status_code == 201 and purchase.get_json()["payment_method"] == "card"
    body = caller.post("/exports", json={"format": "sage"}).get_json()
    text = caller.get(body["files"][0]["url"].removeprefix("/api/v1")).get_data(as_text=True)
    [row] = csv.DictReader(io.StringIO(text))
    assert (row["Type"], row["Account Reference"]) == ("CP", "1240")


def test_a_direct_purchase_is_paid_by_bank_unless_it_says_otherwise_and_a_bad_method_is_named(api, finance, build):
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    caller = api(user=finance)
    purchase = {"supplier_name": "Hardware Shop", "purchased_on": clock.today().isoformat(), "net_pence": 1000, "vat_pence": 0,
                "gross_pence": 1000, "receipt_reference": "T-78", "category": "Locks"}
    assert caller.post("/ledger/direct-purchases", json=purchase).get_json()["payment_method"] == "bank"
    refused = caller.post("/ledger/direct-purchases", json={**purchase, "payment_method": "cash"})
    assert refused.status_code == 422 and "payment_method" in refused.get_json()["error"]["details"]["fields"]


def test_the_purchase_form_records_how_it_was_paid(client, login, finance, build):
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    login(finance)
    response = client.post("/budget/direct-purchases/new", data={
        "supplier_name": "Hardware Shop", "purchased_on": clock.today().isoformat(), "net": "10.00", "vat": "0", "gross": "10.00",
        "receipt_reference": "T-79", "category": "Lock", "payment_method": "card"})
    assert response.status_code == 302
    assert db.session.scalar(select(DirectPurchase.payment_method)) == "card"
