"""`flask --app inventory backup [--to DIR]` and `restore FILE [--force]`."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from inventory import clock
from inventory.backups.operations import BackupError, backup_folder, make_backup, restore_backup


@click.command("backup")
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write to (default: BACKUP_DIR, else backups/ in the instance folder).")
@with_appcontext
def backup_command(folder: Path | None):
    """Back up the whole database to a new file (mode 600): SQLite's online backup, or
    pg_dump's custom format. It holds personal data, encrypted as in the database."""
    try:
        path = make_backup(folder or backup_folder(), clock.now())
    except (BackupError, OSError) as error:
        raise click.ClickException(f"No backup was made: {error}") from None
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes). It holds survivors' personal data, "
               "encrypted with the data key: keep it as safe as the database, and the key apart from it.")


@click.command("restore")
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(backup: Path, force: bool):
    """Replace the whole database with BACKUP, made by `backup`. Refused if the database
    already holds data, unless --force. Stop the app and the scheduler first."""
    try:
        restore_backup(backup, force=force)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the database from {backup}. Next: `flask --app inventory db upgrade` (if the backup "
               "is from an older version), then `flask --app inventory verify-ledger`. Personal data opens only "
               "with the data key that was current when the backup was made.")
