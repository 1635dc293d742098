"""Reading and writing the budget costs the same few statements however long the ledger is."""
from datetime import date, datetime

import pytest

from inventory import clock
from inventory.budget import ledger
from inventory.extensions import db
from tests.support import recorded_statements


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen_at(datetime(2026, 6, 15, 10, 0)):
        yield



def cost_of_a_commitment_and_the_summary(finance, period):
    with recorded_statements() as seen:
        ledger.commit(100, on=date(2026, 6, 15), actor=finance, memo="m", source_type="request", source_id=1)
        ledger.summary(period)
    db.session.commit()
    assert not any("sum(" in s.lower() and "ledger_entries" in s.lower() for s in seen), "no scan of the ledger"
    return len(seen)


def test_a_commitment_and_available_cost_the_same_at_ten_and_three_hundred_entries(app, build):
    finance = build.user(roles=["finance"])
    period = build.budget_period(allocated_pence=10_000_000, actor=finance)
    small = cost_of_a_commitment_and_the_summary(finance, period)
    for _ in range(300):
        ledger.adjust(1, on=date(2026, 6, 15), actor=finance, reason="padding")
    db.session.commit()
    assert cost_of_a_commitment_and_the_summary(finance, period) == small
