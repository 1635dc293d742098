"""Fictional demo data for trying SafeHold out. Never runs under the production config.

Every name, address and phone number here is invented.
"""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from inventory.accounts import operations
from inventory.accounts.models import OrganisationKind, User
from inventory.budget.demo import seed_budget_demo
from inventory.cases.demo import seed_outcomes_demo
from inventory.extensions import db
from inventory.jobs.demo import seed_jobs_demo
from inventory.permissions import Role
from inventory.reconciliation.demo import seed_reconciliation_demo
from inventory.procurement.demo import seed_procurement_demo
from inventory.requests.demo import seed_cases_demo
from inventory.stock.demo import seed_stock_demo

DEMO_PASSWORD = "demo-garden-gate"

DEMO_USERS = [
    # email, name, role, organisation key
    ("admin@demo.example", "Avery Admin", Role.ADMIN, "lead"),
    # A second admin, so that a role one admin gives can be approved by the other (four eyes).
    ("admin2@demo.example", "Bailey Admin", Role.ADMIN, "lead"),
    ("coordinator@demo.example", "Casey Coordinator", Role.COORDINATOR, "lead"),
    ("caseworker@demo.example", "Kim Caseworker", Role.CASEWORKER, "lead"),
    ("caseworker@partner.demo.example", "Pat Partner", Role.CASEWORKER, "partner"),
    ("fitter@demo.example", "Frankie Fitter", Role.FITTER, "lead"),
    ("finance@demo.example", "Fran Finance", Role.FINANCE, "lead"),
    ("auditor@demo.example", "Alex Auditor", Role.AUDITOR, "lead"),
]


class DemoRefused(click.ClickException):
    pass


def seed_demo() -> bool:
    """Seed an empty database; returns False (and does nothing) if it already has users."""
    if not current_app.config.get("ALLOW_DEMO_DATA"):
        raise DemoRefused("Demo data is refused under the production config.")
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return False
    organisations = {
        "lead": operations.create_organisation(name="Northshire Women's Aid (demo)", kind=OrganisationKind.LEAD,
                                               actor=None),
        "partner": operations.create_organisation(name="Riverside Advocacy (demo)", kind=OrganisationKind.PARTNER,
                                                  case_reference_prefix="RA", actor=None),
        "second_partner": operations.create_organisation(name="Equal Voices (demo)", kind=OrganisationKind.PARTNER,
                                                         case_reference_prefix="EV", actor=None),
    }
    users = {}
    for email, name, role, organisation in DEMO_USERS:
        users[email] = operations.create_user(email=email, name=name, organisation=organisations[organisation],
                                              roles=[role], password=DEMO_PASSWORD, actor=None)
    seed_budget_demo(users["finance@demo.example"])
    seed_stock_demo(fitter_email="fitter@demo.example")
    seed_procurement_demo(coordinator_email="coordinator@demo.example")
    seed_cases_demo(lead_caseworker_email="caseworker@demo.example",
                    partner_caseworker_email="caseworker@partner.demo.example",
                    coordinator_email="coordinator@demo.example")
    seed_jobs_demo(fitter_email="fitter@demo.example", coordinator_email="coordinator@demo.example",
                   caseworker_email="caseworker@demo.example")
    seed_outcomes_demo(caseworker_emails={"lead": "caseworker@demo.example",
                                          "partner": "caseworker@partner.demo.example"},
                       coordinator_email="coordinator@demo.example", fitter_email="fitter@demo.example")
    db.session.commit()
    # After the ledger's demo (its direct purchases are what the statement pays).
    seed_reconciliation_demo(finance=users["finance@demo.example"])
    return True


def demo_logins_text() -> str:
    width = max(len(email) for email, *_ in DEMO_USERS)
    lines = [f"  {email.ljust(width)}  {role.label}" for email, _, role, _ in DEMO_USERS]
    return "Demo logins (password for all: {}):\n{}".format(DEMO_PASSWORD, "\n".join(lines))


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Fill an empty database with fictional demo data and print the demo logins."""
    created = seed_demo()
    click.echo("Demo data created." if created else "The database already has users; demo data left as it is.")
    click.echo(demo_logins_text())
