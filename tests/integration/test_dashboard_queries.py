"""The home pages' questions, asked of the features without HTTP, on known data: the queue
by risk level, what approved requests await, where a caseworker's requests stand, open
visits, the budget's alerts and closed months, reconciliation and exports left to do,
unread notifications, failed runs, users and security events."""
from datetime import date, time, timedelta

import pytest

from inventory import clock
from inventory.accounts import operations as accounts
from inventory.accounts.queries import (
    recent_security_events,
    security_event_counts,
    slowed_sign_in_count,
    user_counts,
)
from inventory.audit.models import AuditEventKind
from inventory.budget import operations as budget
from inventory.budget.queries import AlertTotals, closed_months, open_alert_totals
from inventory.extensions import db
from inventory.jobs.queries import (
    VisitCounts,
    loans_due_for,
    open_visit_counts,
    open_visit_dates,
    open_visits,
    reviews_due_for,
)
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.notifications.queries import latest_unread
from inventory.permissions import Role
from inventory.reconciliation.exports import ExportSettings, export_batch, unexported_counts
from inventory.reconciliation.models import ExportFormat
from inventory.reconciliation.queries import LineCounts, unreconciled_line_counts
from inventory.requests.models import RequestState
from inventory.requests.operations import take_action
from inventory.requests.queries import awaiting_stock, next_step, past_install_target, standing, standing_counts
from inventory.requests.queue import counts_by_risk
from inventory.requests.transitions import Action
from inventory.scheduling.history import failed_runs
from inventory.scheduling.models import JobRun
from tests.dashboard_days import NOW, TODAY, on, wednesday  # noqa: F401 (wednesday: an autouse fixture)





def raised(build, *, risk="standard", caseworker=None, day=TODAY):
    with on(day):
        caseworker = caseworker or build.caseworker()
        return build.equipment_request(case=build.case(caseworker=caseworker, risk_level=risk), caseworker=caseworker)


# Coordinator -----------------------------------------------------------------------------

def test_the_queue_is_counted_per_risk_level_high_first_with_those_past_their_decision_target(build):
    raised(build, risk="high", day=TODAY - timedelta(days=10))  # target 1 working day: overdue
    raised(build, risk="high")
    raised(build, risk="medium")
    raised(build, risk="medium", day=TODAY - timedelta(days=8))  # target 7 days: overdue
    raised(build, risk="standard", day=TODAY - timedelta(days=10))  # target 14 days: not yet
    asked = raised(build, risk="high")
    take_action(asked.id, Action.REQUEST_INFO, note="Which door?", actor=build.user(roles=["coordinator"]))
    build.approved_request()  # decided: no longer in the queue
    db.session.commit()

    counts = counts_by_risk(TODAY)
    assert [(row.risk_level, row.waiting, row.overdue) for row in counts] == [
        ("high", 2, 1), ("medium", 2, 1), ("standard", 1, 0)]


def test_an_empty_queue_still_names_every_risk_level(build):
    assert [(row.risk_level, row.waiting, row.overdue) for row in counts_by_risk(TODAY)] == [
        ("high", 0, 0), ("medium", 0, 0), ("standard", 0, 0)]


def test_approved_requests_awaiting_stock_count_their_units_and_list_the_longest_waiting_first(build):
    alarm, lock = build.item_type(), build.item_type(name="Window lock", loaned=False)
    with on(TODAY - timedelta(days=3)):
        older = build.awaiting_request(lines=[(alarm, 2), (lock, 1)])
    newer = build.awaiting_request(lines=[(alarm, 1)])
    build.approved_request()  # its unit was in stock: nothing awaited
    build.equipment_request()  # not decided

    waiting = awaiting_stock(limit=5)
    assert (waiting.requests, waiting.units) == (2, 4)
    assert [(row.request_id, row.units, row.since) for row in waiting.first] == [
        (older.id, 3, TODAY - timedelta(days=3)), (newer.id, 1, TODAY)]
    assert [row.case_reference for row in waiting.first] == [older.case.reference, newer.case.reference]
    assert awaiting_stock(limit=1).first == waiting.first[:1] and awaiting_stock(limit=1).requests == 2


