"""The schema comes only from migrations: they must agree with the models, and must go
down and up again cleanly, on whichever engine this pass runs."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory.extensions import db
from inventory.stock.operations import issue_item
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


def _foreign_keys(table: str) -> set[tuple[str, str]]:
    return {(key["constrained_columns"][0], key["referred_table"]) for key in inspect(db.engine).get_foreign_keys(table)}


def _append_only_guard_holds(connection) -> bool:
    try:
        with connection.begin_nested():
            connection.execute(text("UPDATE item_events SET note = 'rewritten'"))
    except DBAPIError:
        return True
    return False


def test_items_and_their_events_name_a_real_request_and_case(app, build):
    assert {("reserved_for_request_id", "requests"), ("issued_case_id", "cases")} <= _foreign_keys("items")
    assert {("request_id", "requests"), ("case_id", "cases")} <= _foreign_keys("item_events")
    item = build.item()
    with pytest.raises(IntegrityError):
        issue_item(item, case_id=build.case().id + 1000, actor=None)
        db.session.flush()


def test_0009_keeps_items_issued_to_a_case_going_down_and_up_and_refuses_references_to_nothing(
        empty_database_url, capsys):
    """Going down to 0008 and up again keeps every item and event (and the append-only
    guard on item_events); an item naming a missing case stops the upgrade, which then
    changes nothing."""
    from inventory.stock.models import Item, ItemEvent
    from tests.support import Builders

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        case, items = Builders().handed_over()
        case_id, item_id = case.id, items[0].id
        events = db.session.scalar(select(func.count()).select_from(ItemEvent))
        db.session.remove()

        downgrade(revision="0008")
        assert ("issued_case_id", "cases") not in _foreign_keys("items")
        assert ("case_id", "cases") not in _foreign_keys("item_events")
        with db.engine.connect() as connection:
            assert _append_only_guard_holds(connection)
        upgrade()
        assert db.session.get(Item, item_id).issued_case_id == case_id
        assert db.session.scalar(select(func.count()).select_from(ItemEvent)) == events
        db.session.remove()
        with db.engine.connect() as connection:
            assert _append_only_guard_holds(connection)

        downgrade(revision="0008")
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE items SET issued_case_id = :missing WHERE id = :id"),
                               {"missing": case_id + 1000, "id": item_id})
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            upgrade()
        assert "1 in items.issued_case_id (no such cases.id)" in capsys.readouterr().err
        assert ("issued_case_id", "cases") not in _foreign_keys("items")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        db.engine.dispose()


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()) \
        .get_revision(revision).down_revision


def test_0026_binds_sealed_case_fields_to_their_rows_and_seals_free_text_written_before_it(empty_database_url):
    """Before 0026 a case's name was sealed to its column only and a request's reason and the
    police reference were plain text; 0026 seals them all to their rows, and going back down
    restores exactly that."""
    from inventory.cases.models import Case
    from inventory.requests.models import EquipmentRequest
    from inventory.sealing.keys import keyring
    from tests.support import Builders

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        build = Builders()
        case = build.case(name="Mo Presealing", police_reference="NP/2025/000111")
        raised = build.equipment_request(case=case, reason="Perpetrator has a key")
        case_id, request_id = case.id, raised.id
        db.session.remove()

        def stored():
            with db.engine.connect() as connection:
                return (*connection.execute(text("SELECT name, police_reference FROM cases WHERE id = :id"),
                                            {"id": case_id}).one(),
                        connection.execute(text("SELECT reason FROM requests WHERE id = :id"),
                                           {"id": request_id}).scalar_one())

        downgrade(revision=_revision_before("0026"))
        name, police_reference, reason = stored()
        assert keyring().open(name, "cases.name") == "Mo Presealing"
        assert (police_reference, reason) == ("NP/2025/000111", "Perpetrator has a key")

        upgrade()
        name, police_reference, reason = stored()
        assert "Presealing" not in name and "000111" not in police_reference and "Perpetrator" not in reason
        case = db.session.get(Case, case_id)
        assert (case.name, case.police_reference) == ("Mo Presealing", "NP/2025/000111")
        assert db.session.get(EquipmentRequest, request_id).reason == "Perpetrator has a key"
        db.session.remove()
        db.engine.dispose()
