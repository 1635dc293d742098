"""Races on the ledger, with real threads and real PostgreSQL connections."""
from datetime import date
from functools import partial

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.budget.models import BudgetPeriod, LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.extensions import db
from tests.concurrency import run_at_once

# Their commitments name made-up sources (request 1, ...): no order or request stands behind them.
pytestmark = pytest.mark.usefixtures("made_up_sources")


def race(app, user_id, *attempts):
    """Each attempt(actor) at the same moment; sorted outcomes ("ok" or an error code)."""
    return sorted(run_at_once(app, [partial(_as, attempt, user_id) for attempt in attempts]))


def _as(attempt, user_id):
    attempt(db.session.get(User, user_id))


@pytest.mark.postgres_only
def test_two_commitments_that_each_fit_alone_but_not_together_one_succeeds(app, build):
    finance = build.user(roles=["finance"])
    period = build.budget_period(allocated_pence=100_000, actor=finance)

    def commit_60k(actor):
        ledger.commit(60_000, on=clock.today(), actor=actor, memo="Race", source_type="request", source_id=1)

    assert race(app, finance.id, commit_60k, commit_60k) == ["budget_exceeded", "ok"]
    db.session.expire_all()
    assert ledger.available_pence(period) == 40_000
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
    assert verify_ledger().ok


@pytest.mark.postgres_only
def test_an_entry_reversed_twice_at_once_is_reversed_exactly_once(app, build):
    finance = build.user(roles=["finance"])
    period = build.budget_period(allocated_pence=100_000, actor=finance)
    allocation_id = db.session.scalar(select(LedgerEntry.id))

    def reverse(actor):
        ledger.reverse(db.session.get(LedgerEntry, allocation_id), reason="Duplicate", actor=actor)

    assert race(app, finance.id, reverse, reverse) == ["already_reversed", "ok"]
    db.session.expire_all()
    assert ledger.available_pence(period) == 0
    assert verify_ledger().ok


@pytest.mark.postgres_only
def test_entries_posted_at_once_in_different_periods_keep_one_unbroken_chain(app, build):
    finance = build.user(roles=["finance"])
    periods = [build.budget_period(starts_on=date(2030 + n, 4, 1), ends_on=date(2031 + n, 3, 31), name=f"P{n}")
               for n in range(4)]

    def allocate_to(period_id):
        return lambda actor: ledger.allocate(db.session.get(BudgetPeriod, period_id), 1_000, actor=actor)

    assert race(app, finance.id, *(allocate_to(p.id) for p in periods)) == ["ok"] * 4
    assert verify_ledger().ok
