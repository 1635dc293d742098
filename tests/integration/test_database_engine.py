"""What the app relies on from its database engine."""
import sqlite3

import pytest
from sqlalchemy import event, text

from inventory.database import intent_to_write
from inventory.extensions import db
from tests.conftest import ENGINE

sqlite_only = pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite behaviour; PostgreSQL locks rows instead")


@sqlite_only
def test_sqlite_runs_with_foreign_keys_wal_and_a_busy_timeout(app):
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _other_writer_can_begin(path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


@sqlite_only
def test_a_use_case_that_will_write_takes_the_write_lock_before_it_reads(app):
    path = db.engine.url.database
    with intent_to_write():
        db.session.execute(text("SELECT count(*) FROM users"))  # a read, first thing
        assert not _other_writer_can_begin(path)
        db.session.rollback()
    db.session.execute(text("SELECT count(*) FROM users"))
    assert _other_writer_can_begin(path)  # plain reads leave writers free
    db.session.rollback()


@sqlite_only
def test_web_requests_that_change_data_begin_with_the_write_lock_and_reads_do_not(app, client, login):
    login()
    begins = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def capture(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    client.get("/account/tokens")
    assert begins and set(begins) == {"BEGIN"}
    begins.clear()
    client.post("/account/tokens", data={"name": "x"})
    assert begins[0] == "BEGIN IMMEDIATE"


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO user_roles (user_id, role) VALUES (987654, 'admin')"))
