"""Uploading a statement in two steps (the file, then its columns chosen from its own first
row), files without a header row, the API's positions, and the bank's gross on the line page."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.extensions import db
from inventory.reconciliation.models import Statement, StatementLine, StatementUpload
from tests.web.test_reconciliation_pages import chosen_on, upload_step_one

# HSBC's CSV export has no header row: date, description, signed amount.
HSBC = (b"31/10/2026,PCC GRANT Q3,\"12,500.00\"\n"
        b"03/11/2026,LOCKSMITH DIRECT INV-1,-45.00\n"
        b"04/11/2026,CARD PAYMENT TO ALARMS LTD,-19.99\n")
SPLIT = b"Transaction Date,Details,Money out,Money in\n03/11/2026,Locks,45.00,\n04/11/2026,Refund,,5.00\n"


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def finance(login):
    return login(roles=["finance"])


def test_the_columns_page_offers_the_files_own_header_names_with_a_guess(client, finance):
    location = upload_step_one(client, SPLIT).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert '<option selected value="1">Transaction Date (e.g. 03/11/2026)</option>' in page
    assert chosen_on(page) == {"has_header": "y", "date_column": "1", "description_column": "2", "amount_column": "",
                               "paid_out_column": "3", "paid_in_column": "4", "reference_column": ""}
    preview = page.split("How the first lines will be read", 1)[1]
    assert "Locks" in preview and "−£45.00 (out)" in preview and "£5.00 (in)" in preview
    assert "<script" not in page.split('id="main"', 1)[1] and "onclick" not in page


def test_a_file_without_a_header_row_is_mapped_by_position_and_keeps_its_first_line(client, finance):
    response = upload_step_one(client, HSBC, no_header="y")
    location = response.headers["Location"]
    assert location.endswith("?header=no")
    page = client.get(location).get_data(as_text=True)
    assert '<option selected value="1">Column 1: 31/10/2026</option>' in page
    assert '<option selected value="3">Column 3: 12,500.00</option>' in page
    chosen = chosen_on(page)
    assert "has_header" not in chosen and (chosen["date_column"], chosen["description_column"]) == ("1", "2")
    response = client.post(location, data=chosen)
    assert response.status_code == 302
    lines = list(db.session.scalars(select(StatementLine).order_by(StatementLine.line_number)))
    assert [(line.line_number, line.amount_pence) for line in lines] == [(1, 1_250_000), (2, -4500), (3, -1999)]
    assert count(StatementUpload) == 0


def test_a_headerless_file_taken_for_one_with_a_header_is_pointed_out(client, finance):
    location = upload_step_one(client, HSBC).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "The first row looks like a transaction" in page
    assert f'href="{location}?header=no"' in page


def test_preview_shows_the_chosen_columns_and_imports_nothing(client, finance):
    location = upload_step_one(client, HSBC, no_header="y").headers["Location"]
    chosen = chosen_on(client.get(location).get_data(as_text=True))
    response = client.post(location, data=chosen | {"description_column": "3", "amount_column": "2",
                                                    "preview": "1"})
    assert response.status_code == 200
    preview = response.get_data(as_text=True).split("How the first lines will be read", 1)[1]
    assert preview.count("Cannot be read") == 3 and "is not an amount in pounds" in preview
    assert count(Statement) == 0 and count(StatementUpload) == 1


def test_someone_elses_or_an_expired_upload_is_not_found(client, login, finance):
    location = upload_step_one(client, HSBC).headers["Location"]
    with clock.frozen_at(clock.now() + timedelta(hours=2)):
        login(finance)  # two hours on, the session has timed out
        assert client.get(location).status_code == 404
    client.post("/logout")
    login(roles=["finance"])
    assert client.get(location).status_code == 404
    assert client.post(location, data={"date_column": "1"}).status_code == 404
    assert count(Statement) == 0


def test_an_upload_imported_once_is_not_imported_again(client, finance):
    location = upload_step_one(client, SPLIT).headers["Location"]
    chosen = chosen_on(client.get(location).get_data(as_text=True))
    assert client.post(location, data=chosen).status_code == 302
    assert client.post(location, data=chosen).status_code == 404
    assert count(Statement) == 1


@pytest.mark.parametrize("role", ["admin", "coordinator", "caseworker", "fitter", "auditor"])
def test_only_finance_may_choose_columns(client, login, finance, role):
    location = upload_step_one(client, HSBC).headers["Location"]
    client.post("/logout")
    login(roles=[role])
    assert client.get(location).status_code == 403
    assert client.post(location, data={}).status_code == 403


# The API: columns by position ---------------------------------------------------------------

def post(caller, data: bytes, **fields):
    return caller.post("/statements", data={"file": (io.BytesIO(data), "s.csv"), "account": "Current account",
                                            **fields}, content_type="multipart/form-data")


def test_the_api_imports_a_file_without_a_header_row_by_position(api):
    caller = api(roles=["finance"])
    response = post(caller, HSBC, header_row="false", date_position="1", description_position="2",
                    amount_position="3")
    assert response.status_code == 201 and response.get_json()["new_count"] == 3


def test_the_api_maps_a_file_with_a_header_by_position_too(api):
    caller = api(roles=["finance"])
    response = post(caller, SPLIT, date_position="1", description_column="Details", paid_out_position="3",
                    paid_in_position="4")
    assert response.status_code == 201 and response.get_json()["line_count"] == 2


@pytest.mark.parametrize("fields, field", [
    ({"header_row": "false", "date_position": "1", "description_position": "2", "amount_position": "4"},
     "amount_position"),
    ({"header_row": "false", "date_column": "Date", "description_position": "2", "amount_position": "3"},
     "date_column"),
    ({"date_column": "Date", "date_position": "1", "description_position": "2", "amount_position": "3"},
     "date_position"),
    ({"date_position": "0", "description_position": "2", "amount_position": "3"}, "date_position"),
])
def test_the_api_refuses_impossible_positions_naming_the_field(api, fields, field):
    response = post(api(roles=["finance"]), HSBC, **fields)
    assert response.status_code == 422 and field in response.get_json()["error"]["details"]["fields"]
    assert count(Statement) == 0


# The line page shows the bank's gross -------------------------------------------------------

@pytest.fixture
def app_overrides():
    return {"VAT_RECLAIMED": True}


def test_with_vat_reclaimed_the_line_page_proposes_and_offers_entries_at_their_gross(client, finance, build):
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    day = clock.today() - timedelta(days=3)
    entry = build.direct_purchase(gross_pence=12000, vat_pence=2000, on=day, actor=finance)
    other = build.direct_purchase(gross_pence=6000, vat_pence=1000, on=day, receipt="R-2", actor=finance)
    statement = build.statement([(day, "LOCKSMITH DIRECT", "-120.00", "")], actor=finance)
    line = db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id))
    page = client.get(f"/reconciliation/lines/{line.id}").get_data(as_text=True)
    assert entry.amount_pence == -10000
    proposals = page.split("Proposed matches", 1)[1].split("Match by hand", 1)[0]
    assert f"#{entry.id}" in proposals and "£120.00 gross (budget £100.00 net of VAT)" in proposals
    by_hand = page.split("Match by hand", 1)[1]
    assert re.search(rf'id="entry-{other.id}".*?£60\.00.*?budget £50\.00 net of VAT', by_hand, re.S)
    response = client.post(f"/reconciliation/lines/{line.id}/proposals/{entry.id}/accept", follow_redirects=True)
    assert b"Mark reconciled" in response.data
