"""The CSV exports of items, requests and ledger entries: the rows each filter selects, worked
out by hand from a known world; what each row says; formulas neutralised; no survivor's
personal data; and a large export read and written in pieces, never whole in memory."""
import csv
import io
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, insert
from werkzeug.datastructures import MultiDict

from inventory import clock
from inventory.budget.operations import record_direct_purchase
from inventory.csv_files import csv_chunks
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.reports import exports
from inventory.requests.models import DeclinedAs
from inventory.requests.operations import reject_request
from inventory.stock.models import Item
from tests.conftest import ENGINE
from tests.support import recorded_selects

MAY = datetime(2026, 5, 12, 10, tzinfo=UTC)  # in 2026Q1 (April to June 2026)
AUGUST = datetime(2026, 8, 20, 10, tzinfo=UTC)  # in 2026Q2
FORMULA_SUPPLIER = '=HYPERLINK("http://evil.example","Alarms")'
# What no export may contain: the survivors' personal details.
PERSONAL = {
    "lead": dict(name="Zebediah Quarrington", address="77 Unmistakable Lane\nGlimmerton", phone="07700 900123",
                 safe_contact_notes="Ring twice then hang up"),
    "partner": dict(name="Philomena Vantablack", address="3 Improbable Mews", phone="07700 900456",
                    safe_contact_notes="Only after 6pm"),
}
PERSONAL_TEXT = [value.split("\n")[0] for details in PERSONAL.values() for value in details.values()]


def read_csv(choice) -> list[dict]:
    text = "".join(csv_chunks(exports.columns_of(choice), exports.rows_of(db.session, choice)))
    for secret in PERSONAL_TEXT:
        assert secret not in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def choose(**args):
    return exports.read_choice(MultiDict(args))


def bought(pence, finance, *, case_reference=None, supplier="Locksmith Direct"):
    record_direct_purchase(supplier_name=supplier, purchased_on=clock.today(), net_pence=pence, vat_pence=0,
                           gross_pence=pence, receipt_reference="R-1", category="Lock", actor=finance,
                           case_reference=case_reference)
    db.session.commit()


@pytest.fixture
def world(build):
    """In May: the lead's case has an alarm handed over (request approved and installed), an
    order of two alarms from a supplier whose name is a formula arrives, and £45 is spent on
    the case. In August: a partner's case asks for two alarms and a lock and is turned down,
    three locks arrive, and £12 is spent on that case."""
    with clock.frozen_at(MAY):
        lead, partner = build.lead(), build.organisation(name="Partner Agency")
        finance, coordinator = build.user(roles=["finance"]), build.user(roles=["coordinator"])
        build.budget_period(starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31), allocated_pence=1_000_000,
                            actor=finance)
        alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
        lock = build.item_type(name="Door lock", standard_cost_pence=4000, loaned=False)
        lead_case = build.case(organisation=lead, **PERSONAL["lead"])
        installed_request = build.handed_over(case=lead_case, lines=[(alarm, 1)])[0]
        order = build.purchase_order(supplier=build.supplier(name=FORMULA_SUPPLIER), lines=[(alarm, 2, 1000, 200)],
                                     actor=coordinator)
        build.receipt(order, actor=coordinator)
        bought(4500, finance, case_reference=lead_case.reference, supplier="=SUM(A1:A9)")
    with clock.frozen_at(AUGUST):
        partner_case = build.case(organisation=partner, risk_level="high", **PERSONAL["partner"])
        declined = build.equipment_request(case=partner_case, lines=[(alarm, 2), (lock, 1)])
        reject_request(declined.id, DeclinedAs.UNSUITABLE, note="Fitted by the council last month.", actor=coordinator)
        build.items(3, item_type=lock, purchase_cost_pence=3900, serial_numbers=("L-1", "L-2", "L-3"))
        bought(1200, finance, case_reference=partner_case.reference)
        db.session.commit()
    return dict(lead=lead, partner=partner, lead_case=lead_case, partner_case=partner_case, order=order,
                installed_request=installed_request, declined=declined)


# Items -----------------------------------------------------------------------------------------

def test_items_are_chosen_by_the_day_they_entered_stock(world):
    assert len(read_csv(choose(what="items"))) == 6
    assert [row["item_type"] for row in read_csv(choose(what="items", quarter="2026Q1"))] == ["Personal alarm"] * 3
    assert [row["serial_number"] for row in read_csv(choose(what="items", quarter="2026q2"))] == ["L-1", "L-2", "L-3"]
    assert read_csv(choose(what="items", **{"from": "2026-05-13", "to": "2026-08-19"})) == []
    assert len(read_csv(choose(what="items", **{"from": "2026-08-20"}))) == 3
    assert len(read_csv(choose(what="items", to="2026-05-12"))) == 3


