"""Read-side questions about the ledger, answered in SQL (aggregates, never row scans in Python)."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from inventory import clock
from inventory.budget.models import BUCKETS, BudgetPeriod, EntryKind, LedgerEntry
from inventory.errors import InvalidInput
from inventory.extensions import db

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
    totals = bucket_totals(LedgerEntry.category, LedgerEntry.period_id == period.id)
    lines = [CategoryLine(category or "Uncategorised", row["committed_pence"], row["actual_pence"],
                          row["credits_pence"]) for category, row in totals.items()]
    return sorted((line for line in lines if line.used_pence or line.credits_pence),
                  key=lambda line: (-line.used_pence, line.category))


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


def filtered_entries(args):
    """Entries filtered by the query-string values kind, from and to; newest first."""
    fields = {}
    query = select(LedgerEntry).options(selectinload(LedgerEntry.posted_by)).order_by(LedgerEntry.id.desc())
    kind = args.get("kind") or None
    if kind is not None:
        if kind not in {str(k) for k in EntryKind}:
            fields["kind"] = f"One of: {', '.join(EntryKind)}."
        query = query.where(LedgerEntry.kind == kind)
    for name, compare in (("from", LedgerEntry.entry_date.__ge__), ("to", LedgerEntry.entry_date.__le__)):
        raw = args.get(name) or None
        if raw is None:
            continue
        try:
            query = query.where(compare(date.fromisoformat(raw)))
        except ValueError:
            fields[name] = "A date like 2026-04-30."
    if fields:
        raise InvalidInput("Invalid filters.", fields=fields)
    return query


def months_of(period: BudgetPeriod) -> list[date]:
    months, month = [], period.starts_on.replace(day=1)
    while month <= period.ends_on:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def today_within(period: BudgetPeriod) -> date:
    return max(period.starts_on, min(clock.today(), period.ends_on))
