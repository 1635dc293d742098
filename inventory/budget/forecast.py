"""The budget forecast, one rule for the finance home and the scheduled check: money spent
over the last 90 days (actuals net of credits and of their reversals, summed in SQL) is the
rate, and what is available now is projected forward at it. It runs out early if that
happens before the day the money must be spent by (the period's end, or the contract's if
sooner); it is underspent if some would still be left then.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from inventory.budget import ledger, queries
from inventory.budget.models import SPEND_KINDS, BudgetPeriod, LedgerEntry
from inventory.extensions import db
from inventory.money import format_pence
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role

RATE_DAYS = 90
BUDGET_PAGE = "/budget"


@dataclass(frozen=True)
class Forecast:
    today: date
    available_pence: int
    spent_pence: int  # actuals net of credits over the window
    window_days: int  # the last RATE_DAYS days, or fewer early in the period
    spend_by: date

    @property
    def runs_out_on(self) -> date | None:
        """When available reaches zero at the window's rate: today if it has, None if nothing
        was spent in the window (no rate to project)."""
        if self.available_pence <= 0:
            return self.today
        if self.spent_pence <= 0:
            return None
        return self.today + timedelta(days=self.available_pence * self.window_days // self.spent_pence)

    @property
    def runs_out_early(self) -> bool:
        return self.runs_out_on is not None and self.runs_out_on < self.spend_by

    @property
    def underspent(self) -> bool:
        """Some money would still be available on `spend_by` at the window's rate."""
        return self.available_pence > 0 and (self.runs_out_on is None or self.runs_out_on > self.spend_by)

    @property
    def unspent_pence(self) -> int:
        """What would be left on `spend_by` at the window's rate (0 if it runs out first)."""
        days_left = max(0, (self.spend_by - self.today).days)
        spent_by_then = max(0, self.spent_pence) * days_left // self.window_days
        return max(0, self.available_pence - spent_by_then)


def forecast(period: BudgetPeriod, today: date) -> Forecast:
    """The period's forecast as of `today` (a day inside the period)."""
    since = max(period.starts_on, today - timedelta(days=RATE_DAYS - 1))
    return Forecast(today=today, available_pence=ledger.summary(period).available_pence,
                    spent_pence=spent_between(period, since, today), window_days=(today - since).days + 1,
                    spend_by=queries.spend_by(period, ledger.contract_end_date()))


def spent_between(period: BudgetPeriod, since: date, until: date) -> int:
    """Actuals less credits dated from `since` to `until` in the period, each reversal counted
    with the entry it reverses (one query)."""
    original = aliased(LedgerEntry)
    moved = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0))
        .outerjoin(original, LedgerEntry.reverses_id == original.id)
        .where(LedgerEntry.period_id == period.id, LedgerEntry.entry_date.between(since, until),
               func.coalesce(original.kind, LedgerEntry.kind).in_(SPEND_KINDS)))
    return -int(moved)  # spending takes from available: its amounts are negative


def check_budget_forecast(now: datetime) -> JobOutcome:
    """Tell finance and coordinators when the current period's money would run out before
    it must be spent by, and, from `UNDERSPEND_WARNING_DAYS` before the contract's end, when
    some of it would not be spent by then."""
    today = now.date()
    period = ledger.current_period(today)
    if period is None:
        return JobOutcome(counts={"periods": 0})
    outlook = forecast(period, today)
    contract_end = ledger.contract_end_date()
    warn_from = contract_end and contract_end - timedelta(days=current_app.config["UNDERSPEND_WARNING_DAYS"])
    runs_out, underspent = outlook.runs_out_early, bool(contract_end and warn_from <= today <= contract_end
                                                         and outlook.underspent)
    audience, subject = (Role.FINANCE.value, Role.COORDINATOR.value), f"period:{period.id}"
    notices = []
    if runs_out:
        notices.append(Notice("budget_runs_out", subject, _runs_out_message(period, outlook), BUDGET_PAGE,
                              roles=audience))
    if underspent:
        notices.append(Notice(
            "budget_underspend", subject,
            f"At the last {RATE_DAYS} days' rate, about {format_pence(outlook.unspent_pence)} of the {period.name}"
            f" budget would be unspent on {outlook.spend_by:%d %b %Y}. The contract ends on"
            f" {contract_end:%d %b %Y}: money must be spent on eligible items before then.",
            BUDGET_PAGE, roles=audience))
    return JobOutcome(counts={"periods": 1, "runs_out": int(runs_out), "underspend": int(underspent)},
                      notices=notices)


def _runs_out_message(period: BudgetPeriod, outlook: Forecast) -> str:
    if outlook.available_pence <= 0:
        return (f"Nothing is available in the {period.name} budget ({format_pence(outlook.available_pence)}),"
                f" which must last until {outlook.spend_by:%d %b %Y}.")
    return (f"At the last {RATE_DAYS} days' rate, the {period.name} budget runs out on"
            f" {outlook.runs_out_on:%d %b %Y}, before {outlook.spend_by:%d %b %Y}.")
