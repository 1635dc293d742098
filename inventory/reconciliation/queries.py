"""What reconciliation reads: proposed matches, the exceptions list, allocations."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from difflib import SequenceMatcher
from enum import StrEnum

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import aliased

from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry, SourceType
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.reconciliation.models import MatchAllocation, RejectedProposal, Statement, StatementLine

# Entries that are real money through a bank or card account: the grant paid in
# (allocation), spend (actual), money back (credit). Money in pairs with an allocation or a
# credit, money out with an actual: the signs of line and entry agree.
BANK_KINDS = (EntryKind.ALLOCATION, EntryKind.ACTUAL, EntryKind.CREDIT)
AMOUNT_POINTS = 50
DATE_POINTS = 30
TEXT_POINTS = 20
MAX_CANDIDATES = 50


def entry_allocated_pence(entry_ids) -> dict[int, int]:
    rows = db.session.execute(
        select(MatchAllocation.ledger_entry_id, func.sum(MatchAllocation.amount_pence))
        .where(MatchAllocation.ledger_entry_id.in_(list(entry_ids)))
        .group_by(MatchAllocation.ledger_entry_id)
    )
    return {entry_id: int(total) for entry_id, total in rows}


def bank_pence(entry: LedgerEntry) -> int:
    """What the bank saw for an entry: its gross where it has one (with VAT reclaimed, an
    actual's or a credit's amount is net of VAT, but the bank paid the gross), else the size
    of its amount. Matching always compares this."""
    return entry.gross_pence if entry.gross_pence is not None else abs(entry.amount_pence)


def bank_amount(entry=LedgerEntry):
    """SQL twin of `bank_pence`."""
    return func.coalesce(entry.gross_pence, func.abs(entry.amount_pence))


def is_reversed(entry=LedgerEntry):
    """SQL condition: a reversal has cancelled this entry."""
    reversal = aliased(LedgerEntry)
    return exists().where(reversal.reverses_id == entry.id)


def _allocated_to(entry=LedgerEntry):
    return (select(func.coalesce(func.sum(MatchAllocation.amount_pence), 0))
            .where(MatchAllocation.ledger_entry_id == entry.id).scalar_subquery())


@dataclass(frozen=True)
class Proposal:
    entry: LedgerEntry
    amount_pence: int
    score: int
    reasons: list[str] = field(default_factory=list)


def text_similarity(line_text: str, candidates: list[str]) -> float:
    """0..1: how alike the bank's words are to the entry's supplier, reference or memo."""
    line_text = " ".join(line_text.casefold().split())
    best = 0.0
    for candidate in candidates:
        candidate = " ".join((candidate or "").casefold().split())
        if not candidate or not line_text:
            continue
        if candidate in line_text:
            return 1.0
        best = max(best, SequenceMatcher(None, line_text, candidate).ratio())
    return best


def score_proposal(*, line_date: date, entry_date: date, window_days: int, similarity: float,
                   amount_pence: int) -> tuple[int, list[str]]:
    """A readable score out of 100: equal amount, days apart, likeness of the words."""
    days = abs((entry_date - line_date).days)
    date_points = round(DATE_POINTS * (1 - days / (window_days + 1)))
    text_points = round(TEXT_POINTS * similarity)
    pounds, pence = divmod(amount_pence, 100)
    reasons = [f"Same amount (£{pounds:,}.{pence:02d}): {AMOUNT_POINTS}",
               f"{'Same day' if days == 0 else f'{days} day(s) apart'}: {date_points}",
               f"Words {round(similarity * 100)}% alike: {text_points}"]
    return AMOUNT_POINTS + date_points + text_points, reasons


def entry_texts(entries: list[LedgerEntry]) -> dict[int, list[str]]:
    """What each entry says about who was paid, to compare with the bank's description."""
    purchase_ids = [e.source_id for e in entries if e.source_type == SourceType.DIRECT_PURCHASE]
    purchases = {p.id: p for p in db.session.scalars(select(DirectPurchase).where(DirectPurchase.id.in_(purchase_ids)))}
    texts = {}
    for entry in entries:
        purchase = purchases.get(entry.source_id) if entry.source_type == SourceType.DIRECT_PURCHASE else None
        texts[entry.id] = [entry.memo or ""] + ([purchase.supplier_name, purchase.receipt_reference] if purchase else [])
    return texts


