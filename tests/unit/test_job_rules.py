"""The record-level rules for jobs and the review-date arithmetic, without a database."""
from dataclasses import dataclass
from datetime import date

import pytest

from inventory.jobs.operations import add_months
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
