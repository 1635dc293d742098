"""Races on the ledger, with real threads and real PostgreSQL connections."""
import threading

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.budget.ledger import BudgetExceeded
from inventory.budget.models import LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.extensions import db


@pytest.mark.postgres_only
def test_two_commitments_that_each_fit_alone_but_not_together_one_succeeds(app, build):
    finance = build.user(roles=["finance"])
    period = build.budget_period(allocated_pence=100_000, actor=finance)
    start = threading.Barrier(2)
    outcomes = []

    def try_to_commit(source_id):
        with app.app_context():
            actor = db.session.get(User, finance.id)
            start.wait()
            try:
                ledger.commit(60_000, on=clock.today(), actor=actor, memo="Race", source_type="request",
                              source_id=source_id)
                db.session.commit()
                outcomes.append("committed")
            except BudgetExceeded:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=try_to_commit, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["committed", "refused"]
    db.session.expire_all()
    assert ledger.available_pence(period) == 40_000
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 2
    assert verify_ledger().ok
