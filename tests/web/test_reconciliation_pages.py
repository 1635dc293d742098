"""The reconciliation pages and API: finance only, bad files explained, never a 500."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import LedgerEntry
from inventory.extensions import db
from inventory.reconciliation import operations
from inventory.reconciliation.models import (
    Match,
    MatchAllocation,
    Statement,
    StatementLine,
    StatementUpload,
)

ROLES = ["admin", "coordinator", "caseworker", "fitter", "finance", "auditor"]
CSV = ("Date,Description,Amount,Reference\n"
       "{d},CARD LOCKSMITH DIRECT,-45.00,R-1001\n"
       "{d},PCC GRANT,\"£1,000.00\",\n")


def days_ago(n):
    return clock.today() - timedelta(days=n)


def statement_csv(day=None) -> bytes:
    return CSV.format(d=(day or days_ago(5)).strftime("%d/%m/%Y")).encode()


def upload_fields(data: bytes, **overrides):
    fields = {"file": (io.BytesIO(data), "statement.csv"), "account": "Current account", "date_column": "Date",
              "description_column": "Description", "amount_column": "Amount", "reference_column": "Reference"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def setup(build, finance):
    """A funded period, a £45 lock bought five days ago, and a statement that paid it."""
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    entry = build.direct_purchase(gross_pence=4500, on=days_ago(5), actor=finance)
    statement = build.statement([(days_ago(5), "CARD LOCKSMITH DIRECT", "-45.00", "R-1001")], actor=finance)
    line = db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id))
    return entry, statement, line


# Pages -------------------------------------------------------------------------------------

PAGES = ["/reconciliation/statements", "/reconciliation/statements/upload", "/reconciliation/statements/{statement}",
         "/reconciliation/lines/{line}", "/reconciliation/exceptions", "/reconciliation/exceptions?show=entries",
         "/reconciliation/exports"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_only_finance_sees_the_reconciliation_pages(client, login, setup, role, page):
    _, statement, line = setup
    login(roles=[role])
    response = client.get(page.format(statement=statement.id, line=line.id))
    assert response.status_code == (200 if role == "finance" else 403)
    if role != "finance":
        assert b"LOCKSMITH" not in response.data


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_offers_reconciliation_to_finance_only(client, login, role):
    login(roles=[role])
    assert (b'href="/reconciliation/statements"' in client.get("/").data) == (role == "finance")


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/reconciliation/statements")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def upload_step_one(client, data: bytes, **overrides):
    fields = {"file": (io.BytesIO(data), "statement.csv"), "account": "Current account"}
    fields.update(overrides)
    return client.post("/reconciliation/statements/upload", data={k: v for k, v in fields.items() if v is not None},
                       content_type="multipart/form-data")


def chosen_on(page: str) -> dict[str, str]:
    """What the columns page has selected and ticked, as the browser would post it."""
    chosen = {}
    for name, options in re.findall(r'<select[^>]*name="(\w+_column)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option selected value="(\d*)"', options)
        chosen[name] = selected[1] if selected else ""
    if re.search(r'<input[^>]*checked[^>]*name="has_header"', page):
        chosen["has_header"] = "y"
    return chosen


def choose_columns(client, location: str, **columns):
    """Step 2 with the page's own pre-selected (guessed) columns, changed by `columns`."""
    chosen = chosen_on(client.get(location).get_data(as_text=True)) | columns
    return client.post(location, data={name: value for name, value in chosen.items() if value is not None})