def test_decided_requests_past_their_install_target_are_counted_and_listed_furthest_past_first(build):
    coordinator = build.user(roles=["coordinator"])
    with on(TODAY - timedelta(days=20)):
        late = build.approved_request(case=build.case(risk_level="medium"), coordinator=coordinator)  # 7 days
    with on(TODAY - timedelta(days=5)):
        later = build.approved_request(case=build.case(risk_level="high"), coordinator=coordinator)  # 3 days
        undecided = build.equipment_request(case=build.case(risk_level="high"))
    build.approved_request(case=build.case(risk_level="high"), coordinator=coordinator)  # within target

    past = past_install_target(TODAY, limit=5)
    assert past.requests == 2
    assert [(row.request_id, row.since) for row in past.first] == [(late.id, late.install_by), (later.id, later.install_by)]
    assert undecided.id not in [row.request_id for row in past.first]


# Caseworker ------------------------------------------------------------------------------

def test_a_caseworkers_requests_stand_theirs_or_their_organisations_never_another_agencys(build):
    partner = build.organisation()
    me, colleague = build.caseworker(), build.caseworker()
    stranger = build.caseworker(partner)
    with on(TODAY - timedelta(days=4)):
        mine_old = build.equipment_request(case=build.case(caseworker=me), caseworker=me)
    mine_asked = build.equipment_request(case=build.case(caseworker=me), caseworker=me)
    take_action(mine_asked.id, Action.REQUEST_INFO, note="Which door?", actor=build.user(roles=["coordinator"]))
    theirs = build.equipment_request(case=build.case(caseworker=colleague), caseworker=colleague)
    build.equipment_request(case=build.case(caseworker=stranger), caseworker=stranger)
    withdrawn = build.equipment_request(case=build.case(caseworker=me), caseworker=me)
    take_action(withdrawn.id, Action.WITHDRAW, note=None, actor=me)
    db.session.commit()

    assert [row.request_id for row in standing(me, raised_by_me=True)] == [mine_asked.id, mine_old.id]
    assert [row.request_id for row in standing(me, raised_by_me=False)] == [mine_asked.id, mine_old.id, theirs.id]
    mine = standing_counts(me, raised_by_me=True)
    assert (mine[RequestState.SUBMITTED], mine[RequestState.INFO_REQUESTED], sum(mine.values())) == (1, 1, 2)
    assert sum(standing_counts(me, raised_by_me=False).values()) == 3
    assert sum(standing_counts(stranger, raised_by_me=False).values()) == 1
    assert mine_old.id not in [row.request_id for row in standing(stranger, raised_by_me=False)]
    assert standing(me, raised_by_me=True)[1].waiting_days(TODAY) == 4


def test_each_request_under_way_says_what_happens_next_and_who_moves_it(build):
    caseworker = build.caseworker()
    submitted = build.equipment_request(case=build.case(caseworker=caseworker), caseworker=caseworker)
    awaiting = build.awaiting_request(case=build.case(caseworker=caseworker), lines=[(build.item_type(), 2)])
    ready = build.approved_request(case=build.case(caseworker=caseworker))
    booked = build.job(request=build.approved_request(case=build.case(caseworker=caseworker)),
                       scheduled_for=TODAY + timedelta(days=2))
    rows = {row.request_id: row for row in standing(caseworker, raised_by_me=False, limit=10)}
    visits = open_visit_dates(rows)
    assert {request_id: next_step(row, visit_on=visits.get(request_id)) for request_id, row in rows.items()} == {
        submitted.id: f"A coordinator decides (target {submitted.decide_by:%d %b %Y})",
        awaiting.id: "Waiting for stock (2 items)",
        ready.id: "A coordinator books the visit",
        booked.request_id: "Visit booked for 27 Nov 2026",
    }


def test_loans_and_reviews_due_are_those_of_the_caseworkers_own_organisation(app, build):
    app.config.update(LOAN_PERIOD_DAYS=28, LOANS_DUE_WITHIN_DAYS=14, REVIEW_AFTER_MONTHS=(1, 6))
    partner = build.organisation()
    mine, theirs = build.caseworker(), build.caseworker(partner)
    with on(TODAY - timedelta(days=30)):
        own_case, _ = build.handed_over(case=build.case(caseworker=mine))
        build.handed_over(case=build.case(caseworker=theirs))
    [loan] = loans_due_for(mine, TODAY)
    assert (loan.case_id, loan.due, loan.overdue) == (own_case.id, 1, 1)
    [review] = reviews_due_for(mine, TODAY)
    assert (review.case_id, review.months) == (own_case.id, 1)
    assert [row.case_id for row in loans_due_for(theirs, TODAY)] != [own_case.id]
    assert loans_due_for(build.user(roles=["fitter"]), TODAY) == []


