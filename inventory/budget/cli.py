"""`flask --app inventory verify-ledger [--full] [--checkpoint FILE]` and `ledger-checkpoint`."""
import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from inventory.budget import checkpoint as checkpoints
from inventory.budget.verification import record_verification, verify_ledger
from inventory.extensions import db


@click.command("verify-ledger")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A checkpoint written by ledger-checkpoint: also check that the ledger still holds it.")
@click.option("--full", is_flag=True,
              help="Walk the whole hash chain, not only the entries added since the last passing check.")
@with_appcontext
def verify_ledger_command(checkpoint_file: Path | None, full: bool):
    """Check the ledger's hash chain (from where the last passing check ended, or all of it
    with --full), recompute every period balance and check every entry's date (and, given
    one, a signed checkpoint); exit 1 on any problem, naming each. A pass is recorded as the
    next check's starting point."""
    try:
        text = checkpoint_file.read_text(encoding="utf-8") if checkpoint_file is not None else None
        report = verify_ledger(text, full=full)
    except (OSError, UnicodeDecodeError, checkpoints.CheckpointError) as error:
        raise click.ClickException(f"Cannot check the checkpoint: {error}") from None
    if not report.ok:
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(
            f"The ledger failed verification ({len(report.problems)} problem(s) shown, "
            f"{report.entries_checked} entries, {report.periods_checked} periods checked, {report.scope}).")
    record_verification(report)
    db.session.commit()
    click.echo(f"Ledger verified ({report.scope}): {report.entries_checked} entries in an unbroken chain; "
               f"{report.periods_checked} period balances match their entries; every entry is dated in its period.")
    if report.checkpoint is not None:
        click.echo(f"The ledger still holds the checkpoint of {report.checkpoint['created_at']}: "
                   f"{report.checkpoint['entry_count']} entries up to chain position "
                   f"{report.checkpoint['head_position']}, the same head hash and balances.")


@click.command("ledger-checkpoint")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the checkpoint to FILE (default: standard output). Keep it away from the database.")
@with_appcontext
def ledger_checkpoint_command(output: Path | None):
    """Write a signed checkpoint of the ledger's head (entry count, head hash, balances) for
    `verify-ledger --checkpoint`. Refused while the ledger fails verification."""
    try:
        checkpoints.signing_key()
        report = verify_ledger()
        if not report.ok:
            for problem in report.problems:
                click.echo(f"PROBLEM: {problem}", err=True)
            raise click.ClickException("The ledger fails verification: a checkpoint now would anchor the damage.")
        document = checkpoints.take()
    except checkpoints.CheckpointError as error:
        raise click.ClickException(str(error)) from None
    text = checkpoints.dumps(document)
    if output is None:
        click.echo(text, nl=False)
    else:
        partial = output.with_name(output.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, output)  # never a half-written checkpoint under the real name
        except OSError as error:
            raise click.ClickException(f"Cannot write the checkpoint: {error}") from None
    click.echo(f"Checkpoint of {document['entry_count']} entries, head at chain position "
               f"{document['head_position']}, written to {output or 'standard output'}.", err=True)