def test_finance_uploads_a_statement_and_sees_its_lines(client, login, finance):
    login(finance)
    response = upload_step_one(client, statement_csv())
    assert response.status_code == 302 and "/reconciliation/statements/upload/" in response.headers["Location"]
    response = choose_columns(client, response.headers["Location"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"CARD LOCKSMITH DIRECT" in page.data and "£1,000.00".encode() in page.data
    assert b"Imported 2 new line(s); 0 already imported." in page.data


def test_uploading_the_same_statement_again_adds_nothing(client, login, finance):
    login(finance)
    for _ in range(2):
        response = choose_columns(client, upload_step_one(client, statement_csv()).headers["Location"])
    assert b"Imported 0 new line(s); 2 already imported." in client.get(response.headers["Location"]).data
    assert count(StatementLine) == 2


@pytest.mark.parametrize("data, overrides, message", [
    (b"", {}, b"The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00", {}, b"binary data"),
    (statement_csv(), {"account": ""}, b"Name the account."),
    (statement_csv(), {"file": None}, b"Choose the CSV file"),
])
def test_a_bad_upload_is_explained_at_the_form_and_writes_nothing(client, login, finance, data, overrides, message):
    login(finance)
    response = upload_step_one(client, data, **overrides)
    assert response.status_code == 422
    assert message in response.data
    assert count(Statement) == 0 and count(StatementLine) == 0 and count(StatementUpload) == 0


@pytest.mark.parametrize("columns, message", [
    ({"amount_column": ""}, b"Choose the amount column"),
    ({"date_column": ""}, b"Choose the column that holds this."),
    ({"description_column": "1"}, b"one is chosen twice"),
    ({"amount_column": "9"}, b"Not a valid choice"),
])
def test_a_bad_choice_of_columns_is_explained_and_writes_nothing(client, login, finance, columns, message):
    login(finance)
    location = upload_step_one(client, statement_csv()).headers["Location"]
    response = choose_columns(client, location, **columns)
    assert response.status_code == 422
    assert message in response.data
    assert count(Statement) == 0 and count(StatementUpload) == 1


def test_bad_lines_are_listed_by_line_number(client, login, finance):
    login(finance)
    data = b"Date,Description,Amount,Reference\n31/02/2026,x,-1.00,\n01/03/2026,y,-1.001,\n"
    response = choose_columns(client, upload_step_one(client, data).headers["Location"])
    assert response.status_code == 422
    assert b"Line 2: Date" in response.data and b"Line 3: Amount" in response.data
    assert count(Statement) == 0 and count(StatementUpload) == 1  # kept, to choose other columns


def test_a_statement_over_the_upload_limit_is_refused_with_413(app, client, login, finance):
    app.config["STATEMENT_MAX_BYTES"] = 64
    login(finance)
    response = upload_step_one(client, statement_csv() * 3)
    assert response.status_code == 413 and b"KB limit" in response.data
    assert count(Statement) == 0 and count(StatementUpload) == 0


def test_finance_accepts_a_proposal_then_marks_the_line_reconciled(client, login, finance, setup):
    entry, _, line = setup
    login(finance)
    page = client.get(f"/reconciliation/lines/{line.id}")
    assert b"Proposed matches" in page.data and b"Score <strong>100</strong>" in page.data
    response = client.post(f"/reconciliation/lines/{line.id}/proposals/{entry.id}/accept", follow_redirects=True)
    assert b"Matched." in response.data and b"Mark reconciled" in response.data
    response = client.post(f"/reconciliation/lines/{line.id}/reconcile", follow_redirects=True)
    assert b"Line marked reconciled." in response.data
    db.session.expire_all()
    assert db.session.get(StatementLine, line.id).is_reconciled


def test_a_rejected_proposal_disappears(client, login, finance, setup):
    entry, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/proposals/{entry.id}/reject", follow_redirects=True)
    assert b"will not be proposed again" in response.data and b"No proposals." in response.data


def test_finance_matches_by_hand_with_an_amount_and_unmatches(client, login, finance, setup):
    entry, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/matches",
                           data={"entry_id": str(entry.id), f"amount_{entry.id}": "20.00", "note": "Part"},
                           follow_redirects=True)
    assert b"Matched." in response.data
    match = db.session.scalar(select(Match))
    assert match.total_pence == 2000 and match.note == "Part"
    match_id, line_id, entry_id = match.id, line.id, entry.id
    response = client.post(f"/reconciliation/matches/{match_id}/delete", data={"line_id": line_id},
                           follow_redirects=True)
    assert b"Unmatched." in response.data and count(Match) == 0
    history = " ".join(response.get_data(as_text=True).split("<h2>History</h2>")[1].split())
    assert f"Matched (match #{match_id}: line #{line_id} with entry #{entry_id} £20.00)" in history
    assert "Unmatched" in history


@pytest.mark.parametrize("amount, message", [("20.001", b"two decimal places"), ("abc", b"Enter an amount"),
                                             ("-5", b"must not be negative"),
                                             ("45.01", "has only £45.00 left".encode())])
def test_a_bad_manual_match_is_explained_and_writes_nothing(client, login, finance, setup, amount, message):
    entry, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/matches",
                           data={"entry_id": str(entry.id), f"amount_{entry.id}": amount}, follow_redirects=True)
    assert message in response.data
    assert count(Match) == 0


