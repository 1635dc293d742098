"""One scan, whatever the action: issue on a job, return from a case, look up, or count in
a stocktake. The item's row is locked (SELECT ... FOR UPDATE) before its state is read, so
two fitters scanning the same unit at the same moment cannot both have it.

Every refusal says why, with its own code, and changes nothing (the caller rolls back).
"""
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select

from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.jobs.models import Job, ReturnCondition
from inventory.jobs.operations import get_job, record_issue
from inventory.jobs.returns import take_back
from inventory.permissions import Permission, has_permission, can_work_on_job
from inventory.stock import operations as stock
from inventory.stock import stocktakes
from inventory.stock.models import Item, ItemEventKind, ItemState, Stocktake

S = ItemState


class ScanAction(StrEnum):
    ISSUE = "issue"
    RETURN = "return"
    LOOKUP = "lookup"
    STOCKTAKE = "stocktake"


@dataclass
class ScanResult:
    result: str
    item: Item
    message: str
    extra: dict = field(default_factory=dict)


def _refuse(code: str, message: str, item: Item) -> Conflict:
    return Conflict(message, code=code, details={"item_id": item.id, "state": item.state})


def _scanned(code) -> Item:
    """The item the code names, its row locked until the use case commits."""
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput("Scan or type a code.", fields={"code": "Scan or type a code."})
    return stock.lock_item(stock.find_by_code(code))


def _job(job_id, actor, *, required: bool) -> Job | None:
    if job_id is None and not required:
        return None
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        raise InvalidInput("Say which job this scan is for.", fields={"job_id": "A job id."})
    job = get_job(actor, job_id, for_update=True)
    if not can_work_on_job(actor, job):
        if not job.is_open:
            raise Conflict("This job is already completed.", code="job_closed")
        raise NotAllowed("Only the fitter on this job (or a coordinator) can scan for it.")
    return job


# Issue -----------------------------------------------------------------------------------

def _refuse_unless_issuable(item: Item, job: Job) -> None:
    name = item.item_type.name
    if item.state == S.RESERVED and item.reserved_for_request_id != job.request_id:
        raise _refuse("reserved_for_another_case",
                      f"This {name} is set aside for another survivor. Put it back and take another.", item)
    if item.state == S.ISSUED:
        raise _refuse("already_issued", f"This {name} has already been handed over; it cannot be issued again.",
                      item)
    if item.state in (S.RETURNED, S.QUARANTINE):
        raise _refuse("in_quarantine",
                      f"This {name} is in quarantine: it must be checked (and wiped, if connected) first.", item)
    if item.state == S.WRITTEN_OFF:
        raise _refuse("written_off", f"This {name} was written off; it must not go to anyone.", item)
    if item.state == S.ON_ORDER:
        raise _refuse("not_received", f"This {name} has not been received into stock yet.", item)


def _issue(item: Item, job: Job, *, actor) -> ScanResult:
    if job.is_collection:
        raise _refuse("collection_visit", "This is a collection visit: nothing is handed over on it. "
                      "Switch the scanner to taking items back.", item)
    _refuse_unless_issuable(item, job)
    request = job.request
    if item.state == S.RESERVED:  # reserved for this very request
        stock.issue_item(item, case_id=request.case_id, actor=actor, request_id=request.id,
                         note=f"Handed over on job {job.id}")
        row = record_issue(job, item, actor=actor)
        return ScanResult("issued", item, f"Issued: {item.item_type.name}", _handover(row))
    wanted_types = {line.item_type_id for line in request.lines}
    if item.item_type_id not in wanted_types:
        raise _refuse("wrong_item_type", f"This is a {item.item_type.name}, which this job does not need.", item)
    swap = db.session.scalar(
        select(Item).where(Item.reserved_for_request_id == request.id, Item.state == S.RESERVED,
                           Item.item_type_id == item.item_type_id).order_by(Item.id).limit(1)
        .with_for_update().execution_options(populate_existing=True))
    if swap is None:
        raise _refuse("not_expected", f"Every {item.item_type.name} this job needs is already handed over.", item)
    # The fitter took a different box off the shelf: the reservation moves to the one in hand.
    stock.release_reservation(swap, actor=actor, note=f"Swapped for {item.code} on job {job.id}")
    stock.reserve_item(item, for_request_id=request.id, actor=actor)
    stock.issue_item(item, case_id=request.case_id, actor=actor, request_id=request.id,
                     note=f"Handed over on job {job.id} in place of {swap.code}")
    row = record_issue(job, item, actor=actor)
    return ScanResult("issued", item, f"Issued: {item.item_type.name} (in place of {swap.code})",
                      {**_handover(row), "swapped_for": swap.code})