# Visits ----------------------------------------------------------------------------------

def test_open_visits_are_counted_by_day_and_a_fitter_sees_only_their_own(build):
    coordinator = build.user(roles=["coordinator"])
    fitter, other = build.user(roles=["fitter"]), build.user(roles=["fitter"])
    with on(TODAY - timedelta(days=1)):
        overdue = build.job(fitter=fitter, coordinator=coordinator)
    today = build.job(fitter=fitter, coordinator=coordinator)
    tomorrow = build.job(fitter=fitter, coordinator=coordinator, scheduled_for=TODAY + timedelta(days=1))
    later = build.job(fitter=fitter, coordinator=coordinator, scheduled_for=TODAY + timedelta(days=6))
    theirs = build.job(fitter=other, coordinator=coordinator)

    assert open_visit_counts(coordinator, TODAY) == VisitCounts(overdue=1, today=2, tomorrow=1, later=1)
    assert open_visit_counts(fitter, TODAY, mine=True) == VisitCounts(overdue=1, today=1, tomorrow=1, later=1)
    assert open_visit_counts(fitter, TODAY) == open_visit_counts(fitter, TODAY, mine=True)  # visible: theirs only
    assert [v.job_id for v in open_visits(fitter, until=TODAY, mine=True)] == [overdue.id, today.id]
    assert [v.job_id for v in open_visits(fitter, since=TODAY + timedelta(days=1), mine=True)] == [tomorrow.id, later.id]
    listed = open_visits(coordinator, since=TODAY, until=TODAY + timedelta(days=1))
    assert sorted(v.job_id for v in listed) == sorted([today.id, theirs.id, tomorrow.id])
    visit = listed[0]
    assert (visit.window_starts, visit.window_ends) == (time(9), time(12))
    assert visit.case_reference.startswith("NS-") and visit.fitter_name
    assert not hasattr(visit, "address")


# Finance ---------------------------------------------------------------------------------

def test_open_overspend_alerts_are_counted_with_how_far_over_they_went(build):
    period = build.budget_period(allocated_pence=10_000)
    assert open_alert_totals(period) == AlertTotals(count=0, over_by_pence=0)
    build.direct_purchase(gross_pence=12_000, receipt="R-1")
    build.direct_purchase(gross_pence=500, receipt="R-2")
    assert open_alert_totals(period) == AlertTotals(count=2, over_by_pence=2_500)


def test_the_closed_months_are_those_still_standing_closed(build):
    period = build.budget_period(allocated_pence=10_000)
    finance, admin = build.user(roles=["finance"]), build.user(roles=["admin"])
    for month in (date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)):
        budget.close_month(month, actor=finance)
    budget.reopen_month(date(2026, 5, 1), actor=admin, reason="A late invoice")
    db.session.commit()
    assert closed_months(period) == {date(2026, 4, 1), date(2026, 6, 1)}


def test_unreconciled_lines_are_counted_and_those_old_enough_for_the_exceptions_list(build):
    build.budget_period(allocated_pence=100_000)
    build.statement([(TODAY - timedelta(days=40), "Locksmith", "-45.00", "R1"),
                     (TODAY - timedelta(days=2), "Alarm Co", "-25.00", "R2")])
    assert unreconciled_line_counts(TODAY - timedelta(days=30)) == LineCounts(unreconciled=2, exceptions=1)


def test_each_formats_next_export_batch_is_counted(app, build):
    build.budget_period(allocated_pence=100_000)
    finance = build.user(roles=["finance"])
    build.direct_purchase(gross_pence=1_000, receipt="R-1", actor=finance)
    build.direct_purchase(gross_pence=2_000, receipt="R-2", actor=finance)
    assert unexported_counts(up_to=TODAY) == {ExportFormat.XERO: 2, ExportFormat.SAGE: 2}
    export_batch(ExportFormat.XERO, actor=finance, settings=ExportSettings.from_config(app.config))
    db.session.commit()
    build.direct_purchase(gross_pence=3_000, receipt="R-3", actor=finance)
    assert unexported_counts(up_to=TODAY) == {ExportFormat.XERO: 1, ExportFormat.SAGE: 3}


