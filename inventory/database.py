"""Engine behaviour the rest of the app relies on.

SQLite: foreign keys on, WAL, a busy timeout, and transactions that will write take the
write lock up front (BEGIN IMMEDIATE) so that a read-then-write cannot be overtaken.
PostgreSQL: read-then-write paths lock rows with SELECT ... FOR UPDATE (`for_update`).
"""
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


class _NoResultRows(logging.Filter):
    """SQLAlchemy's DEBUG log writes every result row as the app reads it, decrypted: a
    survivor's name and address in the server log. Statements and their (sealed) parameters
    still log; the rows never do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def install_engine_hooks(engine: Engine) -> None:
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(existing, _NoResultRows) for existing in engine_log.filters):
        engine_log.addFilter(_NoResultRows())
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@contextmanager
def intent_to_write():
    """Transactions begun inside this block take SQLite's write lock at BEGIN.

    Web requests that change data (POST, PUT, PATCH, DELETE) run inside it automatically.
    """
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def set_write_intent(value: bool):
    return _write_intent.set(value)


def reset_write_intent(token) -> None:
    _write_intent.reset(token)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every engine (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use inventory.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)



def create_append_only_guard(op, table: str) -> None:
    """Database triggers that refuse UPDATE and DELETE on `table` (used by migrations).

    The app already refuses such flushes; this stops anything else that talks to the
    database through the app's account from quietly rewriting history.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION safehold_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION safehold_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
            )


def drop_append_only_guard(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def one_of(column: str, values) -> str:
    """SQL for a CHECK constraint that `column` holds one of `values` (an enum's members)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
