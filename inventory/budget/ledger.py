"""The budget's service API: every money movement in SafeHold is written here.

Each function adds one or more immutable, hash-chained entries, updates the period's
running totals in the same transaction, flushes and never commits (the caller commits
once). available = allocated - actual - open commitments + credits + adjustments, where
an adjustment's amount is signed by its effect on available (positive gives money back).
Every entry's date passes `check_entry_date` (inside its period, not after today, not in a
closed month) in `_append`, so no kind escapes it.

Concurrency: a writer first locks the period balance row(s) it will move
(SELECT ... FOR UPDATE, in period-id order), then the chain (a transaction-scoped advisory
lock on PostgreSQL), so every check it makes holds until it commits and the chain never
forks. SQLite gets the same guarantee from BEGIN IMMEDIATE (see inventory.database).
A reversal also locks the rows of the entries it reverses, after the balances, so that the
reversal guards' reads (receivers of `entry_reversing`) hold until they commit.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from inventory import clock, hash_chain
from inventory.budget import categories
from inventory.budget.models import (
    BudgetPeriod,
    EntryKind,
    LedgerEntry,
    MonthClose,
    OverspendAlert,
    PeriodBalance,
    SourceType,
)
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import MoneyError, check_pence, format_pence
from inventory.parsing import Fields, iso_date

CHAIN_LOCK_KEY = 0x5AFE_1ED6  # pg_advisory_xact_lock key that serialises appends to the chain
MEMO_MAX = 500
CASE_REFERENCE_MAX = 40

entry_reversing = Hook(
    "ledger_entry_reversing",
    "An entry is about to be reversed; a receiver `(entry)` refuses by raising a DomainError. It runs "
    "with the entry's row locked, so a writer that locks the entry too (as reconciliation's matching "
    "does) cannot change what the receiver read.")
entry_reversed = Hook(
    "ledger_entry_reversed",
    "An entry is being reversed. Receivers `(entry, actor=)` are called before any ledger row is locked, "
    "so that they lock their own records first (the order every use case keeps: its records, then the "
    "ledger); each returns None, or a callable `(reversal)` that reacts once the reversal is written, in "
    "the same transaction (procurement marks the invoice reversed and puts its order back to awaiting "
    "invoice). A receiver may refuse by raising a DomainError.")


class BudgetExceeded(Conflict):
    """A commitment the ringfenced budget cannot cover (or may not, while an overspend is open)."""

    code = "budget_exceeded"

    def __init__(self, *, available_pence: int, needed_pence: int, overspend_alert_id: int | None = None):
        shortfall = max(needed_pence - available_pence, 0)
        if overspend_alert_id is not None:
            message = ("No new commitments until finance resolves the open overspend alert "
                       f"(available {format_pence(available_pence)}).")
        else:
            message = (f"Not enough budget: {format_pence(needed_pence)} needed, "
                       f"{format_pence(available_pence)} available, short by {format_pence(shortfall)}.")
        details = {"available_pence": available_pence, "needed_pence": needed_pence, "shortfall_pence": shortfall}
        if overspend_alert_id is not None:
            details["overspend_alert_id"] = overspend_alert_id
        super().__init__(message, details=details)


class PeriodClosed(Conflict):
    code = "period_closed"

    def __init__(self, day: date):
        super().__init__(f"{day:%B %Y} is closed: nothing may be dated inside it.",
                         details={"month": day.replace(day=1).isoformat()})


class NoBudgetPeriod(Conflict):
    code = "no_budget_period"

    def __init__(self, day: date):
        super().__init__(f"No budget period covers {day:%d %B %Y}.", details={"date": day.isoformat()})


# Reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetSummary:
    period: BudgetPeriod
    allocated_pence: int
    committed_pence: int
    actual_pence: int
    credits_pence: int
    adjustments_pence: int
    available_pence: int

    @property
    def used_percent(self) -> int | None:
        """Share of the allocation no longer available, in whole percent."""
        if self.allocated_pence <= 0:
            return None
        return round(100 * (self.allocated_pence - self.available_pence) / self.allocated_pence)


def period_for(day: date) -> BudgetPeriod:
    if not isinstance(day, date):
        raise InvalidInput("Give the entry's date.", fields={"on": "Enter a date."})
    period = db.session.scalar(
        select(BudgetPeriod).where(BudgetPeriod.starts_on <= day, BudgetPeriod.ends_on >= day)
    )
    if period is None:
        raise NoBudgetPeriod(day)
    return period


def current_period(on: date | None = None) -> BudgetPeriod | None:
    """The period running today (or on the day `on`)."""
    today = on or clock.today()
    return db.session.scalar(
        select(BudgetPeriod).where(BudgetPeriod.starts_on <= today, BudgetPeriod.ends_on >= today)
    )


def summary(period: BudgetPeriod | None = None) -> BudgetSummary:
    """The period's totals from its balance row (the current period by default): O(1)."""
    if period is None:
        period = current_period()
        if period is None:
            raise NoBudgetPeriod(clock.today())
    balance = db.session.get(PeriodBalance, period.id)
    return BudgetSummary(
        period=period, allocated_pence=balance.allocated_pence, committed_pence=balance.committed_pence,
        actual_pence=balance.actual_pence, credits_pence=balance.credits_pence,
        adjustments_pence=balance.adjustments_pence, available_pence=balance.available_pence,
    )