def _handover(row) -> dict:
    return {"handover": {
        "job_item_id": row.id, "loaned": row.loaned,
        "return_due_on": row.return_due_on.isoformat() if row.return_due_on else None,
        "review_dates": [row.first_review_on.isoformat(), row.second_review_on.isoformat()],
        "checklist_required": row.item.item_type.connected_device,
    }}


# Return ----------------------------------------------------------------------------------

def _return(item: Item, job: Job | None, condition, *, actor) -> ScanResult:
    """Back from a case, on a visit to it or (stock staff) at the office."""
    if job is None and not has_permission(actor, Permission.MANAGE_STOCK):
        raise InvalidInput("Say which job this collection is for.", fields={"job_id": "A job id."})
    try:
        condition = ReturnCondition(condition)
    except ValueError:
        choices = ", ".join(c.value for c in ReturnCondition)
        raise InvalidInput("Say what condition it came back in.", fields={"condition": f"One of: {choices}."}) \
            from None
    message, reused = take_back(item, condition, job=job, actor=actor)
    return ScanResult("returned", item, message, {"value_reused_pence": reused})


# Look-up and stocktake ---------------------------------------------------------------------

ACTION_KINDS = (ItemEventKind.MOVED, ItemEventKind.RETURNED, ItemEventKind.WIPE_CONFIRMED,
                ItemEventKind.RELEASED_FROM_QUARANTINE, ItemEventKind.WRITTEN_OFF, ItemEventKind.FOUND)


def _lookup(item: Item, *, actor) -> ScanResult:
    """Stock staff see what they can do with the item; anyone else its type and state only."""
    message = f"{item.item_type.name}: {item.state_label.lower()}"
    if not has_permission(actor, Permission.MANAGE_STOCK):
        return ScanResult("found", item, message)
    actions = [str(kind) for kind in ACTION_KINDS if stock.allowed(item, kind)
               and (kind is not ItemEventKind.WIPE_CONFIRMED or item.awaiting_wipe)
               and (kind is not ItemEventKind.RELEASED_FROM_QUARANTINE or not item.awaiting_wipe)]
    return ScanResult("found", item, message, {"actions": actions})


def _stocktake(item_code: str, stocktake_id, *, actor) -> ScanResult:
    if not has_permission(actor, Permission.MANAGE_STOCK):
        raise NotAllowed("Only stock staff count stock.")
    if not isinstance(item_code, str) or not item_code.strip():
        raise InvalidInput("Scan or type a code.", fields={"code": "Scan or type a code."})
    stocktake = db.session.get(Stocktake, stocktake_id) if isinstance(stocktake_id, int) else None
    if stocktake is None:
        raise InvalidInput("Say which stocktake this count is for.", fields={"stocktake_id": "No such stocktake."})
    item, verdict, first = stocktakes.count_code(stocktake, item_code, actor=actor)
    message = f"Counted: {item.item_type.name}" if first else f"Already counted: {item.item_type.name}"
    return ScanResult("counted" if first else "already_counted", item, message, {"verdict": verdict})


def scan(data: dict, *, actor) -> ScanResult:
    """Apply one scan. Raises a DomainError (nothing changed) when the scan is refused."""
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object.", fields={"body": "A JSON object."})
    if not has_permission(actor, Permission.SCAN_ITEMS):
        raise NotAllowed("Only fitters and coordinators scan items.")
    try:
        action = ScanAction(data.get("action"))
    except ValueError:
        raise InvalidInput("Say what the scan is for.",
                           fields={"action": "One of: issue, return, lookup, stocktake."}) from None
    if action is ScanAction.STOCKTAKE:
        return _stocktake(data.get("code"), data.get("stocktake_id"), actor=actor)
    job = _job(data.get("job_id"), actor, required=action is ScanAction.ISSUE) \
        if action is not ScanAction.LOOKUP else None
    item = _scanned(data.get("code"))
    if action is ScanAction.ISSUE:
        return _issue(item, job, actor=actor)
    if action is ScanAction.RETURN:
        return _return(item, job, data.get("condition"), actor=actor)
    return _lookup(item, actor=actor)
