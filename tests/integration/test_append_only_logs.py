import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from inventory.audit.models import AppendOnlyViolation, AuditEvent, AuditEventKind
from inventory.audit.operations import record_access, record_event
from inventory.extensions import db


@pytest.fixture
def logged(build):
    user = build.user()
    event = record_event(AuditEventKind.LOGOUT, actor=user)
    access = record_access(user, case_id=42, case_reference="NS-2026-0042", what="address", reason="test")
    db.session.commit()
    return event, access


def test_the_app_refuses_to_edit_an_audit_event(logged):
    event, _ = logged
    event.kind = "something_else"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


def test_the_app_refuses_to_delete_an_access_log_row(logged):
    _, access = logged
    db.session.delete(access)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET kind = 'tampered'",
    "DELETE FROM audit_events",
    "UPDATE access_log SET reason = 'tampered'",
    "DELETE FROM access_log",
])
def test_the_database_refuses_edits_made_behind_the_apps_back(logged, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert db.session.get(AuditEvent, logged[0].id).kind == "logout"
