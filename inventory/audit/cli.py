"""`flask --app inventory verify-access-log`."""
import click
from flask.cli import with_appcontext

from inventory.audit.verification import verify_access_log


@click.command("verify-access-log")
@with_appcontext
def verify_access_log_command():
    """Check the access log's hash chain; exit 1 on any problem, naming each."""
    report = verify_access_log()
    if not report.ok:
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(
            f"The access log failed verification ({len(report.problems)} problem(s) shown, "
            f"{report.rows_checked} rows checked).")
    click.echo(f"Access log verified: {report.rows_checked} rows in an unbroken chain.")
