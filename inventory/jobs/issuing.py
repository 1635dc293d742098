"""Handing units over on an install: which unit may go on which visit, issuing it (moving
the reservation when the fitter took another box of the same type off the shelf), what
the handover records (loan and review dates), and a connected device's checklist.

Functions flush and never commit.
"""
from calendar import monthrange
from collections.abc import Collection
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from inventory import clock
from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.jobs.lifecycle import refuse_unless_workable
from inventory.jobs.models import CHECKLIST_KEYS, CHECKS_BEFORE_ISSUE, Job, JobItem, Outcome
from inventory.jobs.queries import get_job
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemEventKind, ItemState


class CannotIssue(Conflict):
    """Why this unit cannot be handed over on this visit; the code names the rule."""

    def __init__(self, code: str, message: str, item: Item):
        super().__init__(message, code=code, details={"item_id": item.id, "state": item.state})


# Why the item machine will not issue a unit in each state, in the fitter's words.
NOT_ISSUABLE = {
    ItemState.ISSUED: ("already_issued", "This {name} has already been handed over; it cannot be issued again."),
    ItemState.RETURNED: ("in_quarantine",
                         "This {name} is in quarantine: it must be checked (and wiped, if connected) first."),
    ItemState.QUARANTINE: ("in_quarantine",
                           "This {name} is in quarantine: it must be checked (and wiped, if connected) first."),
    ItemState.WRITTEN_OFF: ("written_off", "This {name} was written off; it must not go to anyone."),
    ItemState.ON_ORDER: ("not_received", "This {name} has not been received into stock yet."),
}


def issuable_on(item: Item, job: Job) -> None:
    """Refuse (CannotIssue, saying why) unless `item` may be handed over on `job`: the visit
    is an install, the item's state allows issuing it, it is the unit reserved for the
    job's request or a free unit of a type the request wants, and, for a connected device,
    the checks before issue are answered on the job (jobs/handover.py)."""
    name = item.item_type.name
    if job.is_collection:
        raise CannotIssue("collection_visit", "This is a collection visit: nothing is handed over on it. "
                          "Switch the scanner to taking items back.", item)
    if not stock.allowed(item, ItemEventKind.ISSUED):
        code, message = NOT_ISSUABLE.get(item.state, ("item_not_available", "This {name} cannot be handed over."))
        raise CannotIssue(code, message.format(name=name), item)
    if item.state == ItemState.RESERVED:
        if item.reserved_for_request_id != job.request_id:
            raise CannotIssue("reserved_for_another_case",
                              f"This {name} is set aside for another survivor. Put it back and take another.", item)
    elif item.item_type_id not in {line.item_type_id for line in job.request.lines}:
        needed = ", ".join(sorted(line.item_type.name for line in job.request.lines))
        raise CannotIssue("wrong_item_type", f"This is a {name}, which this job does not need. It needs: {needed}.", item)
    unanswered = job.unanswered(CHECKS_BEFORE_ISSUE) if item.item_type.connected_device else []
    if unanswered:
        points = "; ".join(check.label for check in unanswered)
        raise CannotIssue("checks_before_issue", f"Not yet: before this {name} is handed over, answer the "
                          f"checks before issue on the job page ({points}).", item)


def issue_on_job(item: Item, job: Job, *, actor) -> tuple[JobItem, Item | None]:
    """Hand `item` (its row locked) over on `job`, which the caller has locked and may work
    on. Returns the handover and, when the fitter took a free unit instead of the reserved
    one, the unit it replaced (back in stock now)."""
    issuable_on(item, job)
    request = job.request
    swap = None
    if item.state != ItemState.RESERVED:
        swap = db.session.scalar(
            select(Item).where(Item.reserved_for_request_id == request.id, Item.state == ItemState.RESERVED,
                               Item.item_type_id == item.item_type_id).order_by(Item.id).limit(1)
            .with_for_update().execution_options(populate_existing=True))
        if swap is None:
            raise CannotIssue("not_expected", f"Every {item.item_type.name} this job needs is already handed over.",
                              item)
        # The reservation moves to the unit in hand.
        stock.release_reservation(swap, actor=actor, note=f"Swapped for {item.code} on job {job.id}")
        stock.reserve_item(item, for_request_id=request.id, actor=actor)
    note = f"Handed over on job {job.id}" + (f" in place of {swap.code}" if swap else "")
    stock.issue_item(item, case_id=request.case_id, actor=actor, request_id=request.id, note=note)
    return record_issue(job, item, actor=actor), swap


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it is shorter)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def record_issue(job: Job, item: Item, *, actor) -> JobItem:
    """Write down what was handed over: loaned or gifted (from its type), when it is due
    back, and when it is reviewed."""
    today = clock.today()
    config = current_app.config
    loaned = item.item_type.loaned
    first, second = config["REVIEW_AFTER_MONTHS"]
    row = JobItem(job_id=job.id, item_id=item.id, outcome=Outcome.ISSUED, loaned=loaned,
                  return_due_on=today + timedelta(days=config["LOAN_PERIOD_DAYS"]) if loaned else None,
                  first_review_on=add_months(today, first), second_review_on=add_months(today, second),
                  recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    return row


def record_checklist(job_id: int, job_item_id: int, ticked: Collection[str], *, actor) -> JobItem:
    """Every line of a connected device's handover checklist (`ticked`: the steps done, by
    key), ticked by the fitter."""
    job = get_job(actor, job_id, for_update=True)
    refuse_unless_workable(job, actor)
    row = db.session.get(JobItem, job_item_id)
    if row is None or row.job_id != job.id or not row.needs_checklist:
        raise NotFound("No connected device with that id was handed over on this job.")
    missing = {key: "Tick this once it is done." for key in CHECKLIST_KEYS if key not in ticked}
    if missing:
        raise InvalidInput("Every step of the handover must be done before it is ticked off.", fields=missing)
    for key in CHECKLIST_KEYS:
        setattr(row, key, True)
    row.checklist_done_at = clock.now()
    db.session.flush()
    return row
