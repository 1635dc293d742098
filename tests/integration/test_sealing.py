"""Sealed fields are bound to their row: what the database holds is ciphertext only, a value
moved to another row or column does not open, rotation re-seals every table, and pages
decrypt only what they show."""
import base64

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from inventory.accounts.models import User
from inventory.cases.models import Case
from inventory.extensions import db
from inventory.reports import approvals
from inventory.requests import operations as requests
from inventory.requests.models import DeclinedAs, EquipmentRequest, RequestComment, RequestEvent
from inventory.sealing.cli import rotate_data_key
from inventory.sealing.columns import sealed_tables
from inventory.sealing.keys import DataKeyError, Keyring, keyring
from inventory.requests.transitions import Action

# Every sealed field of every table, with what the test types into it.
TYPED = {
    ("cases", "name"): "Zelda Quokkaby",
    ("cases", "address"): "7 Unlikely Mews, Northshire",
    ("cases", "phone"): "01632 960777",
    ("cases", "safe_contact_notes"): "Only text after 7pm",
    ("cases", "police_reference"): "NP/2026/424242",
    ("cases", "referral_agency"): "Quokkaby Housing Options",
    ("requests", "reason"): "The perpetrator has a key to the back door",
    ("requests", "decision_reason"): "Approved: lock change urgent, perpetrator nearby",
    ("request_events", "note"): "Approved: lock change urgent, perpetrator nearby",
    ("request_comments", "body"): "Survivor moving to her sister in Eastwick",
    ("priority_adjustments", "reason"): "Perpetrator released from custody on Friday",
    ("users", "totp_secret"): "JBSWY3DPEHPK3PXPQUOKKABY7777ZELD",
}


@pytest.fixture
def everything_sealed(build):
    """A case and a decided request with a comment and a priority move: every sealed field typed."""
    case = build.case(name=TYPED["cases", "name"], address=TYPED["cases", "address"], phone=TYPED["cases", "phone"],
                      safe_contact_notes=TYPED["cases", "safe_contact_notes"],
                      police_reference=TYPED["cases", "police_reference"], referral_source="agency",
                      referral_agency=TYPED["cases", "referral_agency"])
    raised = build.equipment_request(case=case, reason=TYPED["requests", "reason"])
    coordinator = build.user(roles=["coordinator"])
    coordinator.totp_secret = TYPED["users", "totp_secret"]
    requests.add_comment(raised.id, TYPED["request_comments", "body"], actor=coordinator)
    requests.adjust_priority(raised.id, 50, TYPED["priority_adjustments", "reason"], actor=coordinator)
    requests.reject_request(raised.id, DeclinedAs.OTHER, note=TYPED["requests", "decision_reason"], actor=coordinator)
    db.session.commit()
    return case, raised, coordinator


def raw(table: str, column: str, row_id: int):
    return db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()


def copy_raw(table: str, from_column: str, from_id: int, to_column: str, to_id: int) -> None:
    db.session.execute(text(f"UPDATE {table} SET {to_column} = :value WHERE id = :id"),
                       {"value": raw(table, from_column, from_id), "id": to_id})
    db.session.commit()
    db.session.expire_all()


def test_every_sealed_field_is_in_the_list_this_file_types_into(app):
    listed = {(sealed.table.name, column.name) for sealed in sealed_tables() for column in sealed.row_bound}
    assert listed == set(TYPED)


def test_the_database_holds_none_of_what_was_typed(everything_sealed):
    dump = []
    for table, column in TYPED:
        dump += db.session.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
    stored = "\n".join(value for value in dump if value)
    for typed in TYPED.values():
        for word in typed.replace(",", "").split():
            if len(word) > 4:
                assert word not in stored


def test_every_field_reads_back_as_typed(everything_sealed):
    case, raised, coordinator = everything_sealed
    db.session.expire_all()
    case, raised = db.session.get(Case, case.id), db.session.get(EquipmentRequest, raised.id)
    rows = {"cases": case, "requests": raised, "request_events": raised.events[-1],
            "request_comments": raised.comments[0], "priority_adjustments": raised.adjustments[0],
            "users": db.session.get(User, coordinator.id)}
    for (table, column), typed in TYPED.items():
        assert getattr(rows[table], column) == typed, (table, column)


def test_one_cases_address_copied_into_another_case_does_not_open_there(build):
    first, second = build.case(address="1 First Street"), build.case(address="2 Second Street")
    copy_raw("cases", "address", first.id, "address", second.id)
    with pytest.raises(DataKeyError, match="integrity"):
        db.session.get(Case, second.id).address
    assert db.session.get(Case, first.id).address == "1 First Street"


def test_one_requests_reason_copied_into_another_request_does_not_open_there(build):
    case = build.case()
    first = build.equipment_request(case=case, reason="Perpetrator has a key")
    second = build.equipment_request(case=case, reason="Needs an alarm to carry")
    copy_raw("requests", "reason", first.id, "reason", second.id)
    with pytest.raises(DataKeyError):
        db.session.get(EquipmentRequest, second.id).reason