def available_pence(period: BudgetPeriod | None = None) -> int:
    return summary(period).available_pence


def open_amount_pence(commitment: LedgerEntry) -> int:
    """What of a commitment is still reserved: its amount less net releases; 0 once reversed."""
    _require_commitment(commitment)
    if db.session.scalar(select(exists().where(LedgerEntry.reverses_id == commitment.id))):
        return 0
    release = aliased(LedgerEntry)
    released = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0))
        .where(LedgerEntry.commitment_id == commitment.id, LedgerEntry.kind == EntryKind.RELEASE)
    )
    unreleased = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0))
        .join(release, LedgerEntry.reverses_id == release.id)
        .where(release.commitment_id == commitment.id, release.kind == EntryKind.RELEASE)
    )
    return -commitment.amount_pence - released - unreleased


def is_month_closed(day: date) -> bool:
    return bool(db.session.scalar(select(exists().where(
        MonthClose.month == day.replace(day=1), MonthClose.reopened_at.is_(None)
    ))))


def open_overspend_alert(period: BudgetPeriod) -> OverspendAlert | None:
    return db.session.scalar(
        select(OverspendAlert).where(OverspendAlert.period_id == period.id, OverspendAlert.resolved_at.is_(None))
        .order_by(OverspendAlert.id).limit(1)
    )


def contract_end_date() -> date | None:
    value = current_app.config.get("CONTRACT_END_DATE")
    return None if value is None else iso_date(value)


def vat_reclaimed() -> bool:
    return bool(current_app.config.get("VAT_RECLAIMED"))


# Writing ---------------------------------------------------------------------------------

def allocate(period: BudgetPeriod, amount_pence: int, *, actor, memo: str = "", on: date | None = None) -> LedgerEntry:
    """Fund a period. Dated on `on` (default today, or the period's first day if later, or its
    last day if it has ended)."""
    amount = _pence(amount_pence, "amount_pence")
    day = on or within(period, clock.today())
    balances = _lock_balances(period)
    return _append(EntryKind.ALLOCATION, amount, on=day, period=period, balances=balances, actor=actor, memo=memo)


def commit(amount_pence: int, *, on: date, actor, memo: str, source_type: str, source_id: int,
           category: str | None = None, case_reference: str | None = None) -> LedgerEntry:
    """Reserve money; refused (BudgetExceeded) if it would take available below zero or an
    overspend alert is open in the period."""
    amount = _pence(amount_pence, "amount_pence")
    source = _source(source_type, source_id)
    period = _period_dated(on, EntryKind.COMMITMENT)
    end = contract_end_date()
    if end is not None and on > end:
        raise Conflict(f"The contract ends on {end:%d %B %Y}: nothing may be committed after it.",
                       code="after_contract_end", details={"contract_end_date": end.isoformat()})
    balances = _lock_balances(period)
    _refuse_beyond_budget(period, balances[period.id], amount)
    return _append(EntryKind.COMMITMENT, -amount, on=on, period=period, balances=balances, actor=actor, memo=memo,
                   source=source, category=category, case_reference=case_reference)


