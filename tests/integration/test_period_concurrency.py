"""Races on creating budget periods, with real threads and real PostgreSQL connections."""
import time
from datetime import date

import pytest
from sqlalchemy import select

from inventory.budget import operations as budget
from inventory.budget.models import BudgetPeriod
from inventory.extensions import db
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


def create(starts_on: date, ends_on: date, name: str):
    def attempt():
        budget.create_period(starts_on=starts_on, ends_on=ends_on, name=name)
        time.sleep(0.2)  # a slow request: the others have checked before this one commits

    return attempt


def test_overlapping_periods_created_at_once_only_one_is_kept(app):
    # Each starts on a different day (so the unique start date cannot decide) and overlaps every other.
    attempts = [create(date(2030, 4, 1 + n), date(2031, 3, 31), f"Year {n}") for n in range(4)]

    assert sorted(run_at_once(app, attempts)) == ["invalid_input"] * 3 + ["ok"]
    assert len(db.session.scalars(select(BudgetPeriod)).all()) == 1


def test_two_periods_with_one_name_created_at_once_one_is_refused_cleanly(app):
    attempts = [create(date(2030, 4, 1), date(2031, 3, 31), "2030-31"),
                create(date(2032, 4, 1), date(2033, 3, 31), "2030-31")]

    assert sorted(run_at_once(app, attempts)) == ["invalid_input", "ok"]
    assert len(db.session.scalars(select(BudgetPeriod)).all()) == 1