def test_a_match_refused_part_way_is_undone_though_the_page_redirects(client, login, finance, build, setup):
    first, _, line = setup
    second = build.direct_purchase(gross_pence=4500, on=days_ago(4), actor=finance, receipt="R-1002")
    login(finance)
    # The first pair takes the whole line; the second is refused, after the first was written.
    response = client.post(f"/reconciliation/lines/{line.id}/matches",
                           data={"entry_id": [str(first.id), str(second.id)], f"amount_{first.id}": "45.00",
                                 f"amount_{second.id}": "1.00"})
    assert response.status_code == 302
    assert count(Match) == 0 and count(MatchAllocation) == 0
    assert db.session.get(StatementLine, line.id).allocated_pence == 0


def test_a_manual_match_naming_no_real_entry_is_explained(client, login, finance, setup):
    _, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/matches", data={"entry_id": "99999999999999999999"},
                           follow_redirects=True)
    assert b"Must be the id of a record" in response.data and count(Match) == 0


def test_marking_an_unmatched_line_reconciled_is_refused(client, login, finance, setup):
    _, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/reconcile", follow_redirects=True)
    assert b"Match the remaining \xc2\xa345.00 of the line" in response.data
    assert b"Reconciled" not in response.data.split(b"<h2>History</h2>")[1]


def test_the_exceptions_page_lists_old_unmatched_lines_and_entries(app, client, login, finance, setup):
    app.config["RECONCILIATION_EXCEPTION_DAYS"] = 3
    login(finance)
    assert b"CARD LOCKSMITH DIRECT" in client.get("/reconciliation/exceptions").data
    assert b"Locksmith Direct, receipt R-1001" in client.get("/reconciliation/exceptions?show=entries").data


# API ---------------------------------------------------------------------------------------

def post_statement(caller, data: bytes, **overrides):
    return caller.post("/statements", data=upload_fields(data, **overrides), content_type="multipart/form-data")


def test_the_api_imports_a_statement_and_pages_its_lines(api):
    caller = api(roles=["finance"])
    response = post_statement(caller, statement_csv())
    assert response.status_code == 201
    body = response.get_json()
    assert (body["line_count"], body["new_count"], body["duplicate_count"]) == (2, 2, 0)
    lines = caller.get(f"/statements/{body['id']}/lines?per_page=1").get_json()
    assert lines["total"] == 2 and lines["items"][0]["amount_pence"] == -4500
    assert lines["items"][0]["remaining_pence"] == 4500 and lines["items"][0]["reconciled"] is False
    assert post_statement(caller, statement_csv()).get_json()["duplicate_count"] == 2


@pytest.mark.parametrize("data, overrides, field", [
    (b"", {}, "file"),
    (b"\x00\x01\x02binary", {}, "file"),
    (statement_csv(), {"amount_column": "Value"}, "amount_column"),
    (statement_csv(), {"date_column": None}, "date_column"),
    (statement_csv(), {"account": None}, "account"),
    (statement_csv(), {"file": None}, "file"),
])
def test_the_api_refuses_a_bad_statement_with_422_naming_the_field(api, data, overrides, field):
    response = post_statement(api(roles=["finance"]), data, **overrides)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert count(Statement) == 0


def test_the_api_lists_bad_lines_by_number(api):
    data = b"Date,Description,Amount\n01/03/2026,ok,-1.00\n01/03/2026,bad,1.2.3\n"
    response = post_statement(api(roles=["finance"]), data, reference_column=None)
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_statement"
    assert error["details"]["lines"] == [{"line": 3, "message": "Amount: '1.2.3' is not an amount in pounds, "
                                                                "like -24.99 or £1,234.50."}]


def test_the_api_refuses_a_statement_over_the_limit_with_413(app, api):
    app.config["STATEMENT_MAX_BYTES"] = 64
    response = post_statement(api(roles=["finance"]), statement_csv() * 3)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "file_too_large"


