"""Fixtures shared by every test.

The database is real: SQLite by default, PostgreSQL when SAFEHOLD_TEST_DATABASE_URL is
set (`make test` runs both). The schema comes from the migrations, as in production.
"""
import contextvars
import os
import shutil
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule

from inventory import clock, create_app
from inventory.extensions import db
from tests.support import ApiClient, Builders

POSTGRES_URL = os.environ.get("SAFEHOLD_TEST_DATABASE_URL")
ENGINE = "postgresql" if POSTGRES_URL else "sqlite"


def pytest_report_header(config):
    return f"database engine: {ENGINE} ({POSTGRES_URL or 'temporary SQLite files'})"


def pytest_collection_modifyitems(config, items):
    if ENGINE == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs real concurrent PostgreSQL connections; runs in the PostgreSQL pass")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _reuse_url_builders() -> None:
    """Every test makes its own app, and Werkzeug compiles two URL-building functions for each
    of the app's 200-odd rules (an AST compiled per rule): a quarter of a second per test, most
    of the suite's setup. The function depends only on the rule's parsed form, so the tests
    keep one per rule and bind it to each new app's rule as Werkzeug does."""
    compile_builder = Rule._compile_builder
    made = {}

    def reused(self, append_unknown: bool = True):
        key = (self.rule, append_unknown, tuple(self._trace), repr(sorted((self.defaults or {}).items())))
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    Rule._compile_builder = reused


_reuse_url_builders()


def make_app(url: str, **overrides):
    return create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, **overrides})


def migrate_to_head(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# Rows the migrations write themselves (the seeded budget categories), by table: a copy of
# the SQLite template has them, and each PostgreSQL truncation puts them back.
SEEDED_ROWS: dict[str, list[dict]] = {}


def _read_seeded_rows(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(table.select()).mappings().all()
            if rows:
                SEEDED_ROWS[table.name] = [dict(row) for row in rows]
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A database at the migrations' head: PostgreSQL itself, or a SQLite template file."""
    if ENGINE == "postgresql":
        reset_postgres_schema(POSTGRES_URL)
        migrate_to_head(POSTGRES_URL)
        _read_seeded_rows(POSTGRES_URL)
        return POSTGRES_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate_to_head(f"sqlite:///{template}")
    return template


def _empty_postgres() -> None:
    """Every table emptied and every id sequence back to 1, as a fresh migration leaves them.
    DELETE, not TRUNCATE: truncating 57 tables makes new files for each and its indexes (a
    third of a second per test), while deleting the few rows a test wrote is instant. The
    replica role skips the append-only triggers and foreign-key checks for this transaction
    only, so every row can go in any order."""
    with db.engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text("SELECT setval(oid, 1, false) FROM pg_class "
                                "WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"))
        for table in db.metadata.sorted_tables:
            if table.name in SEEDED_ROWS:
                connection.execute(table.insert(), SEEDED_ROWS[table.name])
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                        f"(SELECT max(id) FROM {table.name}))"))


@pytest.fixture
def database_url(migrated_database, tmp_path):
    if ENGINE == "postgresql":
        return POSTGRES_URL
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, path)
    return f"sqlite:///{path}"


@contextmanager
def today_from_the_environment():
    """SAFEHOLD_TEST_TODAY=YYYY-MM-DD runs every test as if it were that day (10:00 UTC), to
    check that none depends on the date the suite happens to run (a year end, say)."""
    day = os.environ.get("SAFEHOLD_TEST_TODAY")
    if not day:
        yield
        return
    with clock.frozen_at(datetime.combine(date.fromisoformat(day), time(10), tzinfo=UTC)):
        yield


@pytest.fixture(autouse=True)
def _today_from_the_environment():
    with today_from_the_environment():
        yield


@pytest.fixture
def app_overrides():
    """Override in a test module to change settings for its app."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, with its own `g` and database session,
    as in production, rather than inside the test's context. Afterwards the test's own
    session starts a fresh transaction, so it sees what the request wrote."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside a redirect that the client is following
            db.session.rollback()
        return response


@pytest.fixture
def app(database_url, app_overrides, tmp_path):
    app = make_app(database_url, **app_overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        if ENGINE == "postgresql":
            _empty_postgres()
        db.engine.dispose()


@pytest.fixture
def made_up_sources(app):
    """For ledger-level tests whose commitments name made-up sources (request 1, ...) with no
    order or request behind them: verify-ledger counts every source as still open."""
    from inventory.budget.verification import open_commitment_owners

    open_commitment_owners.connect(app, lambda sources: set(sources))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def build(app):
    """Builders for test data: build.user(roles=["fitter"]), build.organisation(...)."""
    return Builders()


@pytest.fixture
def login(client, build):
    """Sign a user in through the real login form; returns the user."""

    def sign_in(user=None, *, roles=("admin",), password=Builders.PASSWORD):
        user = user or build.user(roles=roles)
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in


@pytest.fixture
def api(app, client, build):
    """An API client for a new user with the given roles; every response is checked
    against the OpenAPI document."""

    def make(*, roles=("admin",), user=None):
        user = user or build.user(roles=roles)
        return ApiClient(client, build.token(user), user)

    return make
