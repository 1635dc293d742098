"""One scan, whatever the action: issue on a job, return from a case, look up, or count in
a stocktake. The item's row is locked (SELECT ... FOR UPDATE) before its state is read, so
two fitters scanning the same unit at the same moment cannot both have it.

Every refusal says why, with its own code, and changes nothing (the caller rolls back).
"""
from dataclasses import dataclass, field
from enum import StrEnum

from inventory.errors import InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.jobs.issuing import issue_on_job
from inventory.jobs.lifecycle import refuse_unless_workable
from inventory.jobs.models import Job, JobItem, ReturnCondition
from inventory.jobs.queries import get_job
from inventory.jobs.returns import take_back
from inventory.permissions import Permission, has_permission
from inventory.stock import operations as stock
from inventory.stock import stocktakes
from inventory.stock.models import Item, ItemEventKind, Stocktake


class ScanAction(StrEnum):
    ISSUE = "issue"
    RETURN = "return"
    LOOKUP = "lookup"
    STOCKTAKE = "stocktake"


@dataclass(frozen=True)
class ScanInput:
    """One scan as read at the edge: a job is needed to issue; a return says the condition
    the item came back in (and names the visit, unless stock staff take it back at the
    office); a stocktake count names the stocktake."""

    action: ScanAction
    code: str
    job_id: int | None = None
    condition: ReturnCondition | None = None
    stocktake_id: int | None = None


@dataclass
class ScanResult:
    result: str
    item: Item
    message: str
    extra: dict = field(default_factory=dict)


def _job(job_id: int, actor) -> Job:
    """The job scanned for, its row locked, if the user may work on it now."""
    job = get_job(actor, job_id, for_update=True)
    refuse_unless_workable(job, actor)
    return job


# Issue -----------------------------------------------------------------------------------

def _issue(item: Item, job: Job, *, actor) -> ScanResult:
    row, swap = issue_on_job(item, job, actor=actor)
    if swap is None:
        return ScanResult("issued", item, f"Issued: {item.item_type.name}", _handover(row))
    return ScanResult("issued", item, f"Issued: {item.item_type.name} (in place of {swap.code})",
                      {**_handover(row), "swapped_for": swap.code})


def _handover(row: JobItem) -> dict:
    return {"handover": {
        "job_item_id": row.id, "loaned": row.loaned,
        "return_due_on": row.return_due_on.isoformat() if row.return_due_on else None,
        "review_dates": [row.first_review_on.isoformat(), row.second_review_on.isoformat()],
        "checklist_required": row.item.item_type.connected_device,
    }}


# Return ----------------------------------------------------------------------------------

def _return(item: Item, job: Job | None, condition: ReturnCondition, *, actor) -> ScanResult:
    """Back from a case, on a visit to it or (stock staff, `scan` has checked) at the office."""
    message, reused = take_back(item, condition, job=job, actor=actor)
    return ScanResult("returned", item, message, {"value_reused_pence": reused})


# Look-up and stocktake ---------------------------------------------------------------------

ACTION_KINDS = (ItemEventKind.MOVED, ItemEventKind.RETURNED, ItemEventKind.WIPE_CONFIRMED,
                ItemEventKind.RELEASED_FROM_QUARANTINE, ItemEventKind.WRITTEN_OFF, ItemEventKind.FOUND)


def _lookup(item: Item, *, actor) -> ScanResult:
    """Stock staff see what they can do with the item; a fitter (only ever an item on their
    own open job: `resolve_code`) its type and state only."""
    message = f"{item.item_type.name}: {item.state_label.lower()}"
    if not has_permission(actor, Permission.MANAGE_STOCK):
        return ScanResult("found", item, message)
    actions = [str(kind) for kind in ACTION_KINDS if stock.allowed(item, kind)
               and (kind is not ItemEventKind.WIPE_CONFIRMED or item.awaiting_wipe)
               and (kind is not ItemEventKind.RELEASED_FROM_QUARANTINE or not item.awaiting_wipe)]
    return ScanResult("found", item, message, {"actions": actions})


def _stocktake(scanned: ScanInput, *, actor) -> ScanResult:
    if not has_permission(actor, Permission.MANAGE_STOCK):
        raise NotAllowed("Only stock staff count stock.")
    stocktake = db.session.get(Stocktake, scanned.stocktake_id) if scanned.stocktake_id is not None else None
    if stocktake is None:
        raise InvalidInput("Say which stocktake this count is for.", fields={"stocktake_id": "No such stocktake."})
    item, verdict, first = stocktakes.count_code(stocktake, scanned.code, actor=actor)
    message = f"Counted: {item.item_type.name}" if first else f"Already counted: {item.item_type.name}"
    return ScanResult("counted" if first else "already_counted", item, message, {"verdict": verdict})


def scan(scanned: ScanInput, *, actor) -> ScanResult:
    """Apply one scan. Raises a DomainError (nothing changed) when the scan is refused."""
    if not has_permission(actor, Permission.SCAN_ITEMS):
        raise NotAllowed("Only fitters and coordinators scan items.")
    action = scanned.action
    if action is ScanAction.STOCKTAKE:
        return _stocktake(scanned, actor=actor)
    if action is ScanAction.ISSUE and scanned.job_id is None:
        raise InvalidInput("Say which job this scan is for.", fields={"job_id": "A job id."})
    if action is ScanAction.RETURN and scanned.condition is None:
        choices = ", ".join(c.value for c in ReturnCondition)
        raise InvalidInput("Say what condition it came back in.", fields={"condition": f"One of: {choices}."})
    if action is ScanAction.RETURN and scanned.job_id is None and not has_permission(actor, Permission.MANAGE_STOCK):
        raise InvalidInput("Say which job this collection is for.", fields={"job_id": "A job id."})
    if action is ScanAction.LOOKUP:
        return _lookup(stock.resolve_code(scanned.code, viewer=actor), actor=actor)
    job = _job(scanned.job_id, actor) if scanned.job_id is not None else None
    # The item the code names, its row locked until the use case commits. On a job the user
    # works on, any unit may be scanned: the refusal says what the unit in hand is (its type
    # and state, nothing of another case), to help a fitter who took the wrong one.
    item = stock.lock_item(stock.find_by_code(scanned.code))
    if action is ScanAction.ISSUE:
        return _issue(item, job, actor=actor)
    return _return(item, job, scanned.condition, actor=actor)
