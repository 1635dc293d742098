"""`flask --app inventory verify-ledger`."""
import click
from flask.cli import with_appcontext

from inventory.budget.verification import verify_ledger


@click.command("verify-ledger")
@with_appcontext
def verify_ledger_command():
    """Check the ledger's hash chain and recompute every period balance; exit 1 on any problem."""
    report = verify_ledger()
    if not report.ok:
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(
            f"The ledger failed verification ({len(report.problems)} problem(s) shown, "
            f"{report.entries_checked} entries, {report.periods_checked} periods checked).")
    click.echo(f"Ledger verified: {report.entries_checked} entries in an unbroken chain; "
               f"{report.periods_checked} period balances match their entries.")
