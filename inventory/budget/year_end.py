"""Year end: money still committed when a budget period ends moves into the next one.

An order raised in February and invoiced in April, or a request still awaiting stock, holds
money committed in the old period. Once that period's last month is closed nothing may be
dated in it, so the commitment could never be released or settled. Carrying it forward
releases what is still open in the old period (dated its last day) and commits the same in
the period of today, under the same source, category and case reference, all in one
transaction: refused whole if the new period cannot hold it. So the old period is closed
with nothing left open in it, and the invoice that comes later settles this year's
commitment. Functions flush and never commit.
"""
from dataclasses import dataclass

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import BudgetPeriod
from inventory.budget.queries import open_commitments
from inventory.errors import Conflict
from inventory.money import format_pence


@dataclass(frozen=True)
class CarriedForward:
    commitments: int
    pence: int
    into: BudgetPeriod


def carry_forward(period: BudgetPeriod, *, actor) -> CarriedForward:
    """Move every commitment still open in an ended period into the period of today."""
    today = clock.today()
    if today <= period.ends_on:
        raise Conflict(f"{period.name} has not ended: its commitments stay in it until it does.",
                       code="period_not_ended")
    into = ledger.current_period()
    if into is None or into.starts_on <= period.ends_on:
        raise Conflict(f"No budget period covers today: create the one after {period.name} first.",
                       code="no_budget_period")
    still_open = open_commitments(period)
    total = sum(pence for _, pence in still_open)
    if not still_open:
        raise Conflict(f"Nothing is still committed in {period.name}.", code="nothing_open")
    available = ledger.summary(into).available_pence  # each commitment below is checked again, locked
    if total > available:
        raise ledger.BudgetExceeded(available_pence=available, needed_pence=total)
    for commitment, pence in still_open:
        ledger.release(commitment, pence, on=period.ends_on, actor=actor,
                       memo=f"Carried forward into {into.name}")
        ledger.commit(pence, on=today, actor=actor, memo=f"Brought forward from {period.name}: {commitment.memo}"
                      [:ledger.MEMO_MAX], source_type=commitment.source_type, source_id=commitment.source_id,
                      category=commitment.category, case_reference=commitment.case_reference)
    return CarriedForward(commitments=len(still_open), pence=total, into=into)


def refuse_to_close_with_open_commitments(period: BudgetPeriod) -> None:
    """Closing a period's last month with money still committed in it would hold that money
    for ever: carry it forward (or release it) first."""
    still_open = open_commitments(period)
    if still_open:
        total = sum(pence for _, pence in still_open)
        raise Conflict(
            f"{format_pence(total)} is still committed in {period.name} ({len(still_open)} commitment"
            f"{'s' if len(still_open) != 1 else ''} of orders and requests not yet settled). Carry it forward into "
            f"the next period first, then close {period.ends_on:%B %Y}.",
            code="open_commitments", details={"period_id": period.id, "committed_pence": total})
