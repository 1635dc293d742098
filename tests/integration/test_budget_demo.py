from sqlalchemy import func, select

from inventory.budget import ledger
from inventory.budget.models import DirectPurchase
from inventory.budget.verification import verify_ledger
from inventory.demo import seed_demo
from inventory.extensions import db


def test_the_demo_funds_this_financial_year_and_spends_some_of_it(app):
    assert seed_demo()
    totals = ledger.summary()
    assert totals.allocated_pence == 1_500_000
    assert totals.actual_pence == 3_990 + 5_999 + 1_499
    assert totals.adjustments_pence == -350
    assert db.session.scalar(select(func.count()).select_from(DirectPurchase)) == 3
    assert verify_ledger().ok
