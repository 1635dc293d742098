"""The home pages' small rules, without a database: what happens next to a request, whose
requests a caseworker follows, which months are left to close, the order of the panels."""
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from inventory.errors import InvalidInput
from inventory.main.dashboards import PANELS, FinancePanel, MonthStanding, RequestScope, _month_end
from inventory.permissions import Role
from inventory.reconciliation.queries import LineCounts
from inventory.requests.models import RequestState as S
from inventory.requests.queries import Standing, next_step


def request_in(state: S, *, awaiting: int = 0) -> Standing:
    return Standing(request_id=7, case_id=3, case_reference="NS-2026-0007", state=state,
                    submitted_on=date(2026, 11, 2), decide_by=date(2026, 11, 16), awaiting_units=awaiting)


@pytest.mark.parametrize(("state", "awaiting", "visit_on", "expected"), [
    (S.SUBMITTED, 0, None, "A coordinator decides (target 16 Nov 2026)"),
    (S.INFO_REQUESTED, 0, None, "You answer the coordinator's question"),
    (S.APPROVED, 2, None, "Waiting for stock (2 items)"),
    (S.PARTLY_APPROVED, 1, None, "Waiting for stock (1 item)"),
    (S.APPROVED, 0, None, "A coordinator books the visit"),
    (S.SCHEDULED, 0, date(2026, 12, 1), "Visit booked for 01 Dec 2026"),
    (S.SCHEDULED, 0, None, "Visit booked"),
    (S.PARTLY_FULFILLED, 0, None, "A coordinator books a visit for the rest"),
    (S.PARTLY_FULFILLED, 3, None, "Waiting for stock (3 items)"),
])
def test_each_request_under_way_says_what_happens_next(state, awaiting, visit_on, expected):
    assert next_step(request_in(state, awaiting=awaiting), visit_on=visit_on) == expected


def test_a_request_counts_its_days_waiting_from_its_first_submission():
    assert request_in(S.APPROVED).waiting_days(date(2026, 11, 25)) == 23


@pytest.mark.parametrize(("query", "scope"), [
    ({}, RequestScope.MINE), ({"requests": ""}, RequestScope.MINE), ({"requests": "mine"}, RequestScope.MINE),
    ({"requests": "organisation"}, RequestScope.ORGANISATION),
])
def test_a_caseworker_follows_their_own_requests_unless_they_ask_for_their_organisations(query, scope):
    assert RequestScope.read(MultiDict(query)) is scope


@pytest.mark.parametrize("value", ["everyone", "MINE", "1"])
def test_any_other_choice_of_requests_is_refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as refused:
        RequestScope.read(MultiDict({"requests": value}))
    assert "requests=mine" in refused.value.message and set(refused.value.fields) == {"requests"}


@pytest.mark.parametrize(("first", "last"), [
    (date(2026, 4, 1), date(2026, 4, 30)), (date(2026, 12, 1), date(2026, 12, 31)),
    (date(2027, 2, 1), date(2027, 2, 28)), (date(2028, 2, 1), date(2028, 2, 29)),
])
def test_a_month_ends_on_its_last_day(first, last):
    assert _month_end(first) == last


def test_only_ended_months_still_open_are_left_to_close():
    months = [MonthStanding(date(2026, 4, 1), closed=True, ended=True),
              MonthStanding(date(2026, 5, 1), closed=False, ended=True),
              MonthStanding(date(2026, 6, 1), closed=False, ended=False)]
    panel = FinancePanel(budget=None, months=months, lines=LineCounts(0, 0), exception_days=30, unexported={})
    assert [month.month for month in panel.to_close] == [date(2026, 5, 1)] and panel.closed_count == 1


def test_every_role_has_a_panel_and_the_days_work_comes_first():
    assert [role for role, _ in PANELS] == [Role.COORDINATOR, Role.FITTER, Role.CASEWORKER, Role.FINANCE,
                                            Role.ADMIN, Role.AUDITOR]
    assert {role for role, _ in PANELS} == set(Role)
