"""Closing a visit: every unit it expected is accounted for (dealt with, or a reason why
not) and what was not dealt with goes where its reason says.

Functions flush and never commit. The job's row is locked first, so scanning and
completing the same job cannot interleave.
"""
from dataclasses import dataclass

from sqlalchemy import func, select

from inventory import clock
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.jobs.handover import checks_due_to_complete
from inventory.jobs.lifecycle import JOB_MACHINE, JobAction, refuse_unless_workable
from inventory.jobs.models import (
    Job,
    JobItem,
    NotCollectedReason,
    NotIssuedReason,
    Outcome,
    ReturnCondition,
)
from inventory.jobs.queries import JobView, collection_rows, get_job, job_view
from inventory.jobs.returns import take_back
from inventory.requests import holdings
from inventory.requests import operations as requests
from inventory.requests.models import EquipmentRequest
from inventory.requests.transitions import Action
from inventory.stock import operations as stock
from inventory.stock.models import Item


@dataclass(frozen=True)
class NotDone:
    """An expected unit the visit did not deal with, and why."""

    item_id: int
    reason: NotIssuedReason | NotCollectedReason


@dataclass(frozen=True)
class Completion:
    """How a visit ended: on an install, each unit not handed over (`not_issued`); on a
    collection, each unit not taken back (`not_collected`). The other list is ignored."""

    not_issued: tuple[NotDone, ...] = ()
    not_collected: tuple[NotDone, ...] = ()


def complete_job(job_id: int, completion: Completion, *, actor) -> Job:
    """Close the visit. An install: every expected unit handed over or a reason why not,
    every connected device's handover checklist done and, if one was handed over, every
    point of the widened handover answered (jobs/handover.py); units not handed over go
    back to stock (a faulty one is written off) and the request becomes fulfilled or partly
    fulfilled. A collection: every listed unit still out taken back or a reason why not (one
    not recovered is written off)."""
    job = get_job(actor, job_id, for_update=True)
    refuse_unless_workable(job, actor)
    view = job_view(job)
    if job.is_collection:
        _close_collection(job, view, completion.not_collected, actor=actor)
    else:
        _close_install(job, view, completion.not_issued, actor=actor)
    return job


def _reasons(not_done: tuple[NotDone, ...], expected: list[Item], *, key: str, verb: str) -> dict:
    """{item id: reason} for every expected unit not dealt with (`key` names the list they
    were given in); all problems named."""
    fields: dict[str, str] = {}
    reasons = {}
    expected_ids = {item.id for item in expected}
    for n, entry in enumerate(not_done):
        if entry.item_id not in expected_ids or entry.item_id in reasons:
            fields[f"{key}[{n}].item_id"] = "Not an item still expected on this job (or named twice)."
            continue
        reasons[entry.item_id] = entry.reason
    for item in expected:
        if item.id not in reasons:
            fields[f"item_{item.id}"] = f"{item.item_type.name} {item.code} was not {verb}: say why."
    if fields:
        raise InvalidInput(f"Every expected item must be {verb}, or have a reason why not.", fields=fields,
                           code="reasons_missing")
    return reasons


def _all_approved_issued(request: EquipmentRequest) -> bool:
    """Has every unit approved on the request now been handed over (on any visit)?"""
    issued = dict(db.session.execute(
        select(Item.item_type_id, func.count()).select_from(JobItem).join(Job, Job.id == JobItem.job_id)
        .join(Item, Item.id == JobItem.item_id)
        .where(Job.request_id == request.id, JobItem.outcome == Outcome.ISSUED)
        .group_by(Item.item_type_id)).all())
    return all(issued.get(line.item_type_id, 0) >= (line.approved_quantity or 0) for line in request.lines)


# Why a unit was not handed over says whether the survivor still wants one like it.
NO_LONGER_WANTED = (NotIssuedReason.DECLINED, NotIssuedReason.WRONG_ITEM)


def _close_install(job: Job, view: JobView, not_issued: tuple[NotDone, ...], *, actor) -> None:
    if view.checklists_due:
        names = ", ".join(f"{row.item.item_type.name} {row.item.code}" for row in view.checklists_due)
        raise Conflict(f"Finish the handover checklist first: {names}.", code="checklist_incomplete",
                       details={"job_item_ids": [row.id for row in view.checklists_due]})
    unanswered = checks_due_to_complete(view)
    if unanswered:
        raise Conflict("Answer every point of the handover first, Done or Not applicable: "
                       + "; ".join(check.label for check in unanswered) + ".", code="handover_checks_incomplete",
                       details={"missing": [check.key for check in unanswered]})
    reasons = _reasons(not_issued, view.expected, key="not_issued", verb="handed over")
    for item in view.expected:
        reason = reasons[item.id]
        db.session.add(JobItem(job_id=job.id, item_id=item.id, outcome=Outcome.NOT_ISSUED, reason=str(reason),
                               recorded_by_id=actor.id))
        note = f"Not handed over on job {job.id}: {reason.label.lower()}"
        if reason is NotIssuedReason.FAULTY:
            stock.write_off(item, "faulty", actor, note=note)
        else:
            stock.release_reservation(item, actor=actor, note=note)
    holdings.after_visit(job.request, [(item.item_type_id, reasons[item.id] not in NO_LONGER_WANTED)
                                       for item in view.expected], actor=actor)
    JOB_MACHINE.apply(job, JobAction.COMPLETE, actor=actor)
    whole = not reasons and _all_approved_issued(job.request)
    requests.advance_by_job(job.request, Action.FULFIL if whole else Action.FULFIL_PART, actor=actor,
                            note=f"Job {job.id} completed")


def _close_collection(job: Job, view: JobView, not_collected: tuple[NotDone, ...], *, actor) -> None:
    reasons = _reasons(not_collected, view.expected, key="not_collected", verb="collected")
    pending = {row.item_id: row for row in collection_rows(job, pending=True)}
    for item in view.expected:
        reason = reasons[item.id]
        if reason is NotCollectedReason.LOST:
            take_back(stock.lock_item(item), ReturnCondition.LOST, job=job, actor=actor)
            continue
        row = pending[item.id]
        row.outcome, row.reason = "not_collected", str(reason)
        row.recorded_at, row.recorded_by_id = clock.now(), actor.id
    JOB_MACHINE.apply(job, JobAction.COMPLETE, actor=actor)