def test_with_an_organisation_only_items_issued_to_its_cases_are_exported(world):
    [issued] = read_csv(choose(what="items", organisation=str(world["lead"].id)))
    assert (issued["state"], issued["case_reference"], issued["organisation"]) == (
        "issued", world["lead_case"].reference, "Lead Provider")
    assert read_csv(choose(what="items", organisation=str(world["partner"].id))) == []


def test_an_item_row_has_its_money_and_provenance_and_no_code(world):
    rows = read_csv(choose(what="items", quarter="2026Q1"))
    ordered = [row for row in rows if row["purchase_order"]]
    assert len(ordered) == 2
    assert ordered[0]["purchase_order"] == f"PO-{world['order'].id:05d}"
    assert ordered[0]["purchase_cost_pence"] == "1200"  # net and VAT of the order line
    assert ordered[0]["supplier"] == "'" + FORMULA_SUPPLIER  # a formula is shown as text
    assert ordered[0]["received_on"] == "2026-05-12"
    assert "code" not in rows[0]
    codes = {item.code for item in db.session.query(Item)}
    assert not any(code in value for row in rows for value in row.values() for code in codes)


# Requests --------------------------------------------------------------------------------------

def test_requests_are_one_row_per_line_chosen_by_the_day_submitted(world):
    rows = read_csv(choose(what="requests"))
    assert [(row["request_id"], row["line_item_type"]) for row in rows] == [
        (str(world["installed_request"].id), "Personal alarm"),
        (str(world["declined"].id), "Personal alarm"), (str(world["declined"].id), "Door lock")]
    assert len(read_csv(choose(what="requests", quarter="2026Q1"))) == 1
    assert len(read_csv(choose(what="requests", quarter="2026Q2", organisation=str(world["partner"].id)))) == 2
    assert read_csv(choose(what="requests", quarter="2026Q2", organisation=str(world["lead"].id))) == []


def test_a_request_row_has_its_dates_risk_decision_and_cost(world):
    installed, declined_alarm, declined_lock = read_csv(choose(what="requests"))
    assert {key: installed[key] for key in ("case_reference", "organisation", "state", "risk_level", "submitted_on",
                                            "decided_on", "installed_on", "declined_as")} == {
        "case_reference": world["lead_case"].reference, "organisation": "Lead Provider", "state": "fulfilled",
        "risk_level": "standard", "submitted_on": "2026-05-12", "decided_on": "2026-05-12",
        "installed_on": "2026-05-12", "declined_as": ""}
    assert (declined_alarm["state"], declined_alarm["risk_level"], declined_alarm["declined_as"],
            declined_alarm["installed_on"]) == ("rejected", "high", "unsuitable", "")
    assert (declined_alarm["line_quantity"], declined_alarm["line_est_cost_pence"]) == ("2", "5000")
    assert (declined_lock["line_quantity"], declined_lock["line_est_cost_pence"]) == ("1", "4000")
    assert declined_alarm["request_est_cost_pence"] == declined_lock["request_est_cost_pence"] == "9000"


# Ledger entries ----------------------------------------------------------------------------------

def test_ledger_entries_are_chosen_by_their_date_and_by_the_organisation_of_their_case(world):
    everything = read_csv(choose(what="ledger_entries"))
    assert [(row["entry_date"], row["kind"], row["amount_pence"]) for row in everything] == [
        ("2026-04-01", "allocation", "1000000"), ("2026-05-12", "commitment", "-2400"),
        ("2026-05-12", "actual", "-4500"), ("2026-08-20", "actual", "-1200")]
    assert [row["position"] for row in everything] == ["1", "2", "3", "4"]
    assert [row["kind"] for row in read_csv(choose(what="ledger_entries", **{"from": "2026-05-01"}))] == [
        "commitment", "actual", "actual"]
    [lead_spend] = read_csv(choose(what="ledger_entries", organisation=str(world["lead"].id)))
    assert (lead_spend["case_reference"], lead_spend["organisation"], lead_spend["amount_pence"]) == (
        world["lead_case"].reference, "Lead Provider", "-4500")
    [partner_spend] = read_csv(choose(what="ledger_entries", quarter="2026Q2", organisation=str(world["partner"].id)))
    assert partner_spend["amount_pence"] == "-1200"


def test_a_ledger_row_has_what_finance_needs(world):
    actual = read_csv(choose(what="ledger_entries"))[2]
    assert actual["memo"] == "'=SUM(A1:A9), receipt R-1"  # the supplier's name began the memo with a formula
    assert (actual["net_pence"], actual["vat_pence"], actual["gross_pence"], actual["category"]) == (
        "4500", "0", "4500", "Lock")
    assert actual["budget_period"] and actual["posted_by"] and len(actual["hash"]) == 64
    assert actual["source_type"] == "direct_purchase" and actual["posted_at"].startswith("2026-05-12T10:00:00")


