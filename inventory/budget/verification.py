"""Re-derive the ledger's truth from its entries: the hash chain, every period's running
totals, every entry's date against its period, that every open commitment still belongs to
something open, and (given one) a signed checkpoint kept
outside the database. `flask --app inventory verify-ledger` and the nightly job use this.

The chain is walked from where the last passing check ended (a `LedgerVerification`),
after checking that the entry there still has the hash that check saw: seconds, not
minutes, on a long ledger. That misses an older entry changed together with every hash
after it up to that point; `full` walks the whole chain again and catches it. The other
checks are grouped queries over every entry, whichever way the chain is walked."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from inventory import clock
from inventory.budget import checkpoint as checkpoints
from inventory.budget.models import (
    BudgetCategory,
    BudgetPeriod,
    EntryKind,
    LedgerEntry,
    LedgerVerification,
    PeriodBalance,
    category_key,
)
from inventory.budget.queries import BUCKET_NAMES, bucket_totals, commitment_movements
from inventory.extensions import db
from inventory.hash_chain import GENESIS_HASH, MAX_PROBLEMS, Problems, walk_chain
from inventory.hooks import Hook
from inventory.money import format_pence

open_commitment_owners = Hook(
    "open_commitment_owners",
    "Which open commitments are still owed: receivers `(sources)` get the (source_type, source_id) of "
    "every source with money still committed and return the set of those they account for (an open "
    "purchase order, a request line still awaiting stock). The budget cannot know those records.")


@dataclass
class VerificationReport(Problems):
    entries_checked: int = 0
    periods_checked: int = 0
    checkpoint: dict | None = None  # the checkpoint checked against, once its signature holds
    full: bool = True
    started_after: int = 0  # the chain position the walk started after (0: from the first entry)
    head: tuple[int, str] = (0, GENESIS_HASH)  # (position, hash) of the last entry walked over

    @property
    def scope(self) -> str:
        return "full" if self.full else f"incremental from entry {self.started_after}"


def verify_ledger(checkpoint: str | None = None, *, full: bool = False) -> VerificationReport:
    """Everything the ledger's own rows can show, the chain walked from the last passing
    check (or from the first entry, with `full` or when none passed yet); with `checkpoint`
    (a checkpoint file's text) also that the ledger still holds what it anchored
    (CheckpointError without a key)."""
    report = VerificationReport()
    _check_chain(report, None if full else last_verification())
    _check_balances(report)
    _check_dates(report)
    _check_categories(report)
    _check_commitment_owners(report)
    if checkpoint is not None:
        report.checkpoint, problems = checkpoints.check(checkpoint)
        for problem in problems:
            report.add(problem)
    return report


def last_verification(*, full: bool = False) -> LedgerVerification | None:
    """The latest passing check recorded (only those that walked the whole chain, with `full`)."""
    query = select(LedgerVerification).order_by(LedgerVerification.id.desc()).limit(1)
    return db.session.scalars(query.where(LedgerVerification.full) if full else query).first()


def record_verification(report: VerificationReport, at: datetime | None = None) -> LedgerVerification:
    """Remember where a passing check's walk ended, for the next to start after (flushed; the
    command or job commits it)."""
    assert report.ok, "only a passing check may become the next one's starting point"
    verification = LedgerVerification(checked_at=at or clock.now(), up_to_position=report.head[0], last_hash=report.head[1],
                                      entries_checked=report.entries_checked, full=report.full)
    db.session.add(verification)
    db.session.flush()
    return verification


def _check_chain(report: VerificationReport, since: LedgerVerification | None) -> None:
    # The head is read before the walk: the walk sees at least every entry up to it (appends
    # commit in chain order), so a check recorded up to it never vouches for an unread entry.
    head = db.session.execute(select(LedgerEntry.position, LedgerEntry.hash)
                              .order_by(LedgerEntry.position.desc()).limit(1)).first()
    report.head = (head.position, head.hash) if head is not None else (0, GENESIS_HASH)
    after = None
    if since is not None and since.up_to_position > 0:
        stored = db.session.scalar(select(LedgerEntry.hash).where(LedgerEntry.position == since.up_to_position))
        if stored != since.last_hash:
            report.add(f"The entry at chain position {since.up_to_position} no longer has the hash the check of "
                       f"{since.checked_at:%Y-%m-%d %H:%M} UTC found there: entries already checked were removed "
                       "or altered (run verify-ledger --full to see which).")
            return
        after, report.full, report.started_after = (since.up_to_position, since.last_hash), False, since.up_to_position
    report.entries_checked = walk_chain(LedgerEntry, order_by=LedgerEntry.id, noun="Entry", word="entry",
                                        report=report.add, after=after)


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


def _check_dates(report: VerificationReport) -> None:
    """Every entry is dated inside its period (one query, however long the ledger)."""
    outside = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.entry_date, BudgetPeriod.name, BudgetPeriod.starts_on, BudgetPeriod.ends_on)
        .join(BudgetPeriod, BudgetPeriod.id == LedgerEntry.period_id)
        .where(or_(LedgerEntry.entry_date < BudgetPeriod.starts_on, LedgerEntry.entry_date > BudgetPeriod.ends_on))
        .order_by(LedgerEntry.id).limit(MAX_PROBLEMS)
    ).all()
    for entry_id, day, name, starts_on, ends_on in outside:
        report.add(f"Entry {entry_id} is dated {day.isoformat()}, outside its period {name} "
                   f"({starts_on.isoformat()} to {ends_on.isoformat()}).")


def _check_categories(report: VerificationReport) -> None:
    """An entry's category id is not hashed, its category's name is: the two must agree (the
    name itself, or for an entry from before categories were a list the text migration 0014
    mapped by `category_key`), a release or reversal must carry the category of the entry it
    follows, and an entry without one must not have been posted when its text named one. So
    re-filing an entry under another category, or under none, shows."""
    known = {c.id: c for c in db.session.scalars(select(BudgetCategory).execution_options(populate_existing=True))}
    by_key = {category_key(c.name): c for c in known.values()}
    filed = db.session.execute(
        select(LedgerEntry.category, LedgerEntry.category_id, func.min(LedgerEntry.id), func.count())
        .where(LedgerEntry.category_id.is_not(None)).group_by(LedgerEntry.category, LedgerEntry.category_id))
    for text, category_id, first, count in filed:
        name = known[category_id].name
        if text is None or category_key(text) != category_key(name):
            report.add(f"{_entries(first, count)} say{'s' if count == 1 else ''} category {text!r} but "
                       f"{'is' if count == 1 else 'are'} filed under {name!r}: re-categorised after posting.")
    followed = aliased(LedgerEntry)
    strays = db.session.execute(
        select(LedgerEntry.id, followed.id).join(followed, or_(
            LedgerEntry.reverses_id == followed.id,
            and_(LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.commitment_id == followed.id)))
        .where(LedgerEntry.category_id.is_distinct_from(followed.category_id)).order_by(LedgerEntry.id))
    for entry_id, followed_id in strays:
        report.add(f"Entry {entry_id} is filed under another category than entry {followed_id}, which it follows.")
    unfiled = db.session.execute(
        select(LedgerEntry.category, func.max(LedgerEntry.posted_at), func.min(LedgerEntry.id), func.count())
        .where(LedgerEntry.category_id.is_(None), LedgerEntry.category.is_not(None),
               LedgerEntry.reverses_id.is_(None), LedgerEntry.kind != EntryKind.RELEASE)
        .group_by(LedgerEntry.category))
    for text, last_posted, first, count in unfiled:
        category = by_key.get(category_key(text))
        if category is not None and category.created_at <= last_posted:
            report.add(f"{_entries(first, count)} say{'s' if count == 1 else ''} category {text!r} but "
                       f"{'is' if count == 1 else 'are'} filed under none, though {category.name!r} existed "
                       "when posted.")


def _entries(first: int, count: int) -> str:
    return f"Entry {first}" + (f" and {count - 1} more" if count > 1 else "")


def open_commitments_by_source() -> dict[tuple[str | None, int | None], int]:
    """{(source_type, source_id): pence still committed}, in one grouped query however long
    the ledger: each commitment's amount, its releases, and the reversals of either, summed
    per commitment and then per source; what is left below zero is still committed."""
    movements = commitment_movements()
    commitment = aliased(LedgerEntry)
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
