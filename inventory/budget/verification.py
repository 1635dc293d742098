"""Re-derive the ledger's truth from its entries: the hash chain, every period's running
totals, and that every open commitment still belongs to something open. `flask --app
inventory verify-ledger` and the nightly job use this."""
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from inventory.budget.models import GENESIS_HASH, BudgetPeriod, EntryKind, LedgerEntry, PeriodBalance
from inventory.budget.queries import BUCKET_NAMES, bucket_totals
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import format_pence

MAX_PROBLEMS = 50  # enough to see the shape of the damage without flooding the terminal

open_commitment_owners = Hook(
    "open_commitment_owners",
    "Which open commitments are still owed: receivers `(sources)` get the (source_type, source_id) of "
    "every source with money still committed and return the set of those they account for (an open "
    "purchase order, a request line still awaiting stock). The budget cannot know those records.")


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
    _check_commitment_owners(report)
    return report


def _check_chain(report: VerificationReport) -> None:
    previous_hash = GENESIS_HASH
    expected_position = 1
    # populate_existing: judge the rows as stored now, never as this session last saw them.
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)
                                 .execution_options(yield_per=2000, populate_existing=True))
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
        .order_by(BudgetPeriod.starts_on).execution_options(populate_existing=True)
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


def open_commitments_by_source() -> dict[tuple[str | None, int | None], int]:
    """{(source_type, source_id): pence still committed}, in one grouped query however long
    the ledger: each commitment's amount, its releases, and the reversals of either, summed
    per commitment and then per source; what is left below zero is still committed."""
    original = aliased(LedgerEntry)
    commitment = aliased(LedgerEntry)
    commitment_id = case(
        (LedgerEntry.kind == EntryKind.COMMITMENT, LedgerEntry.id),
        (LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.commitment_id),
        (and_(LedgerEntry.kind == EntryKind.REVERSAL, original.kind == EntryKind.COMMITMENT), original.id),
        (and_(LedgerEntry.kind == EntryKind.REVERSAL, original.kind == EntryKind.RELEASE), original.commitment_id),
    )
    movements = (select(commitment_id.label("commitment_id"), LedgerEntry.amount_pence)
                 .outerjoin(original, LedgerEntry.reverses_id == original.id)
                 .where(commitment_id.is_not(None)).subquery())
    rows = db.session.execute(
        select(commitment.source_type, commitment.source_id, func.sum(movements.c.amount_pence))
        .join(commitment, commitment.id == movements.c.commitment_id)
        .group_by(commitment.source_type, commitment.source_id)
        .having(func.sum(movements.c.amount_pence) < 0))
    return {(source_type, source_id): -total for source_type, source_id, total in rows}


def _check_commitment_owners(report: VerificationReport) -> None:
    """Every pound still committed belongs to something that will spend or release it: an
    open purchase order, or a request line still awaiting stock. A closed or cancelled
    order, a finished request, or a source nobody knows, that still commits money, holds it
    for ever."""
    committed = open_commitments_by_source()
    accounted = set()
    for answer in open_commitment_owners.fire(set(committed)):
        accounted |= answer
    for (source_type, source_id), pence in sorted(committed.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        if (source_type, source_id) not in accounted:
            owner = f"{source_type.replace('_', ' ').capitalize()} {source_id}" if source_type else "An unsourced entry"
            report.add(f"{owner} still commits {format_pence(pence)}, but is not open: no open purchase order or "
                       "request awaiting stock will ever spend or release it.")