# Choosing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, field", [
    ({}, "what"),
    ({"what": "cases"}, "what"),
    ({"what": "items", "quarter": "2026Q5"}, "quarter"),
    ({"what": "items", "quarter": "Q3"}, "quarter"),
    ({"what": "items", "from": "2026-02-30"}, "from"),
    ({"what": "items", "to": "yesterday"}, "to"),
    ({"what": "items", "from": "2026-06-01", "to": "2026-05-31"}, "to"),
    ({"what": "items", "quarter": "2026Q1", "from": "2026-06-01"}, "quarter"),
    ({"what": "items", "organisation": "999999"}, "organisation"),
    ({"what": "items", "organisation": "lead"}, "organisation"),
    ({"what": "items", "organisation": "99999999999999999999999"}, "organisation"),
])
def test_a_choice_that_cannot_be_made_names_its_field(app, args, field):
    with pytest.raises(InvalidInput) as refused:
        exports.read_choice(MultiDict(args))
    assert field in refused.value.fields and refused.value.fields[field]


def test_every_bad_field_is_named_at_once(app):
    with pytest.raises(InvalidInput) as refused:
        exports.read_choice(MultiDict({"what": "x", "from": "soon", "organisation": "0"}))
    assert set(refused.value.fields) == {"what", "from", "organisation"}


def test_a_file_is_named_after_what_period_and_organisation_it_holds(world):
    assert choose(what="ledger_entries", quarter="2026Q3").filename == "ledger-entries-2026Q3.csv"
    assert choose(what="items").filename == "items-all.csv"
    assert choose(what="requests", **{"from": "2026-05-01"}, organisation=str(world["partner"].id)).filename == (
        f"requests-2026-05-01-to-now-organisation-{world['partner'].id}.csv")


# Scale -----------------------------------------------------------------------------------------

def many_items(item_type, count: int, *, first: int = 0) -> None:
    now = clock.now()
    db.session.execute(insert(Item), [
        {"code": f"BULK{n:012d}", "item_type_id": item_type.id, "state": "on_order", "serial_number": f"S{n}",
         "purchase_cost_pence": 2500, "created_at": now, "updated_at": now} for n in range(first, first + count)])
    db.session.commit()


def stream(choice) -> tuple[int, int, int]:
    """(bytes written, peak bytes allocated while writing, SELECT statements)."""
    written = 0
    with recorded_selects() as selects:
        tracemalloc.start()
        try:
            for chunk in csv_chunks(exports.columns_of(choice), exports.rows_of(db.session, choice)):
                written += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return written, peak, len(selects)


def test_a_large_export_is_read_and_written_in_pieces(build):
    """Ten times the rows, the same memory: what is held at once is a batch, not the file."""
    item_type, everything = build.item_type(name="Bulk alarm"), exports.ExportChoice(exports.ExportKind.ITEMS)
    many_items(item_type, 2_000)
    stream(everything)  # the first run also compiles and caches the statement
    small_file, small_peak, _ = stream(everything)
    many_items(item_type, 18_000, first=2_000)
    large_file, large_peak, selects = stream(everything)
    assert large_file > 9 * small_file > 900_000
    assert large_peak < 1.25 * small_peak, f"peak {small_peak:,} bytes for 2,000 items, {large_peak:,} for 20,000"
    assert selects == 1


@pytest.mark.parametrize("kind", list(exports.ExportKind))
def test_each_export_asks_the_database_for_a_streamed_result(world, kind):
    """On PostgreSQL a server-side cursor, so the driver never holds every row either (memory
    outside Python, which the test above cannot see)."""
    streamed = []

    def record(_conn, cursor, statement, _params, context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            streamed.append((context.execution_options.get("stream_results"), type(cursor).__name__))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        list(exports.rows_of(db.session, exports.ExportChoice(kind)))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # SQLite's own cursor steps through its result row by row.
    assert streamed == [(True, "ServerCursor" if ENGINE == "postgresql" else "Cursor")]


@pytest.mark.parametrize("kind", list(exports.ExportKind))
def test_an_export_costs_the_same_statements_however_many_rows(world, build, kind):
    choice = exports.ExportChoice(kind)
    _, _, before = stream(choice)
    build.handed_over(case=world["partner_case"])
    build.equipment_request(case=world["lead_case"])
    build.direct_purchase(gross_pence=999)
    _, _, after = stream(choice)
    assert before == after == 1
