"""The access log as admins review it: filtered, with unusual access flagged and why.

A row is unusual when, at the time:
- its user had opened REVEAL_RATE_LIMIT different cases within the hour (the most allowed);
- its user had opened REVEAL_BURST_CASES different cases within REVEAL_BURST_MINUTES;
- it falls outside WORKING_HOURS (local time in SCHEDULER_TIMEZONE);
- its user is a fitter (and neither coordinator nor caseworker) and the reveal was not for
  one of their jobs.
The counts are computed in SQL for a whole page (or an export's batch) in one statement.

Lives with the accounts, as the audit pages do: it needs the users and their roles.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, distinct, exists, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from inventory.accounts.models import User, UserRole
from inventory.audit.models import AccessLogEntry
from inventory.csv_files import Column
from inventory.database import UTCDateTime
from inventory.permissions import Role

RATE_WINDOW = timedelta(hours=1)
EXPORT_BATCH = 500


@dataclass(frozen=True)
class AccessFilters:
    user: str = ""  # part of an email
    user_id: int | None = None
    case_id: int | None = None
    case_reference: str = ""
    what: str = ""  # part of what was shown
    since: date | None = None
    until: date | None = None  # inclusive


@dataclass(frozen=True)
class Unusual:
    """The thresholds, read from the settings before a page or export is made."""

    rate_limit: int
    burst_cases: int
    burst_minutes: int
    working_from: time
    working_until: time
    zone: ZoneInfo

    @classmethod
    def from_config(cls, config) -> "Unusual":
        start, end = (time.fromisoformat(t) for t in config["WORKING_HOURS"])
        return cls(config["REVEAL_RATE_LIMIT"], config["REVEAL_BURST_CASES"], config["REVEAL_BURST_MINUTES"],
                   start, end, ZoneInfo(config["SCHEDULER_TIMEZONE"]))


@dataclass(frozen=True)
class ReviewedAccess:
    entry: AccessLogEntry
    email: str
    reasons: tuple[str, ...]  # why it is unusual; empty when it is not

    @property
    def unusual(self) -> bool:
        return bool(self.reasons)


_fitter_only = and_(
    exists().where(UserRole.user_id == AccessLogEntry.user_id, UserRole.role == Role.FITTER.value),
    ~exists().where(UserRole.user_id == AccessLogEntry.user_id,
                    UserRole.role.in_([Role.COORDINATOR.value, Role.CASEWORKER.value])))


def access_query(filters: AccessFilters, zone):
    """SELECT (entry, email, fitter outside a job) of the rows the filters select, newest first."""
    query = (select(AccessLogEntry, User.email, and_(_fitter_only, AccessLogEntry.job_id.is_(None)))
             .join(User, User.id == AccessLogEntry.user_id)
             .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc()))
    if filters.user:
        query = query.where(User.email.like(f"%{_escape_like(filters.user.lower())}%", escape="\\"))
    if filters.user_id is not None:
        query = query.where(AccessLogEntry.user_id == filters.user_id)
    if filters.case_id is not None:
        query = query.where(AccessLogEntry.case_id == filters.case_id)
    if filters.case_reference:
        query = query.where(AccessLogEntry.case_reference == filters.case_reference.strip().upper())
    if filters.what:
        query = query.where(AccessLogEntry.what.like(f"%{_escape_like(filters.what)}%", escape="\\"))
    if filters.since is not None:
        query = query.where(AccessLogEntry.occurred_at >= datetime.combine(filters.since, time.min, zone))
    if filters.until is not None:
        query = query.where(AccessLogEntry.occurred_at < datetime.combine(filters.until + timedelta(days=1),
                                                                          time.min, zone))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def reviewed(session: Session, rows, unusual: Unusual) -> list[ReviewedAccess]:
    """The rows (entry, email, fitter outside a job) with their reasons to be unusual: the
    hour's and the burst's distinct cases for every row in one statement."""
    rows = list(rows)
    counts = _recent_cases(session, [entry for entry, _, _ in rows], unusual)
    found = []
    for entry, email, fitter_outside_job in rows:
        in_hour, in_burst = counts.get(entry.id, (0, 0))
        reasons = []
        if in_hour >= unusual.rate_limit:
            reasons.append(f"{in_hour} different cases within the hour (the limit is {unusual.rate_limit})")
        if in_burst >= unusual.burst_cases:
            reasons.append(f"{in_burst} different cases within {unusual.burst_minutes} minutes")
        local = entry.occurred_at.astimezone(unusual.zone).time()
        if not unusual.working_from <= local < unusual.working_until:
            reasons.append(f"outside working hours ({unusual.working_from:%H:%M}–{unusual.working_until:%H:%M})")
        if fitter_outside_job:
            reasons.append("a fitter, not on one of their jobs")
        found.append(ReviewedAccess(entry, email, tuple(reasons)))
    return found


def _recent_cases(session: Session, entries: list[AccessLogEntry], unusual: Unusual) -> dict[int, tuple[int, int]]:
    """{row id: (different cases its user opened in the hour up to it, and in the burst
    window up to it)}. The rows' windows go in as literals, so one statement counts them all
    (through the index on user and time) on either engine."""
    if not entries:
        return {}
    burst = timedelta(minutes=unusual.burst_minutes)
    windows = union_all(*[
        select(literal(e.id, Integer).label("id"), literal(e.user_id, Integer).label("user_id"),
               literal(e.occurred_at - RATE_WINDOW, UTCDateTime).label("hour_since"),
               literal(e.occurred_at - burst, UTCDateTime).label("burst_since"),
               literal(e.occurred_at, UTCDateTime).label("at"))
        for e in entries]).subquery()
    other = aliased(AccessLogEntry)
    rows = session.execute(
        select(windows.c.id, func.count(distinct(other.case_id)),
               func.count(distinct(case((other.occurred_at > windows.c.burst_since, other.case_id)))))
        .join(other, and_(other.user_id == windows.c.user_id, other.occurred_at > windows.c.hour_since,
                          other.occurred_at <= windows.c.at))
        .group_by(windows.c.id))
    return {row_id: (in_hour, in_burst) for row_id, in_hour, in_burst in rows}


CSV_COLUMNS = [Column("When (UTC)"), Column("Who"), Column("Case id", numeric=True), Column("Case reference"),
               Column("Job id", numeric=True), Column("What"), Column("Why"), Column("From address"),
               Column("Unusual")]


def csv_rows(session: Session, filters: AccessFilters, unusual: Unusual) -> Iterator[list]:
    """Every row the filters select, flagged, a batch of rows at a time (one streamed
    statement, and one flag statement per batch)."""
    batch = []
    for row in session.execute(access_query(filters, unusual.zone).execution_options(yield_per=EXPORT_BATCH)):
        batch.append(row)
        if len(batch) == EXPORT_BATCH:
            yield from _csv_batch(session, batch, unusual)
            batch = []
    yield from _csv_batch(session, batch, unusual)


def _csv_batch(session: Session, batch, unusual: Unusual) -> Iterator[list]:
    for access in reviewed(session, batch, unusual):
        entry = access.entry
        yield [entry.occurred_at.isoformat(timespec="seconds"), access.email, entry.case_id, entry.case_reference,
               entry.job_id, entry.what, entry.reason, entry.remote_addr, "; ".join(access.reasons)]
