"""The home page answers "what needs me now?": one panel for each role the user holds, in
the order of `PANELS`, each assembled from the features' own query functions.

Every panel costs a fixed number of statements however much data there is (counts in SQL,
lists cut to a few rows), and shows no survivor's personal data: cases appear by their
reference only, and only to roles that see that case elsewhere. Which page each figure
links to is the template's business; `link_to` drops a link the user may not open.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from flask import current_app, url_for

from inventory.accounts.queries import (
    SecurityEvent,
    UserCounts,
    recent_security_events,
    security_event_counts,
    slowed_sign_in_count,
    user_counts,
)
from inventory.audit.models import AuditEventKind
from inventory.budget import ledger
from inventory.budget.charts import burn_down
from inventory.budget.forecast import Forecast, forecast
from inventory.budget.ledger import BudgetSummary
from inventory.budget.models import BudgetPeriod
from inventory.budget.queries import (AlertTotals, available_by_day, closed_months, months_of, open_alert_totals,
                                      today_within)
from inventory.enums import LabelledEnum
from inventory.errors import InvalidInput
from inventory.jobs.queries import (
    CaseLoansDue,
    CaseReviewDue,
    Visit,
    VisitCounts,
    loans_due_for,
    open_visit_counts,
    open_visit_dates,
    open_visits,
    reviews_due_for,
)
from inventory.notifications.models import Notification
from inventory.notifications.queries import latest_unread
from inventory.parsing import Fields
from inventory.permissions import Role, declared_access
from inventory.reconciliation.exports import unexported_counts
from inventory.reconciliation.models import ExportFormat
from inventory.reconciliation.queries import LineCounts, unreconciled_line_counts
from inventory.reports.performance import install_times
from inventory.requests.models import RequestState
from inventory.requests.queries import (
    Standing,
    WaitingList,
    awaiting_stock,
    next_step,
    past_install_target,
    standing,
    standing_counts,
)
from inventory.requests.queue import RiskCount, counts_by_risk
from inventory.scheduling.history import SchedulerHealth, failed_runs, last_runs, scheduler_health
from inventory.scheduling.models import JobRun, RunOutcome

TOP = 5  # rows in each short list; "see all" goes to the page with the rest
SECURITY_EVENTS_SHOWN = 10
RECENT = timedelta(days=1)  # "in the last day" for the admin's counts


def link_to(user, endpoint: str, **values) -> str | None:
    """The URL of `endpoint` if `user` may open it (its route's declaration), else None, so a
    panel never offers a link that answers 403."""
    view = current_app.view_functions.get(endpoint)
    access = declared_access(view) if view is not None else None
    if access is None or not access.allows(user):
        return None
    return url_for(endpoint, **values)


# The budget, as three roles see it ---------------------------------------------------------

@dataclass(frozen=True)
class BudgetPosition:
    period: BudgetPeriod
    totals: BudgetSummary
    alerts: AlertTotals | None = None  # for those who deal with (or are held up by) overspends
    outlook: Forecast | None = None  # finance's: when the money runs out at the recent rate


def budget_position(today: date, *, alerts: bool = False, outlook: bool = False) -> BudgetPosition | None:
    """The current period's totals (its balance row), with its open overspend alerts and its
    forecast where asked; None when no period covers today."""
    period = ledger.current_period(today)
    if period is None:
        return None
    return BudgetPosition(period, ledger.summary(period),
                          alerts=open_alert_totals(period) if alerts else None,
                          outlook=forecast(period, today_within(period)) if outlook else None)


# Coordinator -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CoordinatorPanel:
    queue: list[RiskCount]
    past_install_target: WaitingList
    awaiting_stock: WaitingList
    budget: BudgetPosition | None
    visit_counts: VisitCounts
    visits: list[Visit]  # today's and tomorrow's, soonest first
    unread: int
    notifications: list[Notification]
    today: date
    chart: object | None = None  # days from referral to install against target (main/_chart.html)

    @property
    def waiting(self) -> int:
        return sum(row.waiting for row in self.queue)

    @property
    def overdue_decisions(self) -> int:
        return sum(row.overdue for row in self.queue)


def coordinator_panel(user, now: datetime) -> CoordinatorPanel:
    today = now.date()
    unread, notifications = latest_unread(user.id, limit=TOP)
    return CoordinatorPanel(
        queue=counts_by_risk(today), past_install_target=past_install_target(today, limit=TOP),
        awaiting_stock=awaiting_stock(limit=TOP), budget=budget_position(today, alerts=True),
        visit_counts=open_visit_counts(user, today),
        visits=open_visits(user, since=today, until=today + timedelta(days=1), limit=TOP),
        unread=unread, notifications=notifications, today=today, chart=install_times(today))


# Fitter ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FitterPanel:
    counts: VisitCounts
    today_visits: list[Visit]  # open, dated today or before (still to do), soonest first
    upcoming: list[Visit]
    today: date

    @property
    def due_now(self) -> int:
        return self.counts.overdue + self.counts.today

    @property
    def coming_up(self) -> int:
        return self.counts.tomorrow + self.counts.later


def fitter_panel(user, now: datetime) -> FitterPanel:
    """The fitter's own open visits only, whatever else they may see."""
    today = now.date()
    return FitterPanel(counts=open_visit_counts(user, today, mine=True),
                       today_visits=open_visits(user, until=today, mine=True, limit=TOP),
                       upcoming=open_visits(user, since=today + timedelta(days=1), mine=True, limit=TOP),
                       today=today)


# Caseworker --------------------------------------------------------------------------------

class RequestScope(LabelledEnum):
    """Which requests a caseworker's panel follows."""

    MINE = "mine", "Raised by me"
    ORGANISATION = "organisation", "All my organisation's"

    @classmethod
    def read(cls, args) -> "RequestScope":
        """?requests=mine (the default) or organisation; InvalidInput names any other value."""
        fields = Fields(args, text=True)
        scope = fields.choice("requests", cls, required=False)
        if fields.errors:
            raise InvalidInput("Show the requests raised by you (requests=mine) or by your organisation"
                               " (requests=organisation).", fields=dict(fields.errors))
        return scope or cls.MINE


@dataclass(frozen=True)
class StandingRow:
    request: Standing
    next_step: str
    waiting_days: int


@dataclass(frozen=True)
class CaseworkerPanel:
    scope: RequestScope
    counts: dict[RequestState, int]
    requests: list[StandingRow]
    loans: list[CaseLoansDue]
    reviews: list[CaseReviewDue]
    today: date

    @property
    def on_the_way(self) -> int:
        """Decided and not yet handed over in full."""
        return sum(count for state, count in self.counts.items()
                   if state not in (RequestState.SUBMITTED, RequestState.INFO_REQUESTED))

    @property
    def first_loans(self) -> list[CaseLoansDue]:
        return self.loans[:TOP]

    @property
    def first_reviews(self) -> list[CaseReviewDue]:
        return self.reviews[:TOP]

    @property
    def loans_overdue(self) -> int:
        return sum(row.overdue for row in self.loans)

    @property
    def reviews_overdue(self) -> int:
        return sum(1 for row in self.reviews if row.review_on < self.today)


def caseworker_panel(user, now: datetime, *, scope: RequestScope = RequestScope.MINE) -> CaseworkerPanel:
    """Requests under way (raised by the user, or for any of their organisation's cases),
    and the loans and reviews due on their organisation's cases."""
    today, mine = now.date(), scope == RequestScope.MINE
    rows = standing(user, raised_by_me=mine, limit=TOP)
    visits = open_visit_dates(row.request_id for row in rows)
    return CaseworkerPanel(
        scope=scope, counts=standing_counts(user, raised_by_me=mine),
        requests=[StandingRow(row, next_step(row, visit_on=visits.get(row.request_id)), row.waiting_days(today))
                  for row in rows],
        loans=loans_due_for(user, today), reviews=reviews_due_for(user, today), today=today)


# Finance -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthStanding:
    month: date  # its first day
    closed: bool
    ended: bool

    @property
    def to_close(self) -> bool:
        return self.ended and not self.closed


@dataclass(frozen=True)
class FinancePanel:
    budget: BudgetPosition | None
    months: list[MonthStanding]
    lines: LineCounts
    exception_days: int
    unexported: dict[ExportFormat, int]
    chart: object | None = None  # the period's burn-down with its forecast (main/_chart.html)

    @property
    def closed_count(self) -> int:
        return sum(1 for month in self.months if month.closed)

    @property
    def to_close(self) -> list[MonthStanding]:
        return [month for month in self.months if month.to_close]


def finance_panel(user, now: datetime) -> FinancePanel:
    today = now.date()
    position = budget_position(today, alerts=True, outlook=True)
    months = []
    if position is not None:
        closed = closed_months(position.period)
        months = [MonthStanding(month, month in closed, _month_end(month) < today)
                  for month in months_of(position.period)]
    exception_days = current_app.config["RECONCILIATION_EXCEPTION_DAYS"]
    return FinancePanel(budget=position, months=months,
                        lines=unreconciled_line_counts(today - timedelta(days=exception_days)),
                        exception_days=exception_days, unexported=unexported_counts(up_to=today),
                        chart=_burn_down(position, today))


def _burn_down(position: BudgetPosition | None, today: date):
    """The finance home's burn-down, as the budget page draws it (one grouped query)."""
    if position is None:
        return None
    period, outlook = position.period, position.outlook
    return burn_down(available_by_day(period, today_within(period)), starts_on=period.starts_on,
                     ends_on=period.ends_on, spend_by=outlook.spend_by,
                     allocated_pence=position.totals.allocated_pence, outlook=outlook)


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


# Admin -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdminPanel:
    users: UserCounts
    slowed_sign_ins: int
    scheduler: SchedulerHealth
    jobs_failing: list[str]  # jobs whose latest run failed
    failures_recently: int
    failures: list[JobRun]
    security_counts: dict[AuditEventKind, int]
    security_events: list[SecurityEvent]


def admin_panel(user, now: datetime) -> AdminPanel:
    failures_recently, failures = failed_runs(now - RECENT, limit=TOP)
    return AdminPanel(
        users=user_counts(), slowed_sign_ins=slowed_sign_in_count(now), scheduler=scheduler_health(now),
        jobs_failing=sorted(name for name, run in last_runs().items() if run.outcome == RunOutcome.FAILED),
        failures_recently=failures_recently, failures=failures,
        security_counts=security_event_counts(now - RECENT),
        security_events=recent_security_events(limit=SECURITY_EVENTS_SHOWN))


# Auditor -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditorPanel:
    """Aggregates and where to read more: never a case."""

    budget: BudgetPosition | None


def auditor_panel(user, now: datetime) -> AuditorPanel:
    return AuditorPanel(budget=budget_position(now.date()))


# The home page -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    role: Role
    template: str
    panel: object


# The order panels appear in for someone holding several roles: the day's work first
# (decisions and visits), then requests, money, the system, and reading.
PANELS = (
    (Role.COORDINATOR, "main/_coordinator.html"),
    (Role.FITTER, "main/_fitter.html"),
    (Role.CASEWORKER, "main/_caseworker.html"),
    (Role.FINANCE, "main/_finance.html"),
    (Role.ADMIN, "main/_admin.html"),
    (Role.AUDITOR, "main/_auditor.html"),
)


@dataclass
class Dashboard:
    panels: list[Shown] = field(default_factory=list)
    unread: int | None = None  # the unread count, when a panel has read it already


def dashboard(user, now: datetime, *, request_scope: RequestScope = RequestScope.MINE) -> Dashboard:
    """The panels of every role `user` holds, in `PANELS` order."""
    builders = {Role.COORDINATOR: coordinator_panel, Role.FITTER: fitter_panel,
                Role.CASEWORKER: partial(caseworker_panel, scope=request_scope), Role.FINANCE: finance_panel,
                Role.ADMIN: admin_panel, Role.AUDITOR: auditor_panel}
    shown = Dashboard()
    for role, template in PANELS:
        if user.has_role(role):
            panel = builders[role](user, now)
            shown.panels.append(Shown(role, template, panel))
            if isinstance(panel, CoordinatorPanel):
                shown.unread = panel.unread
    return shown