def test_the_api_refuses_a_body_over_the_request_limit_with_413(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = post_statement(api(roles=["finance"]), b"x" * 4096)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "finance"])
def test_only_finance_may_use_the_statement_api(api, setup, role):
    _, statement, _ = setup
    caller = api(roles=[role])
    assert caller.get(f"/statements/{statement.id}/lines").status_code == 403
    assert post_statement(caller, statement_csv()).status_code == 403
    assert caller.post("/reconciliation/matches", json={"allocations": []}).status_code == 403
    assert caller.delete("/reconciliation/matches/1").status_code == 403


def test_the_lines_of_an_unknown_statement_are_not_found(api):
    assert api(roles=["finance"]).get("/statements/999/lines").status_code == 404


def test_the_api_matches_and_unmatches(api, setup):
    entry, _, line = setup
    caller = api(roles=["finance"])
    response = caller.post("/reconciliation/matches", json={
        "allocations": [{"statement_line_id": line.id, "ledger_entry_id": entry.id}], "note": "Lock"})
    assert response.status_code == 201
    match = response.get_json()
    assert match["allocations"] == [{"statement_line_id": line.id, "ledger_entry_id": entry.id, "amount_pence": 4500}]
    again = caller.post("/reconciliation/matches", json={
        "allocations": [{"statement_line_id": line.id, "ledger_entry_id": entry.id, "amount_pence": 1}]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "over_allocated"
    assert caller.delete(f"/reconciliation/matches/{match['id']}").get_json() == {"id": match["id"], "deleted": True}
    assert caller.delete(f"/reconciliation/matches/{match['id']}").status_code == 404


@pytest.mark.parametrize("body, field", [
    (None, "allocations"),
    ({}, "allocations"),
    ({"allocations": []}, "allocations"),
    ({"allocations": ["x"]}, "allocations[0]"),
    ({"allocations": [{"statement_line_id": "1", "ledger_entry_id": 1}]}, "allocations[0].statement_line_id"),
    ({"allocations": [{"statement_line_id": 1, "ledger_entry_id": 1, "amount_pence": 1.5}]},
     "allocations[0].amount_pence"),
    ({"allocations": [{"statement_line_id": 1, "ledger_entry_id": 1, "amount_pence": 0}]},
     "allocations[0].amount_pence"),
    ({"allocations": [{"statement_line_id": 1, "ledger_entry_id": 1}], "note": 5}, "note"),
])
def test_a_bad_match_request_is_a_422_naming_the_field(api, setup, body, field):
    response = api(roles=["finance"]).post("/reconciliation/matches", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_finance_posts_a_bank_fee_from_the_reconciliation_screen(client, login, finance, build, setup):
    [line] = db.session.scalars(select(StatementLine).where(StatementLine.statement_id == build.statement(
        [(days_ago(2), "MONTHLY ACCOUNT FEE", "-5.00", "")], actor=finance).id)).all()
    login(finance)
    assert b"Post to the ledger and match" in client.get(f"/reconciliation/lines/{line.id}").data
    response = client.post(f"/reconciliation/lines/{line.id}/post", data={"category": "", "memo": ""})
    assert response.status_code == 422 and b"Choose a category" in response.data and count(Match) == 0
    response = client.post(f"/reconciliation/lines/{line.id}/post", data={"category": "Bank charges"},
                           follow_redirects=True)
    assert b"Posted to the ledger and matched." in response.data and b"Mark reconciled" in response.data


def test_the_api_reads_a_windows_1252_semicolon_file_with_paid_in_and_paid_out(api):
    data = "Datum;Details;In;Out\n03/11/2026;Café – Locks;;£1,045.00\n04/11/2026;Refund;12.50;\n".encode("cp1252")
    response = post_statement(api(roles=["finance"]), data, date_column="Datum", description_column="Details",
                              amount_column=None, paid_in_column="In", paid_out_column="Out", reference_column=None)
    assert response.status_code == 201
    lines = api(roles=["finance"]).get(f"/statements/{response.get_json()['id']}/lines").get_json()["items"]
    assert [(line["description"], line["amount_pence"]) for line in lines] == [("Café – Locks", -104500),
                                                                                ("Refund", 1250)]


@pytest.mark.parametrize("action", ["proposals/999/accept", "proposals/999/reject", "reconcile", "matches"])
def test_the_line_screen_buttons_on_an_unknown_line_are_not_found(client, login, finance, action):
    login(finance)
    assert client.post(f"/reconciliation/lines/999/{action}").status_code == 404


def test_accepting_a_proposal_for_an_unknown_entry_is_explained_on_the_line(client, login, finance, setup):
    _, _, line = setup
    login(finance)
    response = client.post(f"/reconciliation/lines/{line.id}/proposals/999/accept", follow_redirects=True)
    assert b"No ledger entry 999." in response.data and count(Match) == 0


def test_a_statements_lines_can_be_filtered_by_status(client, login, api, finance, build):
    day = days_ago(3)
    statement = build.statement([(day, "FIRST", "-1.00", ""), (day, "SECOND", "-2.00", "")], actor=finance)
    build.budget_period(allocated_pence=100_000, actor=finance, around_today=True)
    first = db.session.scalar(select(StatementLine).where(StatementLine.description == "FIRST"))
    operations.post_line_to_ledger(first.id, category="Bank charges", memo="", actor=finance)
    operations.mark_reconciled(first.id, actor=finance)
    db.session.commit()
    caller = api(roles=["finance"])
    assert [l["description"] for l in caller.get(f"/statements/{statement.id}/lines?status=open")
            .get_json()["items"]] == ["SECOND"]
    assert [l["description"] for l in caller.get(f"/statements/{statement.id}/lines?status=reconciled")
            .get_json()["items"]] == ["FIRST"]
    bad = caller.get(f"/statements/{statement.id}/lines?status=maybe")
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["details"]["fields"]
    login(finance)
    page = client.get(f"/reconciliation/statements/{statement.id}?status=open").data
    assert b"SECOND" in page and b"FIRST" not in page


def test_the_ledger_entry_page_shows_the_statement_line_that_pays_it(client, login, finance, setup):
    entry, _, line = setup
    operations.create_match(pairs=[operations.Pair(line.id, entry.id)], actor=finance)
    db.session.commit()
    login(finance)
    page = client.get(f"/budget/ledger/{entry.id}").get_data(as_text=True)
    assert f'href="/reconciliation/lines/{line.id}"' in page and "CARD LOCKSMITH DIRECT" in page


def test_an_entry_reversed_while_matched_in_older_data_is_flagged_on_the_line(client, login, finance, setup):
    # The ledger now refuses to reverse matched money; older data may still hold such a pair.
    entry, _, line = setup
    ledger.reverse(entry, reason="Wrong supplier", actor=finance)
    match = Match(method="manual", created_by_id=finance.id)
    match.allocations.append(MatchAllocation(statement_line_id=line.id, ledger_entry_id=entry.id, amount_pence=4500))
    line.allocated_pence = 4500
    db.session.add(match)
    db.session.commit()
    login(finance)
    assert b"Entry reversed since: unmatch it" in client.get(f"/reconciliation/lines/{line.id}").data


def reversal_of(entry_id):
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id))


def test_reversing_a_matched_entry_on_its_page_says_to_unmatch_it_first(client, login, finance, setup):
    entry, _, line = setup
    operations.create_match(pairs=[operations.Pair(line.id, entry.id)], actor=finance)
    db.session.commit()
    login(finance)
    response = client.post(f"/budget/ledger/{entry.id}/reverse", data={"reason": "Wrong supplier"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f"matched to statement line {line.id}" in page and "Unmatch it in reconciliation first" in page
    assert reversal_of(entry.id) is None


def test_the_api_refuses_to_reverse_a_matched_entry_with_409_and_its_code(api, finance, setup):
    entry, _, line = setup
    operations.create_match(pairs=[operations.Pair(line.id, entry.id)], actor=finance)
    db.session.commit()
    response = api(user=finance).post(f"/ledger/entries/{entry.id}/reversal", json={"reason": "Wrong supplier"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "entry_matched" and "Unmatch it in reconciliation first" in error["message"]
    assert error["details"] == {"ledger_entry_id": entry.id, "statement_line_ids": [line.id]}
    assert reversal_of(entry.id) is None


def test_the_statements_list_shows_how_much_is_reconciled(client, login, finance, setup):
    entry, statement, line = setup
    operations.create_match(pairs=[operations.Pair(line.id, entry.id)], actor=finance)
    operations.mark_reconciled(line.id, actor=finance)
    db.session.commit()
    login(finance)
    page = " ".join(client.get("/reconciliation/statements").get_data(as_text=True).split())
    assert '<td class="num">1 of 1</td>' in page
