"""Random histories of spend, refunds, reversals and exports in both formats: no entry ever
leaves twice in one format, every batch sums to the ledger movement it covers, and every
past file downloads as first written (Hypothesis, stateful)."""
import csv
import hashlib
import io
import itertools
from dataclasses import replace
from decimal import Decimal

from flask import current_app
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import LedgerEntry
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.reconciliation import exports
from inventory.reconciliation.models import ExportBatch, ExportedEntry, ExportFile, ExportFormat

_runs = itertools.count(1)
SIGN = {"BP": 1, "CP": 1, "BR": -1, "CR": -1}


def test_random_export_histories_never_export_twice_and_always_add_up(app, build):
    finance = build.user(roles=["finance"])
    build.budget_period(allocated_pence=100_000_000, actor=finance, around_today=True)

    class Exporting(RuleBasedStateMachine):
        @initialize()
        def start(self):
            db.session.rollback()
            self.run = next(_runs)
            self.spent = []  # entries that may be refunded or reversed
            self.digests = {}  # file id -> sha256 when first written

        def attempt(self, use_case):
            try:
                use_case()
                db.session.commit()
            except DomainError:
                db.session.rollback()

        @rule(gross=st.integers(100, 50_000), vat_part=st.integers(0, 20), card=st.booleans())
        def spend(self, gross, vat_part, card):
            entry = build.direct_purchase(gross_pence=gross, vat_pence=gross * vat_part // 120, actor=finance,
                                          receipt=f"R{self.run}-{len(self.spent)}", paid_by="card" if card else "bank")
            self.spent.append(entry.id)

        @rule(pick=st.integers(0, 100), pence=st.integers(1, 5_000))
        def refund(self, pick, pence):
            if self.spent:
                entry = db.session.get(LedgerEntry, self.spent[pick % len(self.spent)])
                self.attempt(lambda: ledger.credit(pence, on=clock.today(), actor=finance, memo="Refund",
                                                   source_type=entry.source_type, source_id=entry.source_id,
                                                   net_pence=pence, vat_pence=0))

        @rule(pick=st.integers(0, 100))
        def reverse(self, pick):
            if self.spent:
                entry = db.session.get(LedgerEntry, self.spent[pick % len(self.spent)])
                self.attempt(lambda: ledger.reverse(entry, reason="Mistake", actor=finance))

        @rule(export_format=st.sampled_from(ExportFormat), reclaimed=st.booleans())
        def export(self, export_format, reclaimed):
            # The files honour the setting; the ledger keeps charging gross (it is off while spend posts).
            settings_ = replace(exports.ExportSettings.from_config(current_app.config), vat_reclaimed=reclaimed)
            self.attempt(lambda: exports.export_batch(export_format, actor=finance, settings=settings_))
            for file in db.session.scalars(select(ExportFile)):
                self.digests.setdefault(file.id, hashlib.sha256(file.content).hexdigest())

        @invariant()
        def no_entry_leaves_twice_in_one_format(self):
            twice = db.session.execute(select(ExportedEntry.format, ExportedEntry.ledger_entry_id)
                                       .group_by(ExportedEntry.format, ExportedEntry.ledger_entry_id)
                                       .having(func.count() > 1)).all()
            assert twice == []

        @invariant()
        def past_files_are_unchanged(self):
            for file_id, digest in self.digests.items():
                file = db.session.get(ExportFile, file_id)
                assert hashlib.sha256(file.content).hexdigest() == digest == file.sha256

        @invariant()
        def each_sage_batch_sums_to_the_ledger_movement_it_covers(self):
            for batch in db.session.scalars(select(ExportBatch).where(ExportBatch.format == ExportFormat.SAGE)):
                ids = select(ExportedEntry.ledger_entry_id).where(ExportedEntry.batch_id == batch.id)
                entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(ids))))
                rows = list(csv.DictReader(io.StringIO(batch.files[0].content.decode(), newline="")))
                cost = sum(SIGN[row["Type"]] * Decimal(row["Net Amount"]) for row in rows)
                vat = sum(SIGN[row["Type"]] * Decimal(row["Tax Amount"]) for row in rows)
                gross = -sum(entry.amount_pence for entry in entries)
                assert (cost + vat) * 100 == gross and len(rows) == batch.entry_count

    run_state_machine_as_test(Exporting, settings=settings(
        max_examples=20, stateful_step_count=15, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
