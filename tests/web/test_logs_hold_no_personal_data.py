"""What the server logs never holds a survivor's name, address or phone number.

The demo's main journeys run with every logger captured at DEBUG (the app's, Werkzeug's,
and SQLAlchemy's statements with their parameters): signing in, a case page and its
reveal, a fitter's job and its contact reveal, scans, exports and reports, refusals and
a crash. Then the captured text is searched for every demo survivor's details, read
back from the cases themselves so that new demo cases are covered too.
"""
import logging

import pytest
from flask import Blueprint
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.cases.models import Case
from inventory.demo import DEMO_PASSWORD, seed_demo
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.stock.models import Item

LOGGERS = ("", "werkzeug", "sqlalchemy.engine", "inventory")


@pytest.fixture
def app_overrides():
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def demo(app):
    seed_demo()
    db.session.commit()
    crashing = Blueprint("crashing", __name__)

    @crashing.get("/crash-with-a-case/<int:case_id>")
    def crash(case_id):
        case = db.session.get(Case, case_id)
        raise RuntimeError(f"crashed on case {case.id}")

    app.register_blueprint(crashing)
    return app


def _survivor_details() -> list[str]:
    details = set()
    for case in db.session.scalars(select(Case)):
        details.add(case.name)
        details.add(case.phone)
        details.update(line.strip() for line in case.address.splitlines() if len(line.strip()) > 8)
        details.update(part for part in case.name.split() if len(part) > 4)  # a surname alone
    return sorted(details)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _sign_in(client, email: str):
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_the_demo_journeys_log_no_survivors_name_address_or_phone(demo, client, build, caplog):
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    lead_case = next(case for case in cases if case.organisation.kind == "lead")
    fitter = _user("fitter@demo.example")
    job = next(job for job in db.session.scalars(select(Job).order_by(Job.id)) if job.is_open
               and job.fitter_id == fitter.id)
    item = db.session.scalar(select(Item).order_by(Item.id))
    fitter_token = build.token(fitter)
    coordinator_token = build.token(_user("coordinator@demo.example"))
    details = _survivor_details()
    assert len(details) > 20, "the demo has survivors to look for"

    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    statuses = []

    def call(method, path, **kwargs):
        statuses.append((method, path, client.open(path, method=method, **kwargs).status_code))

    # A coordinator: the case page, its reveal, the queue, exports and reports.
    _sign_in(client, "coordinator@demo.example")
    call("GET", "/")
    call("GET", "/cases")
    call("GET", f"/cases/{lead_case.id}")
    call("POST", f"/cases/{lead_case.id}/reveal", data={"purpose": "show"})
    call("GET", f"/cases/{lead_case.id}")
    call("GET", f"/cases?q={lead_case.reference}")
    call("GET", "/queue")
    call("GET", "/reports")
    call("GET", "/reports/exports")
    call("GET", "/reports/approvals.csv")
    call("GET", f"/crash-with-a-case/{lead_case.id}")
    call("POST", "/logout")
    # A fitter: the job, its contact reveal, scans by page and API.
    _sign_in(client, "fitter@demo.example")
    call("GET", "/jobs/mine")
    call("GET", f"/jobs/{job.id}")
    call("POST", f"/jobs/{job.id}/contact")
    call("GET", f"/jobs/{job.id}")
    call("POST", "/logout")
    as_fitter = {"Authorization": f"Bearer {fitter_token}"}
    coordinator = {"Authorization": f"Bearer {coordinator_token}"}
    call("POST", "/api/v1/scans", json={"action": "lookup", "code": item.code}, headers=as_fitter)
    call("POST", "/api/v1/scans", json={"action": "lookup", "code": "NOT-A-CODE"}, headers=as_fitter)
    call("GET", f"/api/v1/jobs/{job.id}", headers=as_fitter)
    # The API: a case with its details, refusals and bad input.
    call("GET", f"/api/v1/cases/{lead_case.id}", headers=coordinator)
    call("GET", "/api/v1/cases?reference=NS", headers=coordinator)
    call("POST", "/api/v1/cases", json={"name": lead_case.name, "address": lead_case.address,
                                        "phone": lead_case.phone}, headers=coordinator)
    call("GET", f"/api/v1/cases/{lead_case.id}", headers=as_fitter)
    call("GET", "/login")
    call("POST", "/login", data={"email": "coordinator@demo.example", "password": "wrong password"})

    assert {("GET", f"/crash-with-a-case/{lead_case.id}", 500), ("POST", f"/cases/{lead_case.id}/reveal", 303),
            ("POST", f"/jobs/{job.id}/contact", 303)} <= set(statuses), statuses
    logged = "\n".join(record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
                       for record in caplog.records)
    assert "SELECT" in logged and "crashed on case" in logged, "the loggers were captured"
    assert [detail for detail in details if detail in logged] == []
