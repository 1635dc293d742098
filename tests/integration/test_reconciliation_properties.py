"""Random sequences of matching, unmatching and reconciling never allocate a line beyond
its amount nor an entry beyond what the bank saw for it (its gross, VAT reclaimed or not),
and a refused step changes nothing (Hypothesis, stateful)."""
import itertools
from datetime import timedelta

import pytest

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from inventory import clock
from inventory.budget.models import LedgerEntry
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.reconciliation import operations
from inventory.reconciliation.models import Match, MatchAllocation, StatementLine

_runs = itertools.count(1)
amounts = st.integers(min_value=100, max_value=5_000)


@pytest.mark.parametrize("vat_reclaimed", [False, True])
def test_random_reconciliation_histories_never_over_allocate(app, build, vat_reclaimed):
    app.config["VAT_RECLAIMED"] = vat_reclaimed
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=100_000_000, actor=finance, around_today=True)
    day = clock.today() - timedelta(days=2)

    class Reconciling(RuleBasedStateMachine):
        @initialize(line_amounts=st.lists(amounts, min_size=3, max_size=3),
                    entry_amounts=st.lists(amounts, min_size=3, max_size=3))
        def a_statement_and_some_spend(self, line_amounts, entry_amounts):
            db.session.rollback()
            run = next(_runs)
            statement = build.statement([(day, f"LINE {n}", f"-{pence / 100:.2f}", "") for n, pence in
                                         enumerate(line_amounts)], account=f"Card {run}", actor=finance)
            self.lines = [line.id for line in db.session.scalars(
                select(StatementLine).where(StatementLine.statement_id == statement.id).order_by(StatementLine.id))]
            self.entries = [build.direct_purchase(gross_pence=pence, vat_pence=pence // 6, on=day, receipt=f"R{run}-{n}",
                                                  actor=finance).id for n, pence in enumerate(entry_amounts)]
            self.matches = []

        def totals(self):
            allocations = select(func.count(MatchAllocation.id)).scalar_subquery()
            return db.session.execute(select(allocations, func.sum(StatementLine.allocated_pence),
                                             func.count(StatementLine.reconciled_at))).one()

        def attempt(self, use_case):
            before = self.totals()
            try:
                result = use_case()
                db.session.commit()
                return result
            except DomainError:
                db.session.rollback()
                assert self.totals() == before, "a refused step changed something"
                return None

        @rule(line=st.integers(0, 2), entry=st.integers(0, 2), amount=st.one_of(st.none(), amounts))
        def match(self, line, entry, amount):
            match = self.attempt(lambda: operations.create_match(
                pairs=[operations.Pair(self.lines[line], self.entries[entry], amount)], actor=finance))
            if match is not None:
                self.matches.append(match.id)

        @rule(first=st.integers(0, 2), second=st.integers(0, 2), entry=st.integers(0, 2))
        def match_two_lines_to_one_entry(self, first, second, entry):
            match = self.attempt(lambda: operations.create_match(pairs=[
                operations.Pair(self.lines[first], self.entries[entry]),
                operations.Pair(self.lines[second], self.entries[entry])], actor=finance))
            if match is not None:
                self.matches.append(match.id)

        @precondition(lambda self: self.matches)
        @rule(data=st.data())
        def unmatch(self, data):
            match_id = data.draw(st.sampled_from(self.matches))
            self.attempt(lambda: operations.remove_match(match_id, actor=finance))
            self.matches.remove(match_id)

        @rule(line=st.integers(0, 2))
        def reconcile(self, line):
            self.attempt(lambda: operations.mark_reconciled(self.lines[line], actor=finance))

        @invariant()
        def nothing_is_allocated_beyond_its_amount(self):
            db.session.expire_all()
            for line_id in self.lines:
                line = db.session.get(StatementLine, line_id)
                allocated = db.session.scalar(select(func.coalesce(func.sum(MatchAllocation.amount_pence), 0))
                                              .where(MatchAllocation.statement_line_id == line_id))
                assert line.allocated_pence == allocated
                assert 0 <= allocated <= abs(line.amount_pence)
                assert not line.is_reconciled or line.remaining_pence == 0
            for entry_id in self.entries:
                entry = db.session.get(LedgerEntry, entry_id)
                allocated = db.session.scalar(select(func.coalesce(func.sum(MatchAllocation.amount_pence), 0))
                                              .where(MatchAllocation.ledger_entry_id == entry_id))
                assert allocated <= entry.gross_pence
                assert abs(entry.amount_pence) == (entry.net_pence if vat_reclaimed else entry.gross_pence)
            assert db.session.scalar(select(func.count(Match.id)).where(Match.id.in_(self.matches))) == \
                len(self.matches)

    run_state_machine_as_test(Reconciling, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
