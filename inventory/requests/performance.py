"""How the service keeps to its target times (`REQUEST_TARGETS`), by risk level, counted in SQL.

- **Open** requests are those not yet finished: waiting for a decision (submitted, or sent
  back for information) or approved and not yet fully installed (approved, partly approved,
  scheduled, partly fulfilled). One is **overdue** when it waits for a decision past its
  decision target (as the queue's `overdue` filter and the overdue job count), or waits for
  its install past its install target. A request sent back for information waits on its
  caseworker, so it is open but not counted overdue.
- **Days to install** run from the day the request was first submitted (`submitted_on`, the
  referral to this service) to the day its first item was handed over (`first_installs`, the
  one definition of "installed" every report uses). Days are calendar days, dated in UTC as
  `clock.today()` is. The risk level is the case's.
- The **median** and **90th percentile** follow the nearest-rank rule, as the funder's return
  does (`inventory.sql.nearest_rank`): the smallest number of days that at least half, or nine
  in ten, of the requests took. With days 1, 2, 4 and 10 the median is 2 and the 90th
  percentile 10.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from inventory.cases.models import Case, RiskLevel
from inventory.extensions import db
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.sql import days_between, nearest_rank, utc_day
from inventory.stock.models import ItemEvent, ItemEventKind

S = RequestState
AWAITING_DECISION = (S.SUBMITTED, S.INFO_REQUESTED)
AWAITING_INSTALL = (S.APPROVED, S.PARTLY_APPROVED, S.SCHEDULED, S.PARTLY_FULFILLED)
OPEN_STATES = AWAITING_DECISION + AWAITING_INSTALL
WINDOW_DAYS = 365  # "the last 12 months": installs in the 365 days up to today, today included
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}  # as fractions: 1/2, 9/10
LEVELS = tuple(reversed(RiskLevel))  # high first


@dataclass(frozen=True)
class OpenRequests:
    risk_level: RiskLevel
    open: int
    overdue: int

    @property
    def on_time(self) -> int:
        return self.open - self.overdue


def open_by_risk(today: date) -> list[OpenRequests]:
    """Open and overdue requests per risk level on `today`, high first, every level listed:
    one grouped query."""
    overdue = or_((EquipmentRequest.state == S.SUBMITTED) & (EquipmentRequest.decide_by < today),
                  EquipmentRequest.state.in_(AWAITING_INSTALL) & (EquipmentRequest.install_by < today))
    counts = {level: (total, int(late)) for level, total, late in db.session.execute(
        select(Case.risk_level, func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        .select_from(EquipmentRequest).join(EquipmentRequest.case)
        .where(EquipmentRequest.state.in_(OPEN_STATES)).group_by(Case.risk_level))}
    return [OpenRequests(level, *counts.get(str(level), (0, 0))) for level in LEVELS]


@dataclass(frozen=True)
class InstallTimes:
    risk_level: RiskLevel
    target_days: int
    installed: int
    median_days: float | None
    p90_days: float | None
    within_target: int

    @property
    def share_within_target(self) -> float | None:
        """Of the requests installed, the share installed within the target (0 to 1)."""
        return self.within_target / self.installed if self.installed else None


def first_installs(starts_at: datetime | None = None, ends_at: datetime | None = None):
    """When each request was installed: the moment its first item was handed over. With a
    window [`starts_at`, `ends_at`), only the requests whose first handover falls inside it
    (found from the handovers in the window, so the whole history is not grouped).
    A subquery of (request_id, installed_at)."""
    handover, earlier = ItemEvent, aliased(ItemEvent)
    issued = (handover.kind == ItemEventKind.ISSUED, handover.request_id.is_not(None))
    if starts_at is None:
        return (select(handover.request_id.label("request_id"), func.min(handover.occurred_at).label("installed_at"))
                .where(*issued).group_by(handover.request_id).subquery())
    # Each request handed over in the window looks up its own first handover by index (a
    # correlated subquery): a NOT EXISTS here was planned as an anti-join that read every
    # earlier handover in the history.
    in_window = (select(handover.request_id.label("request_id")).distinct()
                 .where(*issued, handover.occurred_at >= starts_at, handover.occurred_at < ends_at).subquery())
    first = (select(func.min(earlier.occurred_at))
             .where(earlier.request_id == in_window.c.request_id, earlier.kind == ItemEventKind.ISSUED)
             .scalar_subquery())
    installs = (select(in_window.c.request_id.label("request_id"), first.label("installed_at"))
                .subquery())
    return select(installs.c.request_id, installs.c.installed_at).where(installs.c.installed_at >= starts_at).subquery()


def window(today: date) -> tuple[date, date]:
    """The days whose installs count: the last 12 months, today included."""
    return today - timedelta(days=WINDOW_DAYS - 1), today


def install_times(since: date, until: date) -> list[InstallTimes]:
    """Days from submission to first install for requests first installed from `since` to
    `until` (inclusive), per risk level, high first, every level listed (None where none was
    installed): the count, median, 90th percentile and how many within the target. One query."""
    targets = {str(level): current_app.config["REQUEST_TARGETS"][str(level)]["install_within"] for level in LEVELS}
    first = first_installs(datetime.combine(since, time(), UTC), datetime.combine(until + timedelta(days=1), time(), UTC))
    days = days_between(EquipmentRequest.submitted_on, utc_day(first.c.installed_at))
    installed = (
        select(Case.risk_level.label("risk_level"), days.label("days"))
        .select_from(EquipmentRequest).join(EquipmentRequest.case)
        .join(first, first.c.request_id == EquipmentRequest.id)
        .subquery())
    rows = db.session.execute(_percentiles(installed, targets)).all()
    found = {level: row for level, *row in rows}
    result = []
    for level in LEVELS:
        count, median, p90, within = found.get(str(level), (0, None, None, 0))
        result.append(InstallTimes(level, targets[str(level)], int(count), _days(median), _days(p90), int(within)))
    return result


def _within(rows, targets):
    target = case(*((rows.c.risk_level == level, days) for level, days in targets.items()), else_=0)
    return func.coalesce(func.sum(case((rows.c.days <= target, 1), else_=0)), 0)


def _percentiles(rows, targets):
    """Each level's count, median and 90th percentile (nearest rank) and how many within target."""
    ranked = select(
        rows.c.risk_level, rows.c.days,
        func.row_number().over(partition_by=rows.c.risk_level, order_by=rows.c.days).label("rank"),
        func.count().over(partition_by=rows.c.risk_level).label("n")).subquery()
    return (select(ranked.c.risk_level, ranked.c.n,
                   *(nearest_rank(ranked.c.days, ranked.c.rank, ranked.c.n, *fraction)
                     for fraction in PERCENTILES.values()),
                   _within(ranked, targets))
            .group_by(ranked.c.risk_level, ranked.c.n))


def _days(value) -> float | None:
    return None if value is None else round(float(value), 1)
