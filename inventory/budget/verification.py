"""Re-derive the ledger's truth from its entries: the hash chain, and every period's
running totals. `flask --app inventory verify-ledger` and the nightly job use this."""
from dataclasses import dataclass, field

from sqlalchemy import select

from inventory.budget.models import GENESIS_HASH, BudgetPeriod, LedgerEntry, PeriodBalance
from inventory.budget.queries import BUCKET_NAMES, bucket_totals
from inventory.extensions import db

MAX_PROBLEMS = 50  # enough to see the shape of the damage without flooding the terminal


@dataclass
class VerificationReport:
    entries_checked: int = 0
    periods_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def verify_ledger() -> VerificationReport:
    report = VerificationReport()
    _check_chain(report)
    _check_balances(report)
    return report


def _check_chain(report: VerificationReport) -> None:
    previous_hash = GENESIS_HASH
    expected_position = 1
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id).execution_options(yield_per=2000))
    for entry in entries:
        report.entries_checked += 1
        if entry.position != expected_position:
            report.add(f"Entry {entry.id} is at chain position {entry.position}, expected {expected_position}: "
                       "an entry is missing or was inserted out of order.")
        if entry.previous_hash != previous_hash:
            report.add(f"Entry {entry.id} does not follow the entry before it (previous hash differs): "
                       "an earlier entry was removed or altered.")
        if entry.compute_hash() != entry.hash:
            report.add(f"Entry {entry.id} does not match its own hash: its content was changed.")
        previous_hash = entry.hash
        expected_position = entry.position + 1


def _check_balances(report: VerificationReport) -> None:
    expected = bucket_totals(LedgerEntry.period_id)
    periods = db.session.execute(
        select(BudgetPeriod, PeriodBalance).outerjoin(PeriodBalance, PeriodBalance.period_id == BudgetPeriod.id)
        .order_by(BudgetPeriod.starts_on)
    ).all()
    for period, balance in periods:
        report.periods_checked += 1
        totals = expected.pop(period.id, {})
        if balance is None:
            report.add(f"Period {period.name} has no balance row.")
            continue
        for name in (*BUCKET_NAMES, "entry_count"):
            stored, derived = getattr(balance, name), totals.get(name, 0)
            if stored != derived:
                report.add(f"Period {period.name}: {name} is {stored} but the entries give {derived}.")
    for period_id in expected:
        report.add(f"Entries name period {period_id}, which does not exist.")