def test_a_comment_copied_into_another_comment_does_not_open_there(build):
    raised, coordinator = build.equipment_request(), build.user(roles=["coordinator"])
    first = requests.add_comment(raised.id, "She has moved to Eastwick", actor=coordinator)
    second = requests.add_comment(raised.id, "Called back", actor=coordinator)
    db.session.commit()
    copy_raw("request_comments", "body", first.id, "body", second.id)
    with pytest.raises(DataKeyError):
        db.session.get(RequestComment, second.id).body


def test_a_value_copied_into_another_column_of_the_same_row_does_not_open(build):
    case = build.case(name="Jo Example", phone="01632 960001")
    copy_raw("cases", "name", case.id, "phone", case.id)
    with pytest.raises(DataKeyError):
        db.session.get(Case, case.id).phone


def test_a_whole_seal_copied_with_its_key_cannot_take_another_rows_place(build):
    """The seal key is unique in its table: a row cannot borrow another's."""
    first, second = build.case(), build.case()
    with pytest.raises(DBAPIError):
        copy_raw("cases", "seal_key", first.id, "seal_key", second.id)
    db.session.rollback()


def test_every_sealed_value_of_every_table_survives_a_key_rotation(app, everything_sealed):
    case, raised, _ = everything_sealed
    old_key = app.config["DATA_ENCRYPTION_KEY"]
    app.config.update(DATA_ENCRYPTION_KEY=base64.urlsafe_b64encode(b"r" * 32).decode(),
                      DATA_ENCRYPTION_OLD_KEYS=[old_key])
    counts = rotate_data_key()
    assert set(counts) == {table for table, _ in TYPED}
    assert rotate_data_key() == {}
    for table, column in TYPED:
        values = db.session.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars().all()
        assert values and all(keyring().is_current(value) for value in values), (table, column)
    app.config["DATA_ENCRYPTION_OLD_KEYS"] = []
    db.session.expire_all()
    case, raised = db.session.get(Case, case.id), db.session.get(EquipmentRequest, raised.id)
    assert (case.name, case.police_reference) == (TYPED["cases", "name"], TYPED["cases", "police_reference"])
    assert raised.reason == TYPED["requests", "reason"]
    assert raised.comments[0].body == TYPED["request_comments", "body"]
    assert raised.adjustments[0].reason == TYPED["priority_adjustments", "reason"]
    assert raised.events[-1].note == TYPED["request_events", "note"]


def test_request_history_may_be_resealed_but_never_rewritten_or_erased(everything_sealed):
    _, raised, _ = everything_sealed
    event = db.session.get(RequestEvent, raised.events[-1].id)
    resealed = keyring().seal(event.note, f"request_events.note/{event.seal_key}")
    db.session.execute(text("UPDATE request_events SET note = :note WHERE id = :id"), {"note": resealed, "id": event.id})
    db.session.commit()
    for change in ("note = NULL", "action = 'approve'", "seal_key = 'x'"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(f"UPDATE request_events SET {change} WHERE id = :id"), {"id": event.id})
        db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM priority_adjustments"))
    db.session.rollback()


def test_the_approval_trail_shows_sealed_reasons_as_written(everything_sealed):
    rows = [approvals.trail_row(row) for row in db.session.execute(approvals.trail_query(approvals.TrailFilters()))]
    reasons = {row.decision: row.reason for row in rows}
    assert reasons[approvals.Decision.REJECTED] == TYPED["request_events", "note"]
    assert reasons[approvals.Decision.PRIORITY_OVERRIDE] == TYPED["priority_adjustments", "reason"]


@pytest.fixture
def opened(monkeypatch):
    """How many sealed values were opened, from here on."""
    count = {"opened": 0}
    original = Keyring.open

    def counting(self, stored, context):
        count["opened"] += 1
        return original(self, stored, context)

    monkeypatch.setattr(Keyring, "open", counting)
    return count


@pytest.mark.parametrize("path, roles", [("/queue", ["coordinator"]), ("/cases", ["coordinator"])])
def test_the_queue_and_the_case_list_decrypt_nothing_they_do_not_show(client, login, build, opened, path, roles):
    for _ in range(3):
        raised = build.equipment_request(reason="Perpetrator has a key")
        requests.add_comment(raised.id, "Called back", actor=build.user(roles=["coordinator"]))
    db.session.commit()
    login(roles=roles)
    opened["opened"] = 0
    response = client.get(path)
    assert response.status_code == 200
    assert opened["opened"] == 0


def test_a_decision_note_is_sealed_as_the_request_moves(build):
    raised = build.equipment_request()
    requests.take_action(raised.id, Action.REQUEST_INFO, note="Is the landlord's consent in writing?",
                         actor=build.user(roles=["coordinator"]))
    db.session.commit()
    event = db.session.get(EquipmentRequest, raised.id).events[-1]
    assert "landlord" not in raw("request_events", "note", event.id)
    assert event.note == "Is the landlord's consent in writing?"
