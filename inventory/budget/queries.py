"""Read-side questions about the ledger, answered in SQL (aggregates, never row scans in Python)."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, literal_column, select
from sqlalchemy.orm import aliased, selectinload

from inventory import clock
from inventory.budget.models import (BUCKETS, SPEND_KINDS, BudgetCategory, BudgetPeriod, EntryKind, LedgerEntry, MonthClose,
                                      OverspendAlert)
from inventory.extensions import db
from inventory.parsing import Fields

BUCKET_NAMES = ("allocated_pence", "committed_pence", "actual_pence", "credits_pence", "adjustments_pence")


def bucket_totals(key, *conditions) -> dict:
    """Running totals per `key` (a column of LedgerEntry), from the entries, each reversal
    counted in its original's bucket: {key: {"allocated_pence": ..., ..., "entry_count": n}}."""
    original = aliased(LedgerEntry)
    effective_kind = func.coalesce(original.kind, LedgerEntry.kind)
    rows = db.session.execute(
        select(key, effective_kind, func.sum(LedgerEntry.amount_pence), func.count())
        .outerjoin(original, LedgerEntry.reverses_id == original.id)
        .where(*conditions).group_by(key, effective_kind)
    ).all()
    totals: dict = {}
    for group, kind, amount, count in rows:
        bucket = BUCKETS[EntryKind(kind)]
        row = totals.setdefault(group, dict.fromkeys(BUCKET_NAMES, 0) | {"entry_count": 0})
        row[bucket.name] += bucket.sign * amount
        row["entry_count"] += count
    return totals


@dataclass(frozen=True)
class CategoryLine:
    category: str
    committed_pence: int
    actual_pence: int
    credits_pence: int

    @property
    def used_pence(self) -> int:
        return self.committed_pence + self.actual_pence - self.credits_pence


def by_category(period: BudgetPeriod) -> list[CategoryLine]:
    """Committed, spent and credited per budget category (by id, so a category is one line
    whatever the text of old entries said). "Uncategorised" is what names no category: old
    entries whose text the 0014 migration could not map."""
    totals = bucket_totals(LedgerEntry.category_id, LedgerEntry.period_id == period.id)
    names = dict(db.session.execute(select(BudgetCategory.id, BudgetCategory.name)
                                    .where(BudgetCategory.id.in_([i for i in totals if i is not None]))).all())
    lines = [CategoryLine(names.get(category_id, "Uncategorised"), row["committed_pence"], row["actual_pence"],
                          row["credits_pence"]) for category_id, row in totals.items()]
    return sorted((line for line in lines if line.used_pence or line.credits_pence),
                  key=lambda line: (-line.used_pence, line.category))


@dataclass(frozen=True)
class MonthSpend:
    month: date  # its first day
    category: str
    spent_pence: int  # actuals less credits


def month_of(day):
    """A date column's month as 'YYYY-MM', in the engine's own words (the format written into
    the SQL, not bound, so that GROUP BY sees the same expression as SELECT)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(day, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), day)


def spend_by_month(period: BudgetPeriod, until: date) -> list[MonthSpend]:
    """What was spent in each month of the period up to `until`, per budget category: actuals
    less credits, each reversal counted with the entry it reverses and in the month it is
    dated (as the forecast counts spending). One grouped query; months and categories with no
    spending have no line."""
    original = aliased(LedgerEntry)
    month = month_of(LedgerEntry.entry_date)
    category = BudgetCategory.name
    rows = db.session.execute(
        select(month, category, -func.sum(LedgerEntry.amount_pence))
        .outerjoin(original, LedgerEntry.reverses_id == original.id)
        .outerjoin(BudgetCategory, BudgetCategory.id == LedgerEntry.category_id)
        .where(LedgerEntry.period_id == period.id, LedgerEntry.entry_date <= until,
               func.coalesce(original.kind, LedgerEntry.kind).in_(SPEND_KINDS))
        .group_by(month, category).order_by(month, category)).all()
    return [MonthSpend(date.fromisoformat(f"{key}-01"), name or "Uncategorised", int(pence))
            for key, name, pence in rows]


def daily_movements(period: BudgetPeriod) -> dict[date, int]:
    """The net change in available on each day that has entries (one row per day)."""
    rows = db.session.execute(
        select(LedgerEntry.entry_date, func.sum(LedgerEntry.amount_pence))
        .where(LedgerEntry.period_id == period.id).group_by(LedgerEntry.entry_date)
    ).all()
    return dict(rows)


def available_by_day(period: BudgetPeriod, until: date) -> list[tuple[date, int]]:
    """Available at the end of each day from the period's start to `until`."""
    movements = daily_movements(period)
    # Entries dated before the period (none by rule) or after `until` still count where they fall.
    running = sum(amount for day, amount in movements.items() if day < period.starts_on)
    series = []
    day = period.starts_on
    while day <= until:
        running += movements.get(day, 0)
        series.append((day, running))
        day += timedelta(days=1)
    return series


