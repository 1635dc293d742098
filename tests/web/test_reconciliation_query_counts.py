"""The reconciliation pages cost the same number of statements however many lines,
matches and candidate entries they show (no N+1)."""
from datetime import timedelta

from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.reconciliation import operations
from inventory.reconciliation.models import StatementLine
from tests.support import recorded_statements


def cost_of(client, url):
    db.session.expire_all()
    with recorded_statements() as seen:
        assert client.get(url).status_code == 200
    return len(seen)


def test_a_statement_page_costs_the_same_for_three_or_forty_lines(client, login, build):
    finance = login(roles=["finance"])
    day = clock.today() - timedelta(days=3)
    small = build.statement([(day, f"SMALL {n}", "-1.00", "") for n in range(3)], actor=finance)
    large = build.statement([(day, f"LARGE {n}", "-1.00", "") for n in range(40)], actor=finance)
    assert cost_of(client, f"/reconciliation/statements/{small.id}") == \
        cost_of(client, f"/reconciliation/statements/{large.id}")


def test_a_line_page_costs_the_same_for_one_or_many_matches_and_candidates(client, login, build):
    finance = login(roles=["finance"])
    build.budget_period(allocated_pence=1_000_000, actor=finance, around_today=True)
    day = clock.today() - timedelta(days=3)

    def line_with(matches: int, candidates: int) -> StatementLine:
        statement = build.statement([(day, f"SHOP {matches}", "-100.00", "")], actor=finance)
        line = db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id))
        for n in range(matches):
            entry = build.direct_purchase(gross_pence=1000, on=day, receipt=f"M{matches}-{n}", actor=finance)
            operations.create_match(pairs=[operations.Pair(line.id, entry.id)], actor=finance)
        for n in range(candidates):
            build.direct_purchase(gross_pence=500 + n, on=day, receipt=f"C{matches}-{n}", actor=finance)
        db.session.commit()
        return line

    few = line_with(1, 1)
    few_cost = cost_of(client, f"/reconciliation/lines/{few.id}")
    many = line_with(6, 8)
    assert cost_of(client, f"/reconciliation/lines/{many.id}") == few_cost