def release(commitment: LedgerEntry, amount_pence: int | None = None, *, on: date, actor,
            memo: str) -> LedgerEntry:
    """End all (None) or part of a commitment; never more than is still open. `on` is the day
    it ends; the release is dated then, or within the commitment's period if that has ended
    (see `within`)."""
    _require_commitment(commitment)
    balances = _lock_balances(commitment.period)
    return _release(commitment, amount_pence, on=on, actor=actor, memo=memo, balances=balances,
                    source=(commitment.source_type, commitment.source_id))


def post_actual(gross_pence: int, *, on: date, actor, memo: str, source_type: str, source_id: int,
                net_pence: int, vat_pence: int, category: str | None = None, case_reference: str | None = None,
                releasing: LedgerEntry | None = None, date_field: str = "on") -> LedgerEntry:
    """Record money spent. Releases min(open, charged) of `releasing` in the same
    transaction; spending beyond the commitment (or the budget) still posts and raises an
    overspend alert that blocks new commitments until finance resolves it. `date_field`
    names `on` as the caller's input does (`invoice_date`, `purchased_on`)."""
    charged, vat = invoice_amounts(gross_pence, net_pence, vat_pence)
    source = _source(source_type, source_id)
    period = _period_dated(on, EntryKind.ACTUAL, date_field)
    if releasing is not None:
        _require_commitment(releasing)
    balances = _lock_balances(period, releasing.period if releasing is not None else None)
    actual = _append(EntryKind.ACTUAL, -charged, on=on, period=period, balances=balances, actor=actor, memo=memo,
                     source=source, category=category, case_reference=case_reference, vat=vat,
                     commitment=releasing, date_field=date_field)
    released = 0
    if releasing is not None:
        released = min(open_amount_pence(releasing), charged)
        if released:
            _release(releasing, released, on=on, actor=actor, memo=f"Settled by actual: {memo}"[:MEMO_MAX],
                     balances=balances, source=source, settled_by=actual)
    # What the commitment did not cover came out of available.
    _alert_if_overspent(actual, balances[period.id], reduced_by=charged - released,
                        over_commitment=charged - released if releasing is not None else 0)
    return actual


def credit(gross_pence: int, *, on: date, actor, memo: str, source_type: str, source_id: int, net_pence: int,
           vat_pence: int, category: str | None = None, case_reference: str | None = None,
           date_field: str = "on") -> LedgerEntry:
    """Money back from a supplier (credit note, refund)."""
    charged, vat = invoice_amounts(gross_pence, net_pence, vat_pence)
    source = _source(source_type, source_id)
    period = _period_dated(on, EntryKind.CREDIT, date_field)
    balances = _lock_balances(period)
    return _append(EntryKind.CREDIT, charged, on=on, period=period, balances=balances, actor=actor, memo=memo,
                   source=source, category=category, case_reference=case_reference, vat=vat, date_field=date_field)


def adjust(amount_pence: int, *, on: date, actor, reason: str, category: str | None = None,
           case_reference: str | None = None) -> LedgerEntry:
    """A finance journal, signed by its effect on available; it needs a written reason."""
    amount = _pence(amount_pence, "amount_pence", allow_negative=True)
    reason = _reason(reason)
    period = _period_dated(on, EntryKind.ADJUSTMENT)
    balances = _lock_balances(period)
    entry = _append(EntryKind.ADJUSTMENT, amount, on=on, period=period, balances=balances, actor=actor, memo=reason,
                    category=category, case_reference=case_reference)
    _alert_if_overspent(entry, balances[period.id], reduced_by=-amount)
    return entry


