"""The record-level rules for jobs, which unit may be handed over on which visit, and the
review-date arithmetic, without a database."""
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pytest

from inventory.jobs.issuing import CannotIssue, add_months, issuable_on
from inventory.jobs.models import CHECKS_BEFORE_ISSUE
from inventory.stock.models import ItemState
from inventory.permissions import Role, can_reveal_contact, can_see_job, can_work_on_job


class FakeUser:
    is_authenticated = True
    is_active = True

    def __init__(self, user_id, *roles):
        self.id = user_id
        self.role_set = set(roles)


@dataclass
class FakeJob:
    fitter_id: int
    is_open: bool = True


ASSIGNED, OTHER_FITTER, COORDINATOR = FakeUser(1, Role.FITTER), FakeUser(2, Role.FITTER), FakeUser(3, Role.COORDINATOR)


@pytest.mark.parametrize(("user", "open_", "sees", "works", "reveals"), [
    (ASSIGNED, True, True, True, True),
    (ASSIGNED, False, True, False, False),
    (OTHER_FITTER, True, False, False, False),
    (COORDINATOR, True, True, True, False),
    (COORDINATOR, False, True, False, False),
    (FakeUser(1, Role.CASEWORKER), True, False, False, False),
    (FakeUser(1, Role.FINANCE), True, False, False, False),
    (FakeUser(1, Role.ADMIN), True, False, False, False),
    (FakeUser(1, Role.AUDITOR), True, False, False, False),
])
def test_who_may_see_work_on_and_reveal_the_address_of_a_job(user, open_, sees, works, reveals):
    job = FakeJob(fitter_id=1, is_open=open_)
    assert (can_see_job(user, job), can_work_on_job(user, job), can_reveal_contact(user, job)) == (
        sees, works, reveals)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 15), 3, date(2026, 4, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2026, 12, 31), 6, date(2027, 6, 30)),
])
def test_review_dates_land_on_the_same_day_or_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


WANTED, OTHER_TYPE = 1, 2


@dataclass
class FakeInstall:
    request_id: int = 10
    is_collection: bool = False
    request: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(
        lines=[SimpleNamespace(item_type_id=WANTED, item_type=SimpleNamespace(name="Personal alarm"))]))
    checks_answered: bool = False

    def unanswered(self, checks):
        return [] if self.checks_answered else list(checks)


def unit(state, *, item_type_id=WANTED, reserved_for=None, connected=False):
    return SimpleNamespace(id=7, state=state, item_type_id=item_type_id, reserved_for_request_id=reserved_for,
                           item_type=SimpleNamespace(name="Personal alarm", connected_device=connected))


@pytest.mark.parametrize(("item", "job", "refusal"), [
    (unit(ItemState.RESERVED, reserved_for=10), FakeInstall(), None),
    (unit(ItemState.IN_STOCK), FakeInstall(), None),  # another box of the type wanted, off the shelf
    (unit(ItemState.IN_STOCK, item_type_id=OTHER_TYPE), FakeInstall(), "wrong_item_type"),
    (unit(ItemState.RESERVED, reserved_for=11), FakeInstall(), "reserved_for_another_case"),
    (unit(ItemState.ON_ORDER), FakeInstall(), "not_received"),
    (unit(ItemState.ISSUED), FakeInstall(), "already_issued"),
    (unit(ItemState.RETURNED), FakeInstall(), "in_quarantine"),
    (unit(ItemState.QUARANTINE), FakeInstall(), "in_quarantine"),
    (unit(ItemState.WRITTEN_OFF), FakeInstall(), "written_off"),
    (unit(ItemState.RESERVED, reserved_for=10), FakeInstall(is_collection=True), "collection_visit"),
    # A connected device waits for the checks before issue; anything else does not.
    (unit(ItemState.RESERVED, reserved_for=10, connected=True), FakeInstall(), "checks_before_issue"),
    (unit(ItemState.IN_STOCK, connected=True), FakeInstall(), "checks_before_issue"),
    (unit(ItemState.RESERVED, reserved_for=10, connected=True), FakeInstall(checks_answered=True), None),
    (unit(ItemState.RESERVED, reserved_for=11, connected=True), FakeInstall(), "reserved_for_another_case"),
])
def test_which_unit_may_be_handed_over_on_which_visit(item, job, refusal):
    if refusal is None:
        assert issuable_on(item, job) is None
        return
    with pytest.raises(CannotIssue) as refused:
        issuable_on(item, job)
    assert refused.value.code == refusal and refused.value.status == 409
    assert refused.value.details == {"item_id": 7, "state": item.state}


def test_a_connected_device_refused_before_issue_names_the_checks_still_to_answer():
    with pytest.raises(CannotIssue) as refused:
        issuable_on(unit(ItemState.RESERVED, reserved_for=10, connected=True), FakeInstall())
    assert all(check.label in refused.value.message for check in CHECKS_BEFORE_ISSUE)
