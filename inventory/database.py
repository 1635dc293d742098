"""Engine behaviour the rest of the app relies on.

SQLite: foreign keys on, WAL, a busy timeout, and transactions that will write take the
write lock up front (BEGIN IMMEDIATE) so that a read-then-write cannot be overtaken.
PostgreSQL: read-then-write paths lock rows with SELECT ... FOR UPDATE (`for_update`).
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def install_engine_hooks(engine: Engine) -> None:
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


def create_redactable_guard(op, table: str, column: str, anonymised_case: str) -> None:
    """The append-only guard of a case's history (request events, priority adjustments, item
    events) with one exception, for anonymisation: the free text in `column` may be
    overwritten, every other column unchanged, on a row whose case is anonymised
    (`anonymised_case`: SQL, true of the row OLD when its case is). Dropped by
    `drop_append_only_guard`; a rebuild of the table (SQLite batch) must create it again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {table}_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'UPDATE' THEN "
            f"IF (to_jsonb(NEW) - '{column}') = (to_jsonb(OLD) - '{column}') AND {anonymised_case} THEN "
            "RETURN NEW; END IF; END IF; "
            "RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_redact_only()"
        )
        return
    from sqlalchemy import inspect

    others = [c["name"] for c in inspect(op.get_bind()).get_columns(table) if c["name"] != column]
    unchanged = " AND ".join(f"NEW.{name} IS OLD.{name}" for name in others)
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN NOT ({unchanged} AND {anonymised_case}) "
        f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
    )


def drop_append_only_guard(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_redact_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def one_of(column: str, values) -> str:
    """SQL for a CHECK constraint that `column` holds one of `values` (an enum's members)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