def reverse(entry: LedgerEntry, *, reason: str, actor, on: date | None = None) -> LedgerEntry:
    """The only correction: an entry that negates `entry`, once. Reversing an actual also
    reverses the release it made, so its commitment is open again. Refused if a receiver of
    `entry_reversing` refuses either entry. Receivers of `entry_reversed` react once it is
    written.

    A reversal moves the balance of the entry's period, so it is dated inside that period:
    `on` if given (else refused, 422), by default today, or the period's last day once the
    period has ended (reversing last year's invoice gives the money back to last year, and
    is refused with period_closed if that year's last month is closed)."""
    reason = _reason(reason)
    day = on or within(entry.period, clock.today())
    if entry.kind == EntryKind.REVERSAL:
        raise Conflict("A reversal cannot itself be reversed; post the entry again instead.",
                       code="cannot_reverse_reversal")
    settled_release = None
    if entry.kind == EntryKind.ACTUAL:
        settled_release = db.session.scalar(select(LedgerEntry).where(LedgerEntry.settled_by_id == entry.id))
    elif entry.kind == EntryKind.RELEASE and entry.settled_by_id is not None:
        raise Conflict("This release was made by an actual: reverse the actual instead.",
                       code="reverse_the_actual")
    reactions = [react for react in entry_reversed.fire(entry, actor=actor) if react is not None]
    balances = _lock_balances(entry.period, settled_release.period if settled_release is not None else None)
    reversing = _lock_entries(entry, settled_release)
    _refuse_if_reversed(entry)
    for each in reversing:
        entry_reversing.fire(each)
    if entry.kind == EntryKind.COMMITMENT and open_amount_pence(entry) != -entry.amount_pence:
        raise Conflict("Part of this commitment is already released or spent: release what is still open instead.",
                       code="commitment_in_use")
    if entry.kind == EntryKind.RELEASE:
        # Reopening a commitment reserves money again, under the same rule as a commitment.
        _refuse_beyond_budget(entry.period, balances[entry.period_id], entry.amount_pence)
    reversal = _append_reversal(entry, on=day, actor=actor, reason=reason, balances=balances)
    if settled_release is not None:
        _append_reversal(settled_release, on=within(settled_release.period, day), actor=actor, reason=reason,
                         balances=balances)
    _alert_if_overspent(reversal, balances[entry.period_id], reduced_by=-reversal.amount_pence)
    for react in reactions:
        react(reversal)
    return reversal


# Dates -----------------------------------------------------------------------------------

def check_entry_date(on, kind: EntryKind, period: BudgetPeriod | None, *, field: str = "on",
                     reverses: LedgerEntry | None = None) -> date:
    """The dates rule, for every entry: dated inside its budget period, not after today, and
    not inside a closed month (409 period_closed). An allocation, and the reversal of one, may
    be dated on its period's first day even before that day comes (next year's funding).
    `period` None checks only what can be checked before the period is known. Refusals name
    `field`, the date as the caller's input calls it."""
    if not isinstance(on, date):
        raise InvalidInput("Give the entry's date.", fields={field: "Enter a date."})
    today = clock.today()
    funding = EntryKind.ALLOCATION in (kind, reverses.kind if reverses is not None else None)
    if on > today and not (funding and period is not None and on == period.starts_on):
        raise InvalidInput(f"An entry cannot be dated after today ({today:%d %B %Y}).",
                           fields={field: f"Entries cannot be dated in the future (after {today:%d %b %Y})."})
    if period is None:
        return on
    if not period.contains(on):
        whose = "the period of the entry it reverses" if reverses is not None else "its budget period"
        raise InvalidInput(f"An entry is dated inside {whose} ({period.name}).",
                           fields={field: f"Between {period.starts_on:%d %b %Y} and {period.ends_on:%d %b %Y}."})
    if is_month_closed(on):
        raise PeriodClosed(on)
    return on


def within(period: BudgetPeriod, day):
    """The date for an entry that must land in `period` although what it records happened on
    `day` (a release of the period's commitment, a reversal): `day` while the period runs, its
    last day once it has ended (its first day before it starts)."""
    if not isinstance(day, date):
        return day  # check_entry_date refuses it, naming the field
    return min(max(day, period.starts_on), period.ends_on)


def _period_dated(on, kind: EntryKind, field: str = "on") -> BudgetPeriod:
    """The period an entry dated `on` falls in; a date after today is refused before looking."""
    check_entry_date(on, kind, None, field=field)
    return period_for(on)