@dataclass(frozen=True)
class EntryFilters:
    """Which entries to list: of one kind, dated from and to (inclusive); None is any."""

    kind: EntryKind | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def read(cls, args) -> "EntryFilters":
        """From a query string (?kind=&from=&to=); InvalidInput names each bad filter."""
        fields = Fields(args, text=True)
        filters = cls(kind=fields.choice("kind", EntryKind, required=False),
                      since=fields.date("from", required=False), until=fields.date("to", required=False))
        fields.check()
        return filters


def filtered_entries(filters: EntryFilters) -> Select:
    """The entries the filters select, newest first."""
    query = select(LedgerEntry).options(selectinload(LedgerEntry.posted_by)).order_by(LedgerEntry.id.desc())
    if filters.kind is not None:
        query = query.where(LedgerEntry.kind == filters.kind)
    if filters.since is not None:
        query = query.where(LedgerEntry.entry_date >= filters.since)
    if filters.until is not None:
        query = query.where(LedgerEntry.entry_date <= filters.until)
    return query


def months_of(period: BudgetPeriod) -> list[date]:
    months, month = [], period.starts_on.replace(day=1)
    while month <= period.ends_on:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def spend_by(period: BudgetPeriod, contract_end: date | None) -> date:
    """The day the period's money should be spent by: its end, or the contract's if sooner
    (but never before the period starts)."""
    if contract_end is None:
        return period.ends_on
    return max(period.starts_on, min(period.ends_on, contract_end))


def today_within(period: BudgetPeriod) -> date:
    return max(period.starts_on, min(clock.today(), period.ends_on))


def open_alerts(period: BudgetPeriod) -> list[OverspendAlert]:
    """The period's unresolved overspend alerts, oldest first, each with its entry."""
    return list(db.session.scalars(
        select(OverspendAlert).options(selectinload(OverspendAlert.entry))
        .where(OverspendAlert.period_id == period.id, OverspendAlert.resolved_at.is_(None))
        .order_by(OverspendAlert.id)))


def commitment_movements():
    """A subquery of (commitment_id, amount_pence): every commitment, release, and reversal
    of either, under the commitment it moves. Summed per commitment, what is below zero is
    still committed."""
    original = aliased(LedgerEntry)
    commitment_id = case(
        (LedgerEntry.kind == EntryKind.COMMITMENT, LedgerEntry.id),
        (LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.commitment_id),
        (and_(LedgerEntry.kind == EntryKind.REVERSAL, original.kind == EntryKind.COMMITMENT), original.id),
        (and_(LedgerEntry.kind == EntryKind.REVERSAL, original.kind == EntryKind.RELEASE), original.commitment_id),
    )
    return (select(commitment_id.label("commitment_id"), LedgerEntry.amount_pence)
            .outerjoin(original, LedgerEntry.reverses_id == original.id)
            .where(commitment_id.is_not(None)).subquery())


def open_commitment_amounts():
    """A subquery of (commitment_id, pence) for every commitment with money still open."""
    movements = commitment_movements()
    return (select(movements.c.commitment_id, (-func.sum(movements.c.amount_pence)).label("pence"))
            .group_by(movements.c.commitment_id).having(func.sum(movements.c.amount_pence) < 0).subquery())


def open_commitments(period: BudgetPeriod) -> list[tuple[LedgerEntry, int]]:
    """The period's commitments with money still open, oldest first, each with how much: one
    grouped query however long the ledger."""
    still_open = open_commitment_amounts()
    return [(entry, int(pence)) for entry, pence in db.session.execute(
        select(LedgerEntry, still_open.c.pence).join(still_open, still_open.c.commitment_id == LedgerEntry.id)
        .where(LedgerEntry.period_id == period.id).order_by(LedgerEntry.id))]


def open_pence_of(source_type: str, source_id: int) -> int:
    """What one source (an order, a request) still holds committed, in every period and
    category: one query."""
    still_open = open_commitment_amounts()
    return int(db.session.scalar(
        select(func.coalesce(func.sum(still_open.c.pence), 0)).select_from(LedgerEntry)
        .join(still_open, still_open.c.commitment_id == LedgerEntry.id)
        .where(LedgerEntry.source_type == source_type, LedgerEntry.source_id == source_id)))


@dataclass(frozen=True)
class AlertTotals:
    count: int
    over_by_pence: int


def open_alert_totals(period: BudgetPeriod) -> AlertTotals:
    """How many overspend alerts of the period are unresolved, and by how much they overspent
    in all (one statement)."""
    count, over_by = db.session.execute(
        select(func.count(), func.coalesce(func.sum(OverspendAlert.over_by_pence), 0))
        .where(OverspendAlert.period_id == period.id, OverspendAlert.resolved_at.is_(None))).one()
    return AlertTotals(count, int(over_by))


def closed_months(period: BudgetPeriod) -> set[date]:
    """The first days of the period's months that stand closed now (one statement)."""
    return set(db.session.scalars(select(MonthClose.month).where(
        MonthClose.reopened_at.is_(None), MonthClose.month >= period.starts_on.replace(day=1),
        MonthClose.month <= period.ends_on)))
