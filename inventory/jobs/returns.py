"""Items coming back from a case: scanned in on a visit or at the office, or recorded as not
recovered when a collection visit closes.

Good units go straight back into stock (their value re-used, for reporting); connected
devices and anything doubtful go to quarantine; lost units are written off. Whatever the
route, an item that a collection visit for its case was waiting for is marked as settled
there, so no visit goes on expecting it.
"""
from sqlalchemy import select

from inventory import clock
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.jobs.models import (
    CollectionItem,
    CollectionOutcome,
    ItemReturn,
    Job,
    JobKind,
    JobStatus,
    NotCollectedReason,
    ReturnCondition,
)
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemState


def take_back(item: Item, condition: ReturnCondition, *, job: Job | None, actor) -> tuple[str, int]:
    """Record the item back from the case it is out with (or written off as not recovered).
    Returns a message for the person holding it and the value put back into stock (pence).
    The caller has locked the item's row."""
    name = item.item_type.name
    if item.state != ItemState.ISSUED:
        raise Conflict(f"This {name} is not out with anyone ({item.state_label.lower()}).", code="not_issued",
                       details={"item_id": item.id, "state": item.state})
    if job is not None and item.issued_case_id != job.case_id:
        raise Conflict(f"This {name} was not handed over to this job's survivor.", code="not_from_this_case",
                       details={"item_id": item.id, "state": item.state})
    case_id = item.issued_case_id
    reused = 0
    if condition is ReturnCondition.LOST:
        stock.write_off(item, "not_recovered", actor, note="Not recovered from the survivor")
        message = f"Written off as not recovered: {name}"
    else:
        stock_condition = "good" if condition in (ReturnCondition.GOOD, ReturnCondition.NEEDS_WIPE) else condition
        stock.return_item(item, condition=stock_condition, actor=actor, note=condition.label)
        if condition is ReturnCondition.GOOD and not item.awaiting_wipe:
            stock.release_from_quarantine(item, actor=actor, note="Returned in good condition")
            reused = item.purchase_cost_pence or 0
            message = f"Back in stock: {name}"
        elif item.awaiting_wipe:
            message = f"Returned to quarantine until it is wiped: {name}"
        else:
            message = f"Returned to quarantine to be checked: {name}"
    db.session.add(ItemReturn(item_id=item.id, case_id=case_id, job_id=job.id if job else None,
                              condition=str(condition), value_reused_pence=reused, actor_id=actor.id))
    _settle_collections(item, case_id, condition, job=job, actor=actor)
    db.session.flush()
    return message, reused


def _settle_collections(item: Item, case_id: int, condition: ReturnCondition, *, job: Job | None, actor) -> None:
    """Mark the item settled on every open collection visit for its case that expects it
    (whichever way it came back), and on this visit if it is a collection that did not."""
    lost = condition is ReturnCondition.LOST
    outcome = CollectionOutcome.NOT_COLLECTED if lost else CollectionOutcome.COLLECTED
    reason = str(NotCollectedReason.LOST) if lost else None
    open_rows = db.session.scalars(
        select(CollectionItem).join(Job, Job.id == CollectionItem.job_id)
        .where(CollectionItem.item_id == item.id, Job.case_id == case_id, Job.status == JobStatus.SCHEDULED,
               Job.kind == JobKind.COLLECTION)).all()
    mine = [row for row in open_rows if job is not None and row.job_id == job.id]
    for row in open_rows:
        if row.outcome is None or row in mine:
            row.outcome, row.reason, row.recorded_at, row.recorded_by_id = str(outcome), reason, clock.now(), actor.id
    if job is not None and job.is_collection and not mine:
        # Handed back on the visit though it was not on the list (the survivor had more to return).
        db.session.add(CollectionItem(job_id=job.id, item_id=item.id, outcome=str(outcome), reason=reason,
                                      recorded_at=clock.now(), recorded_by_id=actor.id))