# Internals -------------------------------------------------------------------------------

def _append_reversal(entry: LedgerEntry, *, on: date, actor, reason: str, balances) -> LedgerEntry:
    return _append(EntryKind.REVERSAL, -entry.amount_pence, on=on, period=entry.period, balances=balances,
                   actor=actor, memo=reason, category=entry.category, case_reference=entry.case_reference,
                   source=(entry.source_type, entry.source_id), reverses=entry)


def _release(commitment: LedgerEntry, amount_pence: int | None, *, on: date, actor, memo: str, balances,
             source, settled_by: LedgerEntry | None = None) -> LedgerEntry:
    still_open = open_amount_pence(commitment)
    if still_open == 0:
        raise Conflict("Nothing of this commitment is still open.", code="nothing_open",
                       details={"open_pence": 0})
    amount = still_open if amount_pence is None else _pence(amount_pence, "amount_pence")
    if amount > still_open:
        raise InvalidInput(f"Only {format_pence(still_open)} of this commitment is still open.",
                           fields={"amount_pence": f"At most {still_open} (still open)."},
                           details={"open_pence": still_open})
    return _append(EntryKind.RELEASE, amount, on=within(commitment.period, on), period=commitment.period,
                   balances=balances, actor=actor,
                   memo=memo, source=source, category=commitment.category,
                   case_reference=commitment.case_reference, commitment=commitment, settled_by=settled_by)


def _append(kind: EntryKind, amount: int, *, on: date, period: BudgetPeriod, balances: dict, actor, memo: str,
            source=(None, None), category=None, case_reference=None, vat=None, commitment=None, reverses=None,
            settled_by=None, date_field: str = "on") -> LedgerEntry:
    check_entry_date(on, kind, period, field=date_field, reverses=reverses)
    texts = Fields({"memo": memo, "case_reference": case_reference})
    memo = texts.text("memo", required=False, max_length=MEMO_MAX) or ""
    case_reference = texts.text("case_reference", required=False, max_length=CASE_REFERENCE_MAX)
    texts.check()
    follows = reverses if reverses is not None else commitment if kind == EntryKind.RELEASE else None
    category, category_id = _entry_category(category, follows=follows)
    previous = lock_chain()
    net, vat_amount, gross = vat or (None, None, None)
    entry = LedgerEntry(
        position=previous[0] + 1, previous_hash=previous[1], period_id=period.id, kind=str(kind), entry_date=on,
        amount_pence=amount, net_pence=net, vat_pence=vat_amount, gross_pence=gross,
        category=category, category_id=category_id, case_reference=case_reference, memo=memo,
        source_type=source[0], source_id=source[1],
        commitment_id=commitment.id if commitment is not None else None,
        reverses_id=reverses.id if reverses is not None else None,
        settled_by_id=settled_by.id if settled_by is not None else None,
        posted_at=clock.now(), posted_by_id=actor.id,
    )
    entry.hash = entry.compute_hash()
    balances[period.id].apply(EntryKind(reverses.kind) if reverses is not None else kind, amount)
    db.session.add(entry)
    db.session.flush()
    return entry


def _entry_category(name: str | None, *, follows: LedgerEntry | None) -> tuple[str | None, int | None]:
    """(name, id) of the category an entry carries: a release or reversal carries the one of
    the entry it follows; any other entry names an active category exactly, or none."""
    if follows is not None:
        return follows.category, follows.category_id
    if name is None or not name.strip():
        return None, None
    category = categories.posting_category(name)
    return category.name, category.id


