"""Engine behaviour the rest of the app relies on.

SQLite: foreign keys on, WAL, a busy timeout, and transactions that will write take the
write lock up front (BEGIN IMMEDIATE) so that a read-then-write cannot be overtaken.
PostgreSQL: read-then-write paths lock rows with SELECT ... FOR UPDATE (`for_update`).
"""
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import BigInteger, DateTime, Integer, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)

BUSY_TIMEOUT_MS = 10_000  # how long a SQLite write waits for the write lock
BRIEF_WAIT_MS = 20  # how long a write that may be skipped waits for it (`brief_write`)


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
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def _set_busy_timeout(connection, milliseconds: int) -> None:
    cursor = connection.connection.cursor()  # the driver's own: no transaction begins
    cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
    cursor.close()


@contextmanager
def brief_write(engine: Engine):
    """A transaction on a connection of its own for a small write that may be skipped (when a
    token was last used, the end of a timed-out session): it waits at most BRIEF_WAIT_MS for
    a lock, then fails with an OperationalError for the caller to ignore, rather than hold up
    the request around it."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _set_busy_timeout(connection, BRIEF_WAIT_MS)
        try:
            with intent_to_write(), connection.begin():
                if not sqlite:
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BRIEF_WAIT_MS}ms'")
                yield connection
        finally:
            if sqlite:
                _set_busy_timeout(connection, BUSY_TIMEOUT_MS)


def set_write_intent(value: bool):
    return _write_intent.set(value)


def reset_write_intent(token) -> None:
    _write_intent.reset(token)


class Pence(TypeDecorator):
    """Money in 64 bits: 32-bit sums overflow above £21.47M. SQLite's INTEGER already stores
    64 bits. PostgreSQL sums a BIGINT as NUMERIC, which psycopg reads as Decimal; a sum keeps
    its column's type in SQLAlchemy, so every total comes back as int here, as money must."""

    impl = BigInteger().with_variant(Integer(), "sqlite")
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else int(value)


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



def create_append_only_guard(op, table: str, *, resealable: tuple[str, ...] = (),
                             redactable: tuple[str, str] | None = None) -> None:
    """Database triggers that refuse UPDATE and DELETE on `table` (used by migrations).

    The app already refuses such flushes; this stops anything else that talks to the
    database through the app's account from quietly rewriting history. Two exceptions, each
    to named columns only, every other column unchanged:

    - `resealable`: sealed columns that `rotate-data-key` may rewrite under a new key, as long
      as no value appears or vanishes. That is safe because each value is bound to its row
      (inventory.sealing): one from anywhere else does not open.
    - `redactable`: (column, SQL true of the row OLD when its case is anonymised): the free
      text in that column may be overwritten or emptied once its case is anonymised.

    On SQLite the update trigger names the table's other columns as they are now, so a
    migration that adds a column to such a table (or rebuilds it) makes the guard again.
    """
    redact_column, anonymised_case = redactable or (None, None)
    free = [*resealable, *([redact_column] if redact_column and redact_column not in resealable else [])]
    if not free:
        _create_plain_guard(op, table)
        return
    allowed = " OR ".join(
        ([" AND ".join(f"((OLD.{c} IS NULL) = (NEW.{c} IS NULL))" for c in resealable)] if resealable else [])
        + ([anonymised_case] if anonymised_case else []))
    if op.get_bind().dialect.name == "postgresql":
        free_columns = ", ".join(f"'{c}'" for c in free)
        op.execute(
            f"CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'UPDATE' THEN "
            f"IF (to_jsonb(NEW) - ARRAY[{free_columns}]) = (to_jsonb(OLD) - ARRAY[{free_columns}]) "
            f"AND ({allowed}) THEN RETURN NEW; END IF; END IF; "
            "RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_guard()"
        )
        return
    others = [c["name"] for c in inspect(op.get_bind()).get_columns(table) if c["name"] not in free]
    unchanged = " AND ".join(f"NEW.{name} IS OLD.{name}" for name in others)
    refuse = f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
    op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} WHEN NOT ({unchanged} AND ({allowed})) "
               f"{refuse}")
    op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {refuse}")


def _create_plain_guard(op, table: str) -> None:
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
        refuse = f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
        op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {refuse}")
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {refuse}")


def drop_append_only_guard(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_guard()")
    else:
        for trigger in ("no_update", "no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")


def one_of(column: str, values) -> str:
    """SQL for a CHECK constraint that `column` holds one of `values` (an enum's members)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
