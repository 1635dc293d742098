"""The reconciliation demo statement pays the ledger's demo purchases."""
from datetime import timedelta

from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.reconciliation import queries
from inventory.reconciliation.demo import seed_reconciliation_demo
from inventory.reconciliation.models import StatementLine


def test_the_demo_statement_matches_purchases_and_leaves_work_to_do(build):
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    for days, supplier in ((20, "Locksmith Direct"), (15, "Alarms Ltd"), (10, "Safe Homes Ltd")):
        build.direct_purchase(gross_pence=4500 + days, on=clock.today() - timedelta(days=days), supplier=supplier,
                              receipt=f"R-{days}", actor=finance)
    statement = seed_reconciliation_demo(finance=finance)
    lines = list(db.session.scalars(select(StatementLine).where(StatementLine.statement_id == statement.id)
                                    .order_by(StatementLine.line_number)))
    assert [line.description for line in lines] == [
        "CARD PAYMENT LOCKSMITH DIRECT", "CARD PAYMENT ALARMS LTD", "MONTHLY ACCOUNT FEE",
        "CARD PAYMENT HARDWARE STORE", "PCC GRANT PAYMENT"]
    assert lines[0].is_reconciled and lines[0].amount_pence == -4520
    assert [p.entry.memo for p in queries.proposals_for(lines[1], window_days=5)] == ["Alarms Ltd, receipt R-15"]
    assert lines[4].amount_pence == 1_000_000
    assert [p.entry.kind for p in queries.proposals_for(lines[4], window_days=5)] == ["allocation"]
    assert all(line.remaining_pence for line in lines[1:])


def test_without_demo_purchases_there_is_no_demo_statement(build):
    assert seed_reconciliation_demo(finance=build.user(roles=["finance"])) is None