def _lock_balances(*periods: BudgetPeriod | None) -> dict[int, PeriodBalance]:
    """Lock the periods' balance rows in id order (so two writers cannot deadlock)."""
    ids = sorted({p.id for p in periods if p is not None})
    rows = db.session.scalars(
        select(PeriodBalance).where(PeriodBalance.period_id.in_(ids)).order_by(PeriodBalance.period_id)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    return {row.period_id: row for row in rows}


def _lock_entries(*entries: LedgerEntry | None) -> list[LedgerEntry]:
    """Lock the entries' rows in id order (after their balances: posting an entry that names
    another, as a release names its commitment, holds the balance before touching that row)."""
    locked = sorted((e for e in entries if e is not None), key=lambda e: e.id)
    db.session.execute(select(LedgerEntry.id).where(LedgerEntry.id.in_([e.id for e in locked]))
                       .order_by(LedgerEntry.id).with_for_update())
    return locked


def lock_chain() -> tuple[int, str]:
    """Serialise appends to the chain; returns the last entry's (position, hash)."""
    return hash_chain.lock_chain(LedgerEntry, lock_key=CHAIN_LOCK_KEY, last_by=LedgerEntry.id)


def _refuse_beyond_budget(period: BudgetPeriod, balance: PeriodBalance, needed: int) -> None:
    alert = open_overspend_alert(period)
    if alert is not None:
        raise BudgetExceeded(available_pence=balance.available_pence, needed_pence=needed,
                             overspend_alert_id=alert.id)
    if needed > balance.available_pence:
        raise BudgetExceeded(available_pence=balance.available_pence, needed_pence=needed)


def _alert_if_overspent(entry: LedgerEntry, balance: PeriodBalance, *, reduced_by: int,
                        over_commitment: int = 0) -> None:
    """Raise an alert for spending beyond its commitment, or for an entry that took
    (`reduced_by` pence of) available below zero."""
    below_zero = min(max(reduced_by, 0), max(-balance.available_pence, 0))
    over_by = max(over_commitment, below_zero)
    if over_by > 0:
        db.session.add(OverspendAlert(period_id=entry.period_id, entry_id=entry.id, over_by_pence=over_by))
        db.session.flush()


def _is_reversed(entry: LedgerEntry) -> bool:
    return bool(db.session.scalar(select(exists().where(LedgerEntry.reverses_id == entry.id))))


def _refuse_if_reversed(entry: LedgerEntry) -> None:
    if _is_reversed(entry):
        raise Conflict("This entry is already reversed.", code="already_reversed")


def _require_commitment(entry: LedgerEntry) -> None:
    if entry.kind != EntryKind.COMMITMENT:
        raise Conflict("That entry is not a commitment.", code="not_a_commitment")


def invoice_amounts(gross_pence, net_pence, vat_pence) -> tuple[int, tuple[int, int, int]]:
    """Check net + VAT = gross; returns the amount the budget is charged and the three parts."""
    fields = {}
    values = {}
    for name, value, zero_ok in (("gross_pence", gross_pence, False), ("net_pence", net_pence, True),
                                 ("vat_pence", vat_pence, True)):
        try:
            values[name] = check_pence(value, allow_zero=zero_ok)
        except MoneyError as error:
            fields[name] = str(error)
    if not fields and values["net_pence"] + values["vat_pence"] != values["gross_pence"]:
        fields["gross_pence"] = (f"Gross must be net + VAT "
                                 f"({format_pence(values['net_pence'] + values['vat_pence'])}).")
    if fields:
        raise InvalidInput("Check the amounts.", fields=fields)
    charged = values["net_pence"] if vat_reclaimed() else values["gross_pence"]
    if charged == 0:
        raise InvalidInput("Nothing to charge: the net amount is zero.", fields={"net_pence": "Must be above zero."})
    return charged, (values["net_pence"], values["vat_pence"], values["gross_pence"])


def _pence(value, field: str, **rules) -> int:
    try:
        return check_pence(value, **rules)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field: str(error)}) from None


def _source(source_type, source_id) -> tuple[str, int]:
    if source_type not in {str(s) for s in SourceType}:
        raise InvalidInput("Unknown source type.", fields={"source_type": f"One of: {', '.join(SourceType)}."})
    if isinstance(source_id, bool) or not isinstance(source_id, int) or source_id <= 0:
        raise InvalidInput("The source needs its id.", fields={"source_id": "A positive whole number."})
    return str(source_type), source_id


def _reason(value) -> str:
    """The written reason an adjustment or a reversal needs."""
    given = Fields({"reason": value})
    reason = given.text("reason", max_length=MEMO_MAX)
    given.check()
    return reason
