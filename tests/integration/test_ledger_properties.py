"""Random sequences of ledger operations keep the books straight (Hypothesis, stateful).

A plain-Python model follows the rules; after every step the database must agree with it,
available must equal allocated - actual - open commitments + credits, no successful
commitment may leave available negative, and verify-ledger must pass.
"""
import itertools
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
import pytest

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.ledger import BudgetExceeded
from inventory.budget.models import LedgerEntry
from inventory.budget.verification import verify_ledger
from inventory.errors import DomainError
from inventory.extensions import db

# Their commitments name made-up sources (request 1, ...): no order or request stands behind them.
pytestmark = pytest.mark.usefixtures("made_up_sources")

amounts = st.integers(min_value=1, max_value=40_000)
_years = itertools.count(2100)


def test_random_ledger_histories_keep_available_true_and_the_chain_whole(app, build):
    finance = build.user(roles=["finance"])

    class LedgerMachine(RuleBasedStateMachine):
        @initialize()
        def open_a_period(self):
            db.session.rollback()  # a failed example may leave the session mid-transaction
            year = next(_years)  # each run gets a period of its own; the chain runs on across them
            self.period = budget.create_period(starts_on=date(year, 4, 1), ends_on=date(year + 1, 3, 31),
                                               name=f"Property {year}")
            db.session.commit()
            self.today = ExitStack()
            self.move_to(self.period.starts_on)
            self.allocated = self.actual = self.credits = 0
            self.open = {}  # commitment id -> open pence, per the model
            self.commitment_amount = {}
            self.manual_releases = {}  # release id -> (commitment id, pence)
            self.actuals = {}  # actual id -> (charged pence, commitment id or None, pence it released)
            self.reversible = []  # (kind, entry id) not yet reversed

        def move_to(self, day):
            """Entries are dated no later than today: the clock follows the machine's day."""
            self.today.close()
            self.day = day
            self.today.enter_context(clock.frozen_at(datetime.combine(day, time(12), tzinfo=UTC)))

        @property
        def available(self):
            return self.allocated - self.actual - sum(self.open.values()) + self.credits

        def blocked(self):
            return ledger.open_overspend_alert(self.period) is not None

        def entry(self, entry_id):
            return db.session.get(LedgerEntry, entry_id)

        @rule(amount=amounts)
        def allocate(self, amount):
            entry = ledger.allocate(self.period, amount, actor=finance, on=self.day)
            db.session.commit()
            self.allocated += amount
            self.reversible.append(("allocation", entry.id))

        @rule(amount=amounts)
        def commit(self, amount):
            expected_ok = not self.blocked() and amount <= self.available
            try:
                entry = ledger.commit(amount, on=self.day, actor=finance, memo="m", source_type="request",
                                      source_id=1)
                db.session.commit()
            except BudgetExceeded:
                db.session.rollback()
                assert not expected_ok
                return
            assert expected_ok
            assert ledger.available_pence(self.period) >= 0
            self.open[entry.id] = amount
            self.commitment_amount[entry.id] = amount
            self.reversible.append(("commitment", entry.id))

        @precondition(lambda self: any(self.open.values()))
        @rule(data=st.data())
        def release(self, data):
            commitment_id = data.draw(st.sampled_from(sorted(c for c, v in self.open.items() if v)))
            amount = data.draw(st.none() | st.integers(1, self.open[commitment_id]))
            entry = ledger.release(self.entry(commitment_id), amount, on=self.day, actor=finance, memo="m")
            db.session.commit()
            released = amount or self.open[commitment_id]
            self.open[commitment_id] -= released
            self.manual_releases[entry.id] = (commitment_id, released)
            self.reversible.append(("release", entry.id))

        @rule(amount=amounts, data=st.data())
        def post_actual(self, amount, data):
            candidates = sorted(self.open)
            commitment_id = data.draw(st.none() | st.sampled_from(candidates)) if candidates else None
            releasing = self.entry(commitment_id) if commitment_id else None
            entry = ledger.post_actual(amount, on=self.day, actor=finance, memo="m", source_type="invoice",
                                       source_id=1, net_pence=amount, vat_pence=0, releasing=releasing)
            db.session.commit()
            released = min(self.open[commitment_id], amount) if commitment_id else 0
            if commitment_id:
                self.open[commitment_id] -= released
            self.actual += amount
            self.actuals[entry.id] = (amount, commitment_id, released)
            self.reversible.append(("actual", entry.id))

        @rule(amount=amounts)
        def credit(self, amount):
            entry = ledger.credit(amount, on=self.day, actor=finance, memo="m", source_type="invoice", source_id=1,
                                  net_pence=amount, vat_pence=0)
            db.session.commit()
            self.credits += amount
            self.reversible.append(("credit", entry.id))

        @precondition(lambda self: self.reversible)
        @rule(data=st.data())
        def reverse(self, data):
            kind, entry_id = data.draw(st.sampled_from(self.reversible))
            expected_ok = True
            if kind == "commitment":
                expected_ok = self.open[entry_id] == self.commitment_amount[entry_id]
            elif kind == "release":
                expected_ok = not self.blocked() and self.manual_releases[entry_id][1] <= self.available
            try:
                ledger.reverse(self.entry(entry_id), reason="r", actor=finance, on=self.day)
                db.session.commit()
            except DomainError:
                db.session.rollback()
                assert not expected_ok
                return
            assert expected_ok
            self.reversible.remove((kind, entry_id))
            if kind == "allocation":
                self.allocated -= self.entry(entry_id).amount_pence
            elif kind == "credit":
                self.credits -= self.entry(entry_id).amount_pence
            elif kind == "commitment":
                self.open[entry_id] = 0
            elif kind == "release":
                commitment_id, released = self.manual_releases[entry_id]
                self.open[commitment_id] += released
            elif kind == "actual":
                charged, commitment_id, released = self.actuals[entry_id]
                self.actual -= charged
                if commitment_id:
                    self.open[commitment_id] += released

        @rule()
        def resolve_alerts(self):
            while (alert := ledger.open_overspend_alert(self.period)) is not None:
                budget.resolve_overspend(alert, actor=finance, resolution="Dealt with")
            db.session.commit()

        @rule(days=st.integers(0, 40))
        def time_passes(self, days):
            self.move_to(min(self.day + timedelta(days=days), self.period.ends_on))

        @invariant()
        def books_agree_with_the_model(self):
            totals = ledger.summary(self.period)
            open_in_db = {c: ledger.open_amount_pence(self.entry(c)) for c in self.open}
            assert open_in_db == self.open
            assert (totals.allocated_pence, totals.actual_pence, totals.credits_pence) == (
                self.allocated, self.actual, self.credits)
            assert totals.committed_pence == sum(self.open.values())
            assert totals.available_pence == (totals.allocated_pence - totals.actual_pence
                                               - totals.committed_pence + totals.credits_pence)

        def teardown(self):
            if hasattr(self, "today"):
                self.today.close()
            report = verify_ledger()
            assert report.ok, report.problems

    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=15, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))