def proposals_for(line: StatementLine, *, window_days: int, limit: int = 5) -> list[Proposal]:
    """Unmatched entries of the same direction whose bank amount is what is left of the line,
    dated within the window, that finance has not already rejected for this line, best first."""
    if line.remaining_pence == 0:
        return []
    target = line.remaining_pence
    direction = LedgerEntry.amount_pence < 0 if line.is_money_out else LedgerEntry.amount_pence > 0
    window = timedelta(days=window_days)
    rejected = exists().where(RejectedProposal.statement_line_id == line.id,
                              RejectedProposal.ledger_entry_id == LedgerEntry.id)
    allocated = exists().where(MatchAllocation.ledger_entry_id == LedgerEntry.id)
    entries = list(db.session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.kind.in_(BANK_KINDS), direction, bank_amount() == target,
            LedgerEntry.entry_date.between(line.value_date - window, line.value_date + window),
            ~allocated, ~rejected, ~is_reversed(),
        ).order_by(LedgerEntry.entry_date, LedgerEntry.id).limit(MAX_CANDIDATES)
    ))
    texts = entry_texts(entries)
    proposals = []
    for entry in entries:
        score, reasons = score_proposal(
            line_date=line.value_date, entry_date=entry.entry_date, window_days=window_days,
            similarity=text_similarity(f"{line.description} {line.reference}", texts[entry.id]),
            amount_pence=target,
        )
        proposals.append(Proposal(entry=entry, amount_pence=target, score=score, reasons=reasons))
    proposals.sort(key=lambda p: (-p.score, p.entry.id))
    return proposals[:limit]


def statements_with_progress() -> Select:
    """Statements, newest first, each with how many of its lines are reconciled."""
    reconciled = (select(func.count(StatementLine.id))
                  .where(StatementLine.statement_id == Statement.id, StatementLine.reconciled_at.is_not(None))
                  .scalar_subquery())
    return (select(Statement, reconciled.label("reconciled_count"))
            .order_by(Statement.imported_at.desc(), Statement.id.desc()))


class LineStatus(StrEnum):
    ALL = "all"
    OPEN = "open"  # not yet reconciled
    RECONCILED = "reconciled"


def line_status(args) -> LineStatus:
    """?status= from a query string (all lines unless given); InvalidInput if it is none of them."""
    fields = Fields(args, text=True)
    status = fields.choice("status", LineStatus, required=False)
    fields.check()
    return status or LineStatus.ALL


def statement_lines(statement_id: int, status: LineStatus = LineStatus.ALL) -> Select:
    """A statement's lines in file order; `open` (not reconciled) or `reconciled` only."""
    query = select(StatementLine).where(StatementLine.statement_id == statement_id)
    if status == LineStatus.OPEN:
        query = query.where(StatementLine.reconciled_at.is_(None))
    elif status == LineStatus.RECONCILED:
        query = query.where(StatementLine.reconciled_at.is_not(None))
    return query.order_by(StatementLine.line_number)


def unmatched_lines(cutoff: date) -> Select:
    """Statement lines not reconciled, dated on or before the cutoff, oldest first."""
    return (select(StatementLine).where(StatementLine.reconciled_at.is_(None), StatementLine.value_date <= cutoff)
            .order_by(StatementLine.value_date, StatementLine.id))


def unreconciled_entries(cutoff: date) -> Select:
    """Bank-facing entries not wholly matched to statement lines, on or before the cutoff:
    rows of (entry, allocated, bank amount)."""
    allocated = _allocated_to()
    return (select(LedgerEntry, allocated.label("allocated_pence"), bank_amount().label("bank_pence")).where(
        LedgerEntry.kind.in_(BANK_KINDS), LedgerEntry.entry_date <= cutoff, ~is_reversed(),
        allocated < bank_amount(),
    ).order_by(LedgerEntry.entry_date, LedgerEntry.id))


def matchable_entries(*, around: date, window_days: int, money_out: bool) -> Select:
    """Entries a person might pick by hand for a line: same direction, not wholly matched;
    rows of (entry, allocated, bank amount)."""
    allocated = _allocated_to()
    window = timedelta(days=window_days)
    direction = LedgerEntry.amount_pence < 0 if money_out else LedgerEntry.amount_pence > 0
    return (select(LedgerEntry, allocated.label("allocated_pence"), bank_amount().label("bank_pence")).where(
        LedgerEntry.kind.in_(BANK_KINDS), direction, ~is_reversed(),
        LedgerEntry.entry_date.between(around - window, around + window),
        allocated < bank_amount(),
    ).order_by(LedgerEntry.entry_date, LedgerEntry.id))


@dataclass(frozen=True)
class LineCounts:
    unreconciled: int  # statement lines not yet signed off
    exceptions: int  # of those, dated on or before the exceptions list's cutoff


def unreconciled_line_counts(cutoff: date) -> LineCounts:
    """Statement lines not reconciled, and how many of them are old enough for the exceptions
    list (`unmatched_lines`), in one statement."""
    return LineCounts(*db.session.execute(
        select(func.count(), func.count().filter(StatementLine.value_date <= cutoff))
        .where(StatementLine.reconciled_at.is_(None))).one())
