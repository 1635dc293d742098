"""`flask --app inventory create-admin`, `create-token` and `grant-role`."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from inventory.accounts import approvals, operations
from inventory.accounts.models import Organisation, OrganisationKind, User
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.permissions import Role


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--organisation", "organisation_name", prompt="Lead provider's name",
              help="The lead provider; created if there is none yet.")
@click.password_option(help="At least 12 characters.")
@with_appcontext
def create_admin_command(email, name, organisation_name, password):
    """Create an admin user (and the lead provider, on a new installation)."""
    try:
        lead = db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.LEAD))
        if lead is None:
            lead = operations.create_organisation(name=organisation_name, kind=OrganisationKind.LEAD, actor=None)
        user = operations.create_user(email=email, name=name, organisation=lead, roles=[Role.ADMIN],
                                      password=password, actor=None)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"Admin {user.email} created at {lead.name}.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--days", type=int, default=None,
              help="How many days it works (default and most: the API_TOKEN_DAYS setting, 90).")
@with_appcontext
def create_token_command(email, name, days):
    """Create a personal API token for EMAIL and print it once."""
    user = db.session.scalar(select(User).where(User.email == operations.normalise_email(email)))
    if user is None or not user.active:
        raise click.ClickException(f"No active user with email {email}.")
    try:
        _, plain = operations.create_api_token(user, name=name, days=days)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(plain)


@click.command("grant-role")
@click.argument("email")
@click.argument("role", type=click.Choice([str(r) for r in Role]))
@click.option("--reason", required=True, help="Why, for the audit log (e.g. the only admin left asked for it).")
@with_appcontext
def grant_role_command(email, role, reason):
    """Give EMAIL the ROLE as the server's operator, without a second admin: the way out when
    no other active admin can approve (approving the waiting request, if there is one). Audited."""
    user = db.session.scalar(select(User).where(User.email == operations.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    try:
        approvals.carry_out_as_operator("grant_role", user, reason=reason, role=role)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"{user.email} now holds: {', '.join(user.roles)}.")
