"""Use cases for jobs: schedule a visit, open it, reveal the survivor's contact details,
tick a connected device's handover checklist, and complete it.

Functions flush and never commit. Every use case that changes a job locks the job's row
first, so scanning and completing the same job cannot interleave.
"""
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from inventory import clock
from inventory.accounts.models import User, UserRole
from inventory.audit.operations import record_access
from inventory.cases.models import Case
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.jobs.models import (
    CHECKLIST_KEYS,
    Job,
    JobItem,
    JobStatus,
    NotIssuedReason,
    Outcome,
)
from inventory.permissions import (
    Permission,
    Role,
    has_permission,
    has_role,
    may_reveal_contact,
    may_see_job,
    may_work_on_job,
    visible_jobs_clause,
)
from inventory.requests import operations as requests
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.requests.transitions import Action
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemState

MAX_DAYS_AHEAD = 366


class JobClosed(Conflict):
    code = "job_closed"

    def __init__(self):
        super().__init__("This job is already completed.")


# Reading ---------------------------------------------------------------------------------

def get_job(user, job_id, *, for_update: bool = False) -> Job:
    """The job if `user` may see it; otherwise NotFound (another fitter's job does not exist
    for them)."""
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        raise NotFound("No such job.")
    query = select(Job).where(Job.id == job_id).options(joinedload(Job.request), joinedload(Job.fitter))
    if for_update:
        query = query.with_for_update(of=Job).execution_options(populate_existing=True)
    job = db.session.scalar(query)
    if job is None or not may_see_job(user, job):
        raise NotFound("No such job.")
    return job


def expected_items(job: Job) -> list[Item]:
    """The units still reserved for the job's request: what the fitter should hand over."""
    return list(db.session.scalars(
        select(Item).options(joinedload(Item.item_type))
        .where(Item.reserved_for_request_id == job.request_id, Item.state == ItemState.RESERVED)
        .order_by(Item.item_type_id, Item.id)))


def job_items(job: Job) -> list[JobItem]:
    """What the job has done so far, item by item."""
    return list(db.session.scalars(
        select(JobItem).options(joinedload(JobItem.item).joinedload(Item.item_type))
        .where(JobItem.job_id == job.id).order_by(JobItem.id)))


@dataclass(frozen=True)
class JobView:
    job: Job
    expected: list[Item]
    done: list[JobItem]

    @property
    def issued(self) -> list[JobItem]:
        return [row for row in self.done if row.outcome == Outcome.ISSUED]

    @property
    def checklists_due(self) -> list[JobItem]:
        return [row for row in self.issued if row.needs_checklist and row.checklist_done_at is None]

    @property
    def items(self) -> list[Item]:
        """Every unit on the job: still expected, then handled."""
        return self.expected + [row.item for row in self.done]


def job_view(job: Job) -> JobView:
    return JobView(job=job, expected=expected_items(job), done=job_items(job))


# Scheduling ------------------------------------------------------------------------------

def _whole_number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _parse_date(value, field: str, fields: dict) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
    if day is None:
        fields[field] = "Enter a date (YYYY-MM-DD)."
    elif day < clock.today():
        fields[field] = "Cannot be in the past."
    elif day > clock.today() + timedelta(days=MAX_DAYS_AHEAD):
        fields[field] = "At most a year ahead."
    return day


def _parse_time(value, field: str, fields: dict) -> time | None:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        pass
    fields[field] = "Enter a time (HH:MM)."
    return None


def fitter_choices() -> list[User]:
    """Active fitters, for the scheduling form (one query)."""
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role == str(Role.FITTER)).order_by(User.name, User.id)))


def schedulable_requests_query():
    """Approved requests waiting for a visit, oldest decision first."""
    states = [RequestState.APPROVED, RequestState.PARTLY_APPROVED, RequestState.PARTLY_FULFILLED]
    return (select(EquipmentRequest).options(joinedload(EquipmentRequest.case))
            .where(EquipmentRequest.state.in_([str(s) for s in states]))
            .order_by(EquipmentRequest.decided_at, EquipmentRequest.id))


