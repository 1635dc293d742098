"""Back up the whole database to one file, and restore it.

SQLite is copied with its online backup API (`sqlite3.Connection.backup`), a consistent
copy while the app runs; never a copy of the file, which can catch a write half-done.
PostgreSQL is dumped with `pg_dump` in its custom format and restored with `pg_restore`,
both from PostgreSQL's client tools.

A backup holds survivors' personal data (still encrypted with the data key), so it is
written readable by its owner only (mode 600), in a folder only the owner may enter, under a
temporary name until complete.
"""
import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, literal, select, table

from inventory.extensions import db
from inventory.notices import JobOutcome

BACKUP_NAME = re.compile(r"^safehold-\d{8}T\d{6}Z\.(sqlite3|dump)$")
EXTENSIONS = {"sqlite": "sqlite3", "postgresql": "dump"}
# Tables that hold no one's data when they alone have rows: Alembic's version, and the
# budget categories the migrations themselves seed.
EMPTY_WHEN_ONLY_THESE = {"alembic_version", "budget_categories"}
PG_ARCHIVE_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore cannot be made (a missing tool, a file that is no backup)."""


class DatabaseNotEmpty(BackupError):
    """Restoring would replace data already in the database."""


def backup_folder() -> Path:
    """BACKUP_DIR, or backups/ in the instance folder."""
    return Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")


def make_backup(folder: Path, now: datetime) -> Path:
    """A new backup of the whole database in `folder`, named by `now` (UTC, to the second)."""
    engine = _engine_name()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"safehold-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.{EXTENSIONS[engine]}"
    partial = path.with_name(path.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        os.chmod(partial, 0o600)  # if a stale partial was left with another mode
        if engine == "sqlite":
            _sqlite_backup(partial)
        else:
            _run("pg_dump", "--format=custom", f"--file={partial}", f"--dbname={_libpq_url()}")
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder` (at least one is always kept);
    other files there are left alone. Returns those deleted."""
    backups = sorted(path for path in folder.iterdir() if path.is_file() and BACKUP_NAME.match(path.name))
    doomed = backups[:-max(keep, 1)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def backup_job(now: datetime) -> JobOutcome:
    """Make one backup in BACKUP_DIR and delete those older than the newest BACKUP_KEEP. A
    second run at the same moment replaces the first's file with an identical copy."""
    folder = backup_folder()
    path = make_backup(folder, now)
    removed = prune_backups(folder, current_app.config["BACKUP_KEEP"])
    return JobOutcome(counts={"backups_made": 1, "bytes": path.stat().st_size, "backups_deleted": len(removed)})


def tables_holding_data() -> list[str]:
    """The tables of the database as it is that hold rows (apart from those that hold no
    one's data)."""
    names = sorted(set(inspect(db.engine).get_table_names()) - EMPTY_WHEN_ONLY_THESE)
    with db.engine.connect() as connection:
        return [name for name in names
                if connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first() is not None]


def restore_backup(path: Path, *, force: bool = False) -> None:
    """Replace the whole database with the backup in `path`. Refused (DatabaseNotEmpty) when
    the database already holds data, unless `force`."""
    engine = _engine_name()
    _check_is_backup(path, engine)
    db.session.remove()  # nothing of this process may hold the tables the restore replaces
    holding = tables_holding_data()
    if holding and not force:
        shown = ", ".join(holding[:5]) + (f" and {len(holding) - 5} more" if len(holding) > 5 else "")
        raise DatabaseNotEmpty(
            f"The database already holds data (in {shown}): restoring would replace all of it. "
            "Stop the app and the scheduler, check that this is the database to overwrite, "
            "and run again with --force.")
    db.engine.dispose()
    try:
        if engine == "sqlite":
            _sqlite_restore(path)
        else:
            # Clean first: a database holding the schema (made by `db upgrade`) would refuse it.
            # One transaction: a restore that fails part-way leaves the database as it was.
            _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                 f"--dbname={_libpq_url()}", str(path))
    finally:
        db.engine.dispose()  # no pooled connection remembers the database as it was


def _engine_name() -> str:
    name = db.engine.dialect.name
    if name not in EXTENSIONS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def _sqlite_backup(path: Path) -> None:
    source = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(path)
        try:
            source.driver_connection.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def _sqlite_restore(path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = db.engine.raw_connection()
    try:
        source.backup(target.driver_connection)
    finally:
        target.close()
        source.close()


def _check_is_backup(path: Path, engine: str) -> None:
    wrong = f"{path} is not a SafeHold backup of a {'SQLite' if engine == 'sqlite' else 'PostgreSQL'} database."
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    if engine == "postgresql":
        with path.open("rb") as file:
            if file.read(len(PG_ARCHIVE_MAGIC)) != PG_ARCHIVE_MAGIC:
                raise BackupError(wrong + " (A PostgreSQL backup is a pg_dump custom-format archive.)")
        return
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        found = None
    if found is None:
        raise BackupError(wrong)


def _libpq_url() -> str:
    """The database's URL for PostgreSQL's tools, without the password (given in PGPASSWORD)."""
    return db.engine.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(tool: str, *arguments: str) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(
            f"{tool} is not installed, and PostgreSQL backups need it: install PostgreSQL's client tools, "
            "of the server's major version or newer (Debian and Ubuntu: apt-get install postgresql-client).")
    environment = dict(os.environ)
    if db.engine.url.password:
        environment["PGPASSWORD"] = db.engine.url.password
    result = subprocess.run([binary, *arguments], env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")
