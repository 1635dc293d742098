""""May this user see this case / this job?" is asked two ways: a predicate on one record
(`can_view_case`, `can_see_job`) and a SQL filter for lists (`visible_cases_clause`,
`visible_jobs_clause`). On any population of users (any roles, any organisation, active or
not), cases and jobs in the real database, the two give the same answer."""
import itertools
from datetime import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User, UserRole
from inventory.cases.models import Case, LandlordConsent, RiskLevel, RiskTool, Tenure
from inventory.extensions import db
from inventory.jobs.models import Job, JobKind, JobStatus
from inventory.permissions import Role, can_see_job, can_view_case, visible_cases_clause, visible_jobs_clause

_serial = itertools.count(1)

# Organisations are indexes into the fixture's three (the lead and two partners), fitters
# indexes into the example's users: any user may hold a job, to check the rule, not booking.
users = st.lists(st.tuples(st.frozensets(st.sampled_from(list(Role))), st.integers(0, 2), st.booleans()),
                 min_size=1, max_size=6)
case_organisations = st.lists(st.integers(0, 2), min_size=1, max_size=6)
job_fitters = st.lists(st.integers(0, 5), min_size=1, max_size=6)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def organisations(build):
    return [build.lead(), build.organisation(), build.organisation()]


@SETTINGS
@given(users=users, cases=case_organisations)
def test_a_case_is_visible_to_exactly_whom_the_case_filter_selects(organisations, users, cases):
    try:
        people = _people(organisations, users)
        case_rows = _flushed([_case(organisations[organisation], people[0]) for organisation in cases])
        for user in people:
            selected = set(db.session.scalars(select(Case.id).where(
                Case.id.in_([case.id for case in case_rows]), visible_cases_clause(user, Case.organisation_id))))
            assert {case.id for case in case_rows if can_view_case(user, case)} == selected, _describe(user)
    finally:
        db.session.rollback()


@SETTINGS
@given(users=users, jobs=job_fitters)
def test_a_job_is_visible_to_exactly_whom_the_job_filter_selects(organisations, users, jobs):
    try:
        people = _people(organisations, users)
        # One case each: a case has one open visit at a time.
        job_rows = _flushed([
            Job(kind=JobKind.COLLECTION, case=_case(organisations[0], people[0]),
                fitter_id=people[fitter % len(people)].id, scheduled_for=clock.today(), window_starts=time(9),
                window_ends=time(12), status=JobStatus.SCHEDULED, created_by_id=people[0].id)
            for fitter in jobs])
        for user in people:
            selected = set(db.session.scalars(select(Job.id).where(
                Job.id.in_([job.id for job in job_rows]), visible_jobs_clause(user, Job.fitter_id))))
            assert {job.id for job in job_rows if can_see_job(user, job)} == selected, _describe(user)
    finally:
        db.session.rollback()


def _people(organisations, users) -> list[User]:
    people = []
    for roles, organisation, active in users:
        n = next(_serial)
        people.append(User(email=f"person{n}@example.test", name=f"Person {n}", password_hash="-",
                           organisation=organisations[organisation], active=active,
                           role_rows=[UserRole(role=str(role)) for role in roles]))
    return _flushed(people)


def _flushed(rows: list) -> list:
    """Rows written but not committed: each example rolls its population back."""
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _case(organisation, created_by) -> Case:
    today = clock.today()
    return Case(reference=f"NS-T-{next(_serial):05d}", organisation=organisation, created_by_id=created_by.id,
                name="Invented Survivor", address="1 Example Row", phone="01632 960000", consent_on=today,
                tenure=Tenure.PRIVATE_TENANT, landlord_consent=LandlordConsent.GIVEN, risk_tool=RiskTool.DASH,
                risk_level=RiskLevel.STANDARD, risk_assessed_on=today)


def _describe(user) -> str:
    return f"{sorted(user.role_set)} at organisation {user.organisation_id}, active={user.active}"