# Notifications, scheduler, users and security --------------------------------------------

def test_the_unread_count_and_the_newest_unread_come_in_one_statement(build):
    me = build.user(roles=["coordinator"])
    notices = [Notice("low_stock", f"item_type:{n}", f"Type {n} is low.", "/stock", user_ids=(me.id,))
               for n in range(1, 8)]
    deliver("checks", JobOutcome(notices=notices), kinds=("low_stock",), now=NOW)
    db.session.commit()
    count, newest = latest_unread(me.id, limit=5)
    assert count == 7 and len(newest) == 5
    assert latest_unread(build.user(roles=["coordinator"]).id) == (0, [])


def test_failed_runs_are_counted_since_a_moment_and_the_latest_listed(build):
    for hours_ago, outcome in ((30, "failed"), (3, "failed"), (2, "ok"), (1, "failed")):
        moment = NOW - timedelta(hours=hours_ago)
        db.session.add(JobRun(job_name=f"job{hours_ago}", started_at=moment, finished_at=moment, outcome=outcome,
                              counts={}, detail=None if outcome == "ok" else "RuntimeError: boom"))
    db.session.commit()
    count, latest = failed_runs(NOW - timedelta(days=1), limit=2)
    assert count == 2 and [run.job_name for run in latest] == ["job1", "job3"]


def test_users_are_counted_active_by_role_and_not_yet_signed_in(build):
    build.user(roles=["coordinator", "fitter"])
    build.user(roles=["fitter"])
    build.user(roles=["fitter"], active=False)
    signed_in = build.user(roles=["admin"])
    accounts.authenticate(signed_in.email, build.PASSWORD)
    db.session.commit()
    counts = user_counts()
    assert (counts.active, counts.inactive, counts.never_signed_in) == (3, 1, 2)
    assert counts.by_role[Role.FITTER] == 2 and counts.by_role[Role.ADMIN] == 1 and counts.by_role[Role.AUDITOR] == 0


def fail_to_sign_in(email: str, times: int, *, ending_at=NOW):
    """`times` failed sign-ins a minute apart (each after the throttle's wait), the last at `ending_at`."""
    for n in reversed(range(times)):
        with clock.frozen_at(ending_at - timedelta(minutes=n)):
            with pytest.raises(accounts.InvalidCredentials):
                accounts.authenticate(email, "not the password")
        db.session.commit()


def test_a_sign_in_name_is_slowed_after_more_failures_than_the_free_ones_within_an_hour(app, build):
    free = app.config["THROTTLE_LIMITS"]["account"]["free"]
    user = build.user()
    fail_to_sign_in(user.email, free, ending_at=NOW - timedelta(minutes=2))
    fail_to_sign_in("nobody@example.test", free + 1, ending_at=NOW - timedelta(minutes=2))
    assert slowed_sign_in_count(NOW) == 1
    fail_to_sign_in(user.email, 1)
    assert slowed_sign_in_count(NOW) == 2
    assert slowed_sign_in_count(NOW + timedelta(minutes=61)) == 0


def test_security_events_are_counted_by_kind_and_the_latest_listed_with_who_and_whom(build):
    admin = build.user(roles=["admin"])
    target = build.user(roles=["caseworker"])
    with on(TODAY - timedelta(days=3)):
        fail_to_sign_in(target.email, 1)
    accounts.update_user(target, email=target.email, name=target.name, organisation=target.organisation,
                         roles=["caseworker", "finance"], actor=admin)
    accounts.create_api_token(target, name="scripts")
    db.session.commit()
    fail_to_sign_in("nobody@example.test", 1)

    counts = security_event_counts(NOW - timedelta(days=1))
    assert counts[AuditEventKind.LOGIN_FAILED] == 1 and counts[AuditEventKind.ROLES_CHANGED] == 1
    assert counts[AuditEventKind.API_TOKEN_CREATED] == 1 and AuditEventKind.LOGIN_SUCCEEDED not in counts
    latest = recent_security_events(limit=3)
    assert [event.kind for event in latest] == [AuditEventKind.LOGIN_FAILED, AuditEventKind.API_TOKEN_CREATED,
                                                AuditEventKind.ROLES_CHANGED]
    assert (latest[0].actor_email, latest[0].subject_email) == (None, None)
    assert (latest[2].actor_email, latest[2].subject_email) == (admin.email, target.email)