def schedule_job(data: dict, *, actor) -> Job:
    """A coordinator books a fitter, a date and a time window to hand over an approved
    request's reserved items."""
    if not has_permission(actor, Permission.SCHEDULE_JOBS):
        raise NotAllowed("Only coordinators schedule jobs.")
    fields: dict[str, str] = {}
    request_id = _whole_number(data.get("request_id"))
    fitter_id = _whole_number(data.get("fitter_id"))
    fitter = db.session.get(User, fitter_id) if fitter_id is not None else None
    if fitter is None or not fitter.active or not has_role(fitter, Role.FITTER):
        fields["fitter_id"] = "Choose an active fitter."
    day = _parse_date(data.get("scheduled_for"), "scheduled_for", fields)
    default_start, default_end = current_app.config["JOB_WINDOW_DEFAULT"]
    starts = _parse_time(data.get("window_starts") or default_start, "window_starts", fields)
    ends = _parse_time(data.get("window_ends") or default_end, "window_ends", fields)
    if starts and ends and starts >= ends:
        fields["window_ends"] = "Must be after the start of the window."
    if request_id is None:
        fields["request_id"] = "Choose a request."
    if fields:
        raise InvalidInput("Some of the job needs correcting.", fields=fields)
    try:
        request = requests.get_request(actor, request_id, for_update=True)
    except NotFound:
        raise InvalidInput("No such request.", fields={"request_id": "No such request."}) from None
    reserved = db.session.scalar(select(func.count()).select_from(Item).where(
        Item.reserved_for_request_id == request.id, Item.state == ItemState.RESERVED))
    requests.advance_by_job(request, Action.SCHEDULE, actor=actor, note=f"Visit on {day.isoformat()}")
    if not reserved:
        raise Conflict("Nothing is reserved for this request yet: there is nothing to hand over.",
                       code="nothing_reserved")
    job = Job(request=request, fitter_id=fitter.id, scheduled_for=day, window_starts=starts, window_ends=ends,
              status=JobStatus.SCHEDULED, created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    return job


# The survivor's details ------------------------------------------------------------------

def reveal_contact(job: Job, *, actor) -> Case:
    """The survivor's address and phone for the assigned fitter, on a deliberate tap; logged."""
    if not may_reveal_contact(actor, job):
        if job.fitter_id == actor.id and not job.is_open:
            raise JobClosed()
        raise NotAllowed("Only the fitter on this job sees the survivor's address, and only while it is open.")
    case = job.request.case
    record_access(actor, case_id=case.id, what="address and phone", reason=f"Fitting visit, job {job.id}")
    return case


# Handover --------------------------------------------------------------------------------

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


def record_checklist(job_id: int, job_item_id, ticks: dict, *, actor) -> JobItem:
    """Every line of a connected device's handover checklist, ticked by the fitter."""
    job = get_job(actor, job_id, for_update=True)
    _refuse_unless_workable(job, actor)
    row = db.session.get(JobItem, _whole_number(job_item_id) or 0)
    if row is None or row.job_id != job.id or not row.needs_checklist:
        raise NotFound("No connected device with that id was handed over on this job.")
    missing = {key: "Tick this once it is done." for key in CHECKLIST_KEYS if ticks.get(key) is not True}
    if missing:
        raise InvalidInput("Every step of the handover must be done before it is ticked off.", fields=missing)
    for key in CHECKLIST_KEYS:
        setattr(row, key, True)
    row.checklist_done_at = clock.now()
    db.session.flush()
    return row


def _refuse_unless_workable(job: Job, actor) -> None:
    if not job.is_open:
        raise JobClosed()
    if not may_work_on_job(actor, job):
        raise NotAllowed("Only the fitter on this job (or a coordinator) can do that.")


# Completion ------------------------------------------------------------------------------

def _reasons(data, expected: list[Item]) -> dict[int, NotIssuedReason]:
    """{item id: reason} for every expected unit not handed over; all problems named."""
    given = data.get("not_issued") if isinstance(data, dict) else None
    given = given if given is not None else []
    fields: dict[str, str] = {}
    reasons: dict[int, NotIssuedReason] = {}
    expected_ids = {item.id for item in expected}
    if not isinstance(given, list):
        raise InvalidInput("not_issued must be a list.", fields={"not_issued": "A list of {item_id, reason}."})
    choices = ", ".join(r.value for r in NotIssuedReason)
    named: set[int] = set()
    for n, entry in enumerate(given):
        entry = entry if isinstance(entry, dict) else {}
        item_id = _whole_number(entry.get("item_id"))
        if item_id not in expected_ids or item_id in named:
            fields[f"not_issued[{n}].item_id"] = "Not an item still expected on this job (or named twice)."
            continue
        named.add(item_id)
        try:
            reasons[item_id] = NotIssuedReason(entry.get("reason"))
        except ValueError:
            fields[f"not_issued[{n}].reason"] = f"One of: {choices}."
    for item in expected:
        if item.id not in named:
            fields[f"item_{item.id}"] = f"{item.item_type.name} {item.code} was not handed over: say why."
    if fields:
        raise InvalidInput("Every expected item must be handed over, or have a reason why not.", fields=fields,
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


def complete_job(job_id: int, data: dict, *, actor) -> Job:
    """Close the visit: every expected unit handed over or a reason why not, and every
    connected device's handover checklist done. Units not handed over go back to stock (a
    faulty one is written off); the request becomes fulfilled or partly fulfilled."""
    job = get_job(actor, job_id, for_update=True)
    _refuse_unless_workable(job, actor)
    view = job_view(job)
    if view.checklists_due:
        names = ", ".join(f"{row.item.item_type.name} {row.item.code}" for row in view.checklists_due)
        raise Conflict(f"Finish the handover checklist first: {names}.", code="checklist_incomplete",
                       details={"job_item_ids": [row.id for row in view.checklists_due]})
    reasons = _reasons(data, view.expected)
    for item in view.expected:
        reason = reasons[item.id]
        db.session.add(JobItem(job_id=job.id, item_id=item.id, outcome=Outcome.NOT_ISSUED, reason=str(reason),
                               recorded_by_id=actor.id))
        note = f"Not handed over on job {job.id}: {reason.label.lower()}"
        if reason is NotIssuedReason.FAULTY:
            stock.write_off(item, "faulty", actor, note=note)
        else:
            stock.release_reservation(item, actor=actor, note=note)
    job.status, job.completed_at, job.completed_by_id = JobStatus.COMPLETED, clock.now(), actor.id
    db.session.flush()
    whole = not reasons and _all_approved_issued(job.request)
    requests.advance_by_job(job.request, Action.FULFIL if whole else Action.FULFIL_PART, actor=actor,
                            note=f"Job {job.id} completed")
    return job


# Lists -----------------------------------------------------------------------------------

def my_jobs_query(user, *, when: str):
    """The user's jobs: 'today', 'upcoming' (open, after today) or 'done' (most recent first)."""
    query = (select(Job).options(joinedload(Job.request).joinedload(EquipmentRequest.case))
             .where(Job.fitter_id == user.id))
    today = clock.today()
    if when == "today":
        return query.where(Job.scheduled_for <= today, Job.status == JobStatus.SCHEDULED).order_by(
            Job.scheduled_for, Job.window_starts, Job.id)
    if when == "upcoming":
        return query.where(Job.scheduled_for > today, Job.status == JobStatus.SCHEDULED).order_by(
            Job.scheduled_for, Job.window_starts, Job.id)
    return query.where(Job.status == JobStatus.COMPLETED).order_by(Job.completed_at.desc(), Job.id.desc())


def jobs_query(user, *, mine: bool = False):
    """Every job the user may see (a fitter: their own), next first."""
    query = select(Job).options(joinedload(Job.request).joinedload(EquipmentRequest.case), joinedload(Job.fitter))
    query = query.where(Job.fitter_id == user.id) if mine else query.where(visible_jobs_clause(user, Job.fitter_id))
    return query.order_by(Job.status.desc(), Job.scheduled_for, Job.window_starts, Job.id)


def items_by_job(jobs: list[Job]) -> dict[int, list[Item]]:
    """Every unit on each of these jobs (expected and handled), in two queries."""
    request_ids = {job.request_id: job.id for job in jobs if job.is_open}
    found: dict[int, list[Item]] = {job.id: [] for job in jobs}
    if request_ids:
        for item in db.session.scalars(select(Item).options(joinedload(Item.item_type)).where(
                Item.reserved_for_request_id.in_(request_ids), Item.state == ItemState.RESERVED)
                .order_by(Item.id)):
            found[request_ids[item.reserved_for_request_id]].append(item)
    if jobs:
        for row in db.session.scalars(select(JobItem).options(joinedload(JobItem.item).joinedload(Item.item_type))
                                      .where(JobItem.job_id.in_([job.id for job in jobs])).order_by(JobItem.id)):
            found[row.job_id].append(row.item)
    return found

