from sqlalchemy import select

from inventory import clock
from inventory.cases.models import Case
from inventory.demo import seed_demo
from inventory.extensions import db
from inventory.pagination import paginate
from inventory.requests.models import EquipmentRequest
from inventory.requests.queue import QueueFilters, queue_query, queue_rows


def test_the_demo_queue_spans_risk_levels_and_both_organisations(app):
    assert seed_demo()
    today = clock.today()
    rows = queue_rows(paginate(queue_query(QueueFilters(), today), 1, 50).items, today)
    assert len(rows) >= 8
    assert {row.request.case.risk_level for row in rows} == {"high", "medium", "standard"}
    assert len({row.request.case.organisation_id for row in rows}) == 2
    assert rows[0].request.case.risk_level == "high"
    assert any(row.overdue for row in rows) and any(row.stock_covers for row in rows)
    states = set(db.session.scalars(select(EquipmentRequest.state)))
    assert {"submitted", "info_requested", "rejected", "approved"} <= states


def test_demo_people_are_obviously_fictional(app):
    seed_demo()
    for case in db.session.scalars(select(Case)):
        assert "Demotown" in case.address
        assert case.phone.startswith(("07700 900", "01632 960"))


def test_the_demo_records_outcomes_in_this_quarter_and_the_last(app):
    from inventory.cases.models import CaseReview
    from inventory.reports.periods import last_complete_quarter, quarter_containing

    assert seed_demo()
    today = clock.today()
    reviewed = set(db.session.scalars(select(CaseReview.reviewed_on)))
    for quarter in (quarter_containing(today), last_complete_quarter(today)):
        assert any(quarter.starts_on <= day <= quarter.ends_on for day in reviewed), quarter.key
    kinds = set(db.session.scalars(select(CaseReview.kind)))
    assert kinds == {"three_months", "six_months", "closing"}
    answers = set(db.session.scalars(select(CaseReview.feels_safer)))
    assert None in answers and len(answers - {None}) >= 4
    sources = set(db.session.scalars(select(Case.referral_source)))
    assert {"police", "self", "agency", "other"} <= sources
    agencies = {case.referral_agency for case in db.session.scalars(select(Case).where(
        Case.sealed_referral_agency.is_not(None)))}  # sealed: opened row by row
    assert {"Housing options team", "GP practice"} <= agencies
    declined = set(db.session.scalars(select(EquipmentRequest.declined_as).where(EquipmentRequest.state == "rejected")))
    assert {"unsuitable", "ineligible"} <= declined
