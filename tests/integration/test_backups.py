"""Backups: `flask backup` writes the whole database to a private file; `flask restore` puts
it back, row for row in every table, refusing to overwrite data unless told to; the nightly
job makes one and keeps the newest BACKUP_KEEP. On both engines (PostgreSQL through
pg_dump and pg_restore)."""
import os
import shutil
import stat
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select, text

from inventory.backups.operations import backup_job
from inventory.extensions import db
from inventory.notices import JobOutcome
from tests.conftest import make_app

NIGHT = datetime(2026, 5, 12, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def postgres_client_tools(app):
    """The PostgreSQL pass needs pg_dump and pg_restore: missing, they skip these tests on a
    laptop and fail them in CI (`make pg-client` installs them)."""
    if db.engine.dialect.name != "postgresql" or (shutil.which("pg_dump") and shutil.which("pg_restore")):
        return
    message = "PostgreSQL's client tools (pg_dump, pg_restore) are not installed"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI needs them.")
    pytest.skip(message)


@pytest.fixture
def app_overrides(tmp_path):
    return {"BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_KEEP": 2}


@pytest.fixture
def data(build):
    """Something in most tables: a funded period and a purchase, a case with its encrypted
    details, a request, a job, items issued, users, a token."""
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=200_000, actor=finance)
    build.direct_purchase(gross_pence=4_500, actor=finance)
    build.handed_over()
    build.token(finance)


def every_row(engine) -> dict[str, list[tuple]]:
    """Every row of every table in the database (Alembic's too), in primary-key order."""
    tables = MetaData()
    tables.reflect(bind=engine)
    with engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for name, table in tables.tables.items()}


def backup_file(folder):
    [path] = list(folder.iterdir())
    return path


def test_a_backup_is_a_file_only_its_owner_may_read(app, data, runner, tmp_path):
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "elsewhere")])

    assert result.exit_code == 0, result.output
    path = backup_file(tmp_path / "elsewhere")
    assert path.suffix == (".sqlite3" if db.engine.dialect.name == "sqlite" else ".dump")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "personal data" in result.output


def test_restore_refuses_a_database_holding_data_and_with_force_puts_back_every_row(app, data, runner, tmp_path):
    db.session.commit()
    before = every_row(db.engine)
    assert runner.invoke(args=["backup"]).exit_code == 0
    path = backup_file(tmp_path / "backups")
    db.session.execute(text("UPDATE users SET email = 'changed@example.test' WHERE id = 1"))
    db.session.execute(text("DELETE FROM login_sessions"))
    db.session.execute(text("DELETE FROM api_tokens"))
    db.session.execute(text("UPDATE budget_periods SET name = 'Rewritten'"))
    db.session.commit()
    changed = every_row(db.engine)

    refused = runner.invoke(args=["restore", str(path)])

    assert refused.exit_code == 1
    assert "already holds data" in refused.output and "--force" in refused.output
    assert every_row(db.engine) == changed

    result = runner.invoke(args=["restore", str(path), "--force"])

    assert result.exit_code == 0, result.output
    assert every_row(db.engine) == before


def test_a_backup_restores_whole_into_an_empty_database(app, data, runner, tmp_path):
    db.session.commit()
    before = every_row(db.engine)
    assert runner.invoke(args=["backup"]).exit_code == 0
    path = backup_file(tmp_path / "backups")

    if db.engine.dialect.name == "postgresql":
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        target_app = app
    else:
        target_app = make_app(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with target_app.app_context():
        assert every_row(db.engine) == {}
        result = target_app.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        assert every_row(db.engine) == before
        db.engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database")

    result = runner.invoke(args=["restore", str(path), "--force"])

    assert result.exit_code == 1
    assert "is not a SafeHold backup" in result.output


def test_the_nightly_job_makes_one_and_keeps_the_newest_two(app, data, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "README.txt").write_text("not ours")

    outcomes = [backup_job(NIGHT + timedelta(days=day)) for day in range(3)]
    again = backup_job(NIGHT + timedelta(days=2))  # the same night run twice

    extension = "sqlite3" if db.engine.dialect.name == "sqlite" else "dump"
    assert sorted(path.name for path in folder.iterdir()) == [
        "README.txt", f"safehold-20260513T010000Z.{extension}", f"safehold-20260514T010000Z.{extension}"]
    size = (folder / f"safehold-20260514T010000Z.{extension}").stat().st_size
    assert [outcome.counts["backups_deleted"] for outcome in outcomes] == [0, 0, 1]
    assert again == JobOutcome(counts={"backups_made": 1, "bytes": size, "backups_deleted": 0})
