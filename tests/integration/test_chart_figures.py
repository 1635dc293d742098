"""The SQL aggregates behind the charts, against figures worked out by hand: spending by
month and category (inventory/budget/queries.py), requests open and overdue by risk level,
and days from referral to install with their median and 90th percentile
(inventory/requests/performance.py). Each is one statement however much data there is."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger, queries
from inventory.budget.queries import MonthSpend
from inventory.cases.models import RiskLevel
from inventory.extensions import db
from inventory.jobs.completion import Completion, NotDone, complete_job
from inventory.jobs.models import NotIssuedReason
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.reports import performance as report
from inventory.requests.models import DeclinedAs
from inventory.requests.operations import reject_request, take_action
from inventory.requests.performance import (
    InstallTimes,
    OpenRequests,
    install_times,
    open_by_risk,
    window,
)
from inventory.requests.transitions import Action
from inventory.stock.models import Item
from tests.support import recorded_selects

TODAY = date(2026, 7, 15)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture(autouse=True)
def mid_july():
    with clock.frozen_at(at(TODAY)):
        yield


# Spending by month and category

@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


def spend(finance, pence, on, category="Lock"):
    return ledger.post_actual(pence, on=on, actor=finance, memo="Invoice", source_type="invoice", source_id=1,
                              net_pence=pence, vat_pence=0, category=category)


def test_spend_by_month_counts_actuals_less_credits_and_reversals_per_category(build, finance):
    earlier = build.budget_period(allocated_pence=100_000, starts_on=date(2025, 4, 1), ends_on=date(2026, 3, 31))
    period = build.budget_period(allocated_pence=1_000_000, starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    spend(finance, 7_777, date(2026, 3, 10))  # last year's period: not this one's
    spend(finance, 4_500, date(2026, 4, 10))
    mistaken = spend(finance, 1_200, date(2026, 4, 20))
    spend(finance, 3_000, date(2026, 5, 5), category="Personal alarm")
    ledger.reverse(mistaken, reason="Posted twice", actor=finance, on=date(2026, 5, 10))  # back in May
    ledger.credit(500, on=date(2026, 6, 3), actor=finance, memo="Refund", source_type="invoice", source_id=2,
                  net_pence=500, vat_pence=0, category="Lock")
    spend(finance, 250, date(2026, 6, 8), category=None)
    ledger.commit(2_000, on=date(2026, 6, 4), actor=finance, memo="Order", source_type="purchase_order",
                  source_id=1, category="Lock")  # committed, not spent
    ledger.adjust(-700, on=date(2026, 6, 5), actor=finance, reason="Correction")  # a journal, not spending
    spend(finance, 999, date(2026, 7, 10))  # after `until`
    db.session.commit()

    assert sorted(queries.spend_by_month(period, date(2026, 6, 30)), key=lambda m: (m.month, m.category)) == [
        MonthSpend(date(2026, 4, 1), "Lock", 5_700),
        MonthSpend(date(2026, 5, 1), "Lock", -1_200),
        MonthSpend(date(2026, 5, 1), "Personal alarm", 3_000),
        MonthSpend(date(2026, 6, 1), "Lock", -500),
        MonthSpend(date(2026, 6, 1), "Uncategorised", 250),
    ]
    assert queries.spend_by_month(earlier, date(2026, 3, 31)) == [MonthSpend(date(2026, 3, 1), "Lock", 7_777)]


def test_spend_by_month_is_one_statement_however_many_entries(build, finance):
    period = build.budget_period(allocated_pence=1_000_000, starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    costs = []
    for _ in range(2):
        for month in (4, 5, 6, 7):
            spend(finance, 100, date(2026, month, 2))
            spend(finance, 100, date(2026, month, 3), category="Personal alarm")
        db.session.commit()
        db.session.refresh(period)  # loaded again after the commit, before counting
        with recorded_selects() as statements:
            queries.spend_by_month(period, TODAY)
        costs.append(len(statements))
    assert costs == [1, 1]


# Requests open and overdue by risk level

@pytest.fixture
def coordinator(build):
    return build.user(roles=["coordinator"])


def raised(build, risk, on, *, approved=False, coordinator=None):
    with clock.frozen_at(at(on)):
        case = build.case(risk_level=risk)
        return build.approved_request(case=case, coordinator=coordinator) if approved \
            else build.equipment_request(case=case)


def test_open_requests_are_counted_per_risk_level_with_those_past_their_target(build, coordinator):
    raised(build, "high", TODAY)  # waiting, decide by tomorrow
    raised(build, "high", TODAY - timedelta(days=5))  # waiting past its one working day: overdue
    asked = raised(build, "high", TODAY - timedelta(days=10))
    take_action(asked.id, Action.REQUEST_INFO, note="Which door?", actor=coordinator)  # with the caseworker
    raised(build, "high", TODAY - timedelta(days=10), approved=True)  # install by day 3: overdue
    refused = raised(build, "high", TODAY - timedelta(days=10))
    reject_request(refused.id, DeclinedAs.INELIGIBLE, note="Not eligible", actor=coordinator)  # finished
    with clock.frozen_at(at(TODAY - timedelta(days=20))):
        build.handed_over(case=build.case(risk_level="high"))  # installed: finished
    raised(build, "medium", TODAY - timedelta(days=2), approved=True)  # install within 7 days: on time
    booked = raised(build, "medium", TODAY - timedelta(days=10), approved=True)
    build.job(request=booked)  # scheduled, but past its install target
    db.session.commit()

    assert open_by_risk(TODAY) == [OpenRequests(RiskLevel.HIGH, 4, 2), OpenRequests(RiskLevel.MEDIUM, 2, 1),
                                   OpenRequests(RiskLevel.STANDARD, 0, 0)]


# Days from referral to install

def install(build, risk, submitted_on, days_to_install):
    with clock.frozen_at(at(submitted_on)):
        request = build.approved_request(case=build.case(risk_level=risk))
    with clock.frozen_at(at(submitted_on + timedelta(days=days_to_install), hour=15)):
        build.handed_over(request=request)
    return request


def install_part(build, risk, submitted_on, days_to_install):
    """Two alarms asked for; the first visit hands one over (the other was declined)."""
    with clock.frozen_at(at(submitted_on)):
        alarm = build.item_type()
        request = build.approved_request(case=build.case(risk_level=risk), lines=[(alarm, 2)])
    with clock.frozen_at(at(submitted_on + timedelta(days=days_to_install), hour=15)):
        fitter = build.user(roles=["fitter"])
        job = build.job(fitter=fitter, request=request)
        first, second = db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)
                                           .order_by(Item.id))
        scan(ScanInput(ScanAction.ISSUE, first.code, job_id=job.id), actor=fitter)
        complete_job(job.id, Completion(not_issued=(NotDone(second.id, NotIssuedReason.DECLINED),)), actor=fitter)
        db.session.commit()
    return request


def test_the_window_is_the_last_twelve_months_with_today():
    assert window(TODAY) == (date(2025, 7, 16), TODAY)


def test_days_to_install_have_the_median_and_90th_percentile_worked_out_by_hand(build):
    base = date(2026, 3, 2)
    for days in (10, 1, 4):  # high risk: 1, 2, 4, 10 days
        install(build, "high", base, days)
    install_part(build, "high", base + timedelta(days=7), 2)  # part of it installed counts as installed
    install(build, "medium", base, 5)
    for days in (30, 0, 20):  # standard: installed the day it was asked for, after 20 and 30 days
        install(build, "standard", base, days)
    install(build, "high", date(2025, 6, 1), 2)  # installed more than a year ago: not counted
    with clock.frozen_at(at(base)):
        build.approved_request(case=build.case(risk_level="high"))  # approved, never installed: not counted

    since, until = window(TODAY)
    assert install_times(since, until) == [
        # Nearest rank ⌈n·p⌉ of 1, 2, 4, 10: the median is the 2nd (2 days), the 90th percentile the 4th.
        InstallTimes(RiskLevel.HIGH, 3, installed=4, median_days=2.0, p90_days=10.0, within_target=2),
        InstallTimes(RiskLevel.MEDIUM, 7, installed=1, median_days=5.0, p90_days=5.0, within_target=1),
        # Standard 0, 20, 30: the median is the 2nd (20), the 90th percentile the 3rd (30).
        InstallTimes(RiskLevel.STANDARD, 14, installed=3, median_days=20.0, p90_days=30.0, within_target=1),
    ]


def test_a_risk_level_with_no_installs_has_no_figures(build):
    install(build, "medium", date(2026, 6, 1), 3)
    since, until = window(TODAY)
    high, medium, standard = install_times(since, until)
    assert high == InstallTimes(RiskLevel.HIGH, 3, 0, None, None, 0)
    assert medium.installed == 1 and standard.installed == 0


def test_an_install_counts_on_the_day_it_happened_at_either_edge_of_the_window(build):
    install(build, "high", date(2025, 7, 14), 2)  # installed 16 July 2025, the window's first day
    install(build, "high", date(2025, 7, 13), 2)  # 15 July 2025: the day before it
    since, until = window(TODAY)
    assert install_times(since, until)[0].installed == 1
    assert install_times(since, since)[0].median_days == 2.0


def test_install_times_and_open_counts_are_one_statement_each_however_many_requests(build):
    since, until = window(TODAY)
    costs = []
    for size in (1, 3):
        for _ in range(size):
            install(build, "high", date(2026, 6, 1), 2)
            raised(build, "medium", TODAY)
        with recorded_selects() as statements:
            install_times(since, until)
            open_by_risk(TODAY)
        costs.append(len(statements))
    assert costs == [2, 2]


def test_a_dashboard_can_draw_either_performance_chart_alone(build):
    install(build, "high", date(2026, 6, 1), 2)
    raised(build, "high", TODAY)
    assert report.open_requests(TODAY).table.rows[0] == ("High risk", "0", "1", "1")
    assert report.install_times(TODAY).table.rows[0][:4] == ("High risk", "2 days", "2 days", "3 days")
