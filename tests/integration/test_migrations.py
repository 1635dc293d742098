"""The schema comes only from migrations: they must agree with the models, and must go
down and up again cleanly, on whichever engine this pass runs."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, inspect, select, text

from inventory.extensions import db
from tests.conftest import ENGINE, POSTGRES_URL, make_app


def test_the_migrations_create_exactly_what_the_models_describe(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of its own, so going down to nothing disturbs no other test."""
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
        return
    schema = f"roundtrip_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_upgrade_downgrade_upgrade_leaves_the_same_schema(empty_database_url):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        first = sorted(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert sorted(inspect(db.engine).get_table_names()) == first
        assert {"users", "organisations", "audit_events", "access_log"} <= set(first)
        db.engine.dispose()


def test_every_check_constraint_of_the_models_is_in_the_database(app):
    """compare_metadata does not look at CHECK constraints; a table rebuilt on SQLite must
    not lose any (nor gain a doubled name)."""
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        wanted = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint" and c.name}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == wanted, (table.name, wanted ^ found)


def test_jobs_made_before_collection_visits_take_their_requests_case_and_go_back_down(empty_database_url):
    """0008 gives every existing job its request's case; going back down removes collection
    visits (and only them); foreign keys hold throughout."""
    from inventory.jobs.models import CollectionItem, Job
    from tests.support import Builders

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        build = Builders()
        case, items = build.handed_over()
        case_id, install = case.id, db.session.scalar(select(Job.id))
        build.collection(case=case, items=items)
        db.session.remove()
        downgrade(revision="0007")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM jobs")).scalars().all() == [install]
        upgrade()
        job = db.session.get(Job, install)
        assert (job.kind, job.case_id) == ("install", case_id)
        assert db.session.scalar(select(func.count()).select_from(CollectionItem)) == 0
        db.session.remove()
        db.engine.dispose()
