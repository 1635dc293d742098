"""Use cases for jobs: book a visit (an install for an approved request, or a collection of
items out with a case), open it, reveal the survivor's contact details, tick a connected
device's handover checklist, and complete it.

Functions flush and never commit. Every use case that changes a job locks the job's row
first, so scanning and completing the same job cannot interleave.
"""
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from inventory import clock
from inventory.accounts.models import User, UserRole
from inventory.audit.operations import record_access
from inventory.cases.models import Case
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.jobs.models import (
    CHECKLIST_KEYS,
    CollectionItem,
    Job,
    JobItem,
    JobKind,
    JobStatus,
    NotCollectedReason,
    NotIssuedReason,
    Outcome,
    ReturnCondition,
)
from inventory.jobs.returns import take_back
from inventory.permissions import (
    Permission,
    Role,
    has_permission,
    has_role,
    can_reveal_contact,
    can_see_job,
    can_work_on_job,
    visible_jobs_clause,
)
from inventory.requests import holdings
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
    query = select(Job).where(Job.id == job_id).options(joinedload(Job.case), joinedload(Job.request),
                                                       joinedload(Job.fitter))
    if for_update:
        query = query.with_for_update(of=Job).execution_options(populate_existing=True)
    job = db.session.scalar(query)
    if job is None or not can_see_job(user, job):
        raise NotFound("No such job.")
    return job


def expected_items(job: Job) -> list[Item]:
    """What the fitter should still deal with: on an install, the units still reserved for
    the job's request; on a collection, the listed units still out with the case."""
    if job.is_collection:
        return [row.item for row in _collection_rows(job, pending=True)]
    return list(db.session.scalars(
        select(Item).options(joinedload(Item.item_type))
        .where(Item.reserved_for_request_id == job.request_id, Item.state == ItemState.RESERVED)
        .order_by(Item.item_type_id, Item.id)))


def job_items(job: Job) -> list[JobItem]:
    """What an install has handed over (or not) so far, item by item."""
    return list(db.session.scalars(
        select(JobItem).options(joinedload(JobItem.item).joinedload(Item.item_type))
        .where(JobItem.job_id == job.id).order_by(JobItem.id)))


def _collection_rows(job: Job, *, pending: bool) -> list[CollectionItem]:
    """A collection's listed items: those still out with the case and not yet settled
    (pending), or those settled (collected, or not and why)."""
    query = (select(CollectionItem).join(Item, Item.id == CollectionItem.item_id)
             .options(contains_eager(CollectionItem.item).joinedload(Item.item_type))
             .where(CollectionItem.job_id == job.id).order_by(CollectionItem.id))
    if pending:
        query = query.where(CollectionItem.outcome.is_(None), Item.state == ItemState.ISSUED,
                            Item.issued_case_id == job.case_id)
    else:
        query = query.where(CollectionItem.outcome.is_not(None))
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class JobView:
    job: Job
    expected: list[Item]
    done: list[JobItem]
    settled: list[CollectionItem] = field(default_factory=list)

    @property
    def issued(self) -> list[JobItem]:
        return [row for row in self.done if row.outcome == Outcome.ISSUED]

    @property
    def checklists_due(self) -> list[JobItem]:
        return [row for row in self.issued if row.needs_checklist and row.checklist_done_at is None]

    @property
    def items(self) -> list[Item]:
        """Every unit on the job: still expected, then handled."""
        return self.expected + [row.item for row in self.done] + [row.item for row in self.settled]


def job_view(job: Job) -> JobView:
    if job.is_collection:
        return JobView(job=job, expected=expected_items(job), done=[], settled=_collection_rows(job, pending=False))
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


def _visit(data: dict, fields: dict) -> tuple[User | None, date | None, time | None, time | None]:
    """Who goes and when, from a booking (install or collection); problems into `fields`."""
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
    return fitter, day, starts, ends


def _refuse_unless_scheduler(actor) -> None:
    if not has_permission(actor, Permission.SCHEDULE_JOBS):
        raise NotAllowed("Only coordinators schedule jobs.")


def schedule_job(data: dict, *, actor) -> Job:
    """A coordinator books a fitter, a date and a time window to hand over an approved
    request's reserved items."""
    _refuse_unless_scheduler(actor)
    fields: dict[str, str] = {}
    request_id = _whole_number(data.get("request_id"))
    fitter, day, starts, ends = _visit(data, fields)
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
    job = Job(kind=JobKind.INSTALL, request=request, case_id=request.case_id, fitter_id=fitter.id,
              scheduled_for=day, window_starts=starts, window_ends=ends, status=JobStatus.SCHEDULED,
              created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    return job


class CollectionAlreadyBooked(Conflict):
    code = "collection_already_booked"

    def __init__(self, job_id: int):
        super().__init__(f"A collection from this case is already booked (job {job_id}): add to that visit "
                         "on the day by scanning, or complete it first.", details={"job_id": job_id})


def _item_ids(value, fields: dict) -> list[int]:
    if not isinstance(value, list) or not value:
        fields["item_ids"] = "Choose at least one item to collect."
        return []
    ids = [_whole_number(entry) for entry in value]
    if any(item_id is None for item_id in ids):
        fields["item_ids"] = "Item ids are whole numbers."
        return []
    return list(dict.fromkeys(ids))


def open_collection_for(case_id: int) -> int | None:
    """The id of the case's open collection visit, if one is booked."""
    return db.session.scalar(select(Job.id).where(Job.case_id == case_id, Job.kind == JobKind.COLLECTION,
                                                  Job.status == JobStatus.SCHEDULED))


def schedule_collection(data: dict, *, actor) -> Job:
    """A coordinator books a fitter to take chosen items back from a case (a loan due back,
    a faulty unit): each must be out with that case now."""
    _refuse_unless_scheduler(actor)
    fields: dict[str, str] = {}
    case_id = _whole_number(data.get("case_id"))
    item_ids = _item_ids(data.get("item_ids"), fields)
    fitter, day, starts, ends = _visit(data, fields)
    if case_id is None:
        fields["case_id"] = "Choose a case."
    if fields:
        raise InvalidInput("Some of the collection needs correcting.", fields=fields)
    # The case's row is locked so that two coordinators booking at once take turns.
    case = db.session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise InvalidInput("No such case.", fields={"case_id": "No such case."})
    booked = open_collection_for(case.id)
    if booked is not None:
        raise CollectionAlreadyBooked(booked)
    out = set(db.session.scalars(select(Item.id).where(Item.id.in_(item_ids), Item.state == ItemState.ISSUED,
                                                       Item.issued_case_id == case.id)))
    strays = [item_id for item_id in item_ids if item_id not in out]
    if strays:
        raise InvalidInput("Only items out with this case can be collected from it.",
                           fields={"item_ids": f"Not out with {case.reference}: item "
                                               + ", ".join(str(i) for i in strays) + "."})
    job = Job(kind=JobKind.COLLECTION, case_id=case.id, fitter_id=fitter.id, scheduled_for=day,
              window_starts=starts, window_ends=ends, status=JobStatus.SCHEDULED, created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    db.session.add_all(CollectionItem(job_id=job.id, item_id=item_id) for item_id in item_ids)
    db.session.flush()
    return job


def book_visit(data: dict, *, actor) -> Job:
    """An install (the default) or a collection, as `data["kind"]` says."""
    kind = data.get("kind", str(JobKind.INSTALL)) if isinstance(data, dict) else None
    if kind == JobKind.COLLECTION:
        return schedule_collection(data, actor=actor)
    if kind == JobKind.INSTALL:
        return schedule_job(data, actor=actor)
    raise InvalidInput("Say what kind of visit this is.", fields={"kind": "One of: install, collection."})


def items_out_with(case_id: int) -> list[tuple[Item, JobItem | None]]:
    """Every unit out with the case now, with the handover that sent it (its loan's due
    date), loans due soonest first; for choosing what to collect."""
    rows = db.session.execute(
        select(Item, JobItem).options(joinedload(Item.item_type))
        .outerjoin(JobItem, and_(JobItem.item_id == Item.id, JobItem.outcome == Outcome.ISSUED, _current_issue()))
        .where(Item.state == ItemState.ISSUED, Item.issued_case_id == case_id)).all()
    return sorted(((item, row) for item, row in rows),
                  key=lambda pair: (pair[1] is None or pair[1].return_due_on is None,
                                    pair[1].return_due_on if pair[1] and pair[1].return_due_on else date.max,
                                    pair[0].id))


def _current_issue():
    """The condition that a JobItem is its item's latest handover (none issued it since)."""
    later = aliased(JobItem)
    return ~exists().where(later.item_id == JobItem.item_id, later.outcome == Outcome.ISSUED, later.id > JobItem.id)


@dataclass(frozen=True)
class LoanOut:
    handover: JobItem
    item: Item
    case: Case
    collection_job_id: int | None

    @property
    def overdue(self) -> bool:
        return self.handover.return_due_on < clock.today()


def loans_out_query(*, due_by: date | None):
    """Loaned units out with cases now (the latest handover of each), soonest due first;
    only those due by `due_by` when it is given."""
    query = (select(JobItem).join(Item, Item.id == JobItem.item_id).join(Job, Job.id == JobItem.job_id)
             .options(contains_eager(JobItem.item).joinedload(Item.item_type),
                      contains_eager(JobItem.job).joinedload(Job.case))
             .where(JobItem.outcome == Outcome.ISSUED, JobItem.loaned.is_(True), JobItem.return_due_on.is_not(None),
                    Item.state == ItemState.ISSUED, Item.issued_case_id == Job.case_id, _current_issue()))
    if due_by is not None:
        query = query.where(JobItem.return_due_on <= due_by)
    return query.order_by(JobItem.return_due_on, JobItem.id)


def loans_out(handovers: list[JobItem]) -> list[LoanOut]:
    """The page's loans, each with the open collection that will take it back (one query)."""
    item_ids = [row.item_id for row in handovers]
    booked = dict(db.session.execute(
        select(CollectionItem.item_id, CollectionItem.job_id).join(Job, Job.id == CollectionItem.job_id)
        .where(CollectionItem.item_id.in_(item_ids), CollectionItem.outcome.is_(None),
               Job.status == JobStatus.SCHEDULED)).all()) if item_ids else {}
    return [LoanOut(row, row.item, row.job.case, booked.get(row.item_id)) for row in handovers]


# The survivor's details ------------------------------------------------------------------

def reveal_contact(job: Job, *, actor) -> Case:
    """The survivor's address and phone for the assigned fitter, on a deliberate tap; logged."""
    if not can_reveal_contact(actor, job):
        if job.fitter_id == actor.id and not job.is_open:
            raise JobClosed()
        raise NotAllowed("Only the fitter on this job sees the survivor's address, and only while it is open.")
    case = job.case
    visit = "Collection visit" if job.is_collection else "Fitting visit"
    record_access(actor, case_id=case.id, what="address and phone", reason=f"{visit}, job {job.id}")
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
    if not can_work_on_job(actor, job):
        raise NotAllowed("Only the fitter on this job (or a coordinator) can do that.")


# Completion ------------------------------------------------------------------------------

def _reasons(data, expected: list[Item], *, key: str, kinds, verb: str) -> dict:
    """{item id: reason} for every expected unit not dealt with (`key` is the body's list of
    {item_id, reason}, `kinds` the reasons allowed); all problems named."""
    given = data.get(key) if isinstance(data, dict) else None
    given = given if given is not None else []
    fields: dict[str, str] = {}
    reasons = {}
    expected_ids = {item.id for item in expected}
    if not isinstance(given, list):
        raise InvalidInput(f"{key} must be a list.", fields={key: "A list of {item_id, reason}."})
    choices = ", ".join(r.value for r in kinds)
    named: set[int] = set()
    for n, entry in enumerate(given):
        entry = entry if isinstance(entry, dict) else {}
        item_id = _whole_number(entry.get("item_id"))
        if item_id not in expected_ids or item_id in named:
            fields[f"{key}[{n}].item_id"] = "Not an item still expected on this job (or named twice)."
            continue
        named.add(item_id)
        try:
            reasons[item_id] = kinds(entry.get("reason"))
        except ValueError:
            fields[f"{key}[{n}].reason"] = f"One of: {choices}."
    for item in expected:
        if item.id not in named:
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


def complete_job(job_id: int, data: dict, *, actor) -> Job:
    """Close the visit. An install: every expected unit handed over or a reason why not, and
    every connected device's handover checklist done; units not handed over go back to stock
    (a faulty one is written off) and the request becomes fulfilled or partly fulfilled. A
    collection: every listed unit still out taken back or a reason why not (one not
    recovered is written off)."""
    job = get_job(actor, job_id, for_update=True)
    _refuse_unless_workable(job, actor)
    view = job_view(job)
    if job.is_collection:
        _close_collection(job, view, data, actor=actor)
    else:
        _close_install(job, view, data, actor=actor)
    return job


# Why a unit was not handed over says whether the survivor still wants one like it.
NO_LONGER_WANTED = (NotIssuedReason.DECLINED, NotIssuedReason.WRONG_ITEM)


def _close_install(job: Job, view: JobView, data, *, actor) -> None:
    if view.checklists_due:
        names = ", ".join(f"{row.item.item_type.name} {row.item.code}" for row in view.checklists_due)
        raise Conflict(f"Finish the handover checklist first: {names}.", code="checklist_incomplete",
                       details={"job_item_ids": [row.id for row in view.checklists_due]})
    reasons = _reasons(data, view.expected, key="not_issued", kinds=NotIssuedReason, verb="handed over")
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
    _mark_completed(job, actor)
    whole = not reasons and _all_approved_issued(job.request)
    requests.advance_by_job(job.request, Action.FULFIL if whole else Action.FULFIL_PART, actor=actor,
                            note=f"Job {job.id} completed")


def _close_collection(job: Job, view: JobView, data, *, actor) -> None:
    reasons = _reasons(data, view.expected, key="not_collected", kinds=NotCollectedReason, verb="collected")
    pending = {row.item_id: row for row in _collection_rows(job, pending=True)}
    for item in view.expected:
        reason = reasons[item.id]
        if reason is NotCollectedReason.LOST:
            take_back(stock.lock_item(item), ReturnCondition.LOST, job=job, actor=actor)
            continue
        row = pending[item.id]
        row.outcome, row.reason = "not_collected", str(reason)
        row.recorded_at, row.recorded_by_id = clock.now(), actor.id
    _mark_completed(job, actor)


def _mark_completed(job: Job, actor) -> None:
    job.status, job.completed_at, job.completed_by_id = JobStatus.COMPLETED, clock.now(), actor.id
    db.session.flush()


# Lists -----------------------------------------------------------------------------------

def my_jobs_query(user, *, when: str):
    """The user's jobs: 'today', 'upcoming' (open, after today) or 'done' (most recent first)."""
    query = select(Job).options(joinedload(Job.case)).where(Job.fitter_id == user.id)
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
    query = select(Job).options(joinedload(Job.case), joinedload(Job.fitter))
    query = query.where(Job.fitter_id == user.id) if mine else query.where(visible_jobs_clause(user, Job.fitter_id))
    return query.order_by(Job.status.desc(), Job.scheduled_for, Job.window_starts, Job.id)


def items_by_job(jobs: list[Job]) -> dict[int, list[Item]]:
    """Every unit on each of these jobs (expected and handled), in three queries."""
    request_ids = {job.request_id: job.id for job in jobs if job.is_open and not job.is_collection}
    found: dict[int, list[Item]] = {job.id: [] for job in jobs}
    if request_ids:
        for item in db.session.scalars(select(Item).options(joinedload(Item.item_type)).where(
                Item.reserved_for_request_id.in_(request_ids), Item.state == ItemState.RESERVED)
                .order_by(Item.id)):
            found[request_ids[item.reserved_for_request_id]].append(item)
    installs = [job.id for job in jobs if not job.is_collection]
    if installs:
        for row in db.session.scalars(select(JobItem).options(joinedload(JobItem.item).joinedload(Item.item_type))
                                      .where(JobItem.job_id.in_(installs)).order_by(JobItem.id)):
            found[row.job_id].append(row.item)
    collections = [job.id for job in jobs if job.is_collection]
    if collections:
        for row in db.session.scalars(
                select(CollectionItem).options(joinedload(CollectionItem.item).joinedload(Item.item_type))
                .where(CollectionItem.job_id.in_(collections)).order_by(CollectionItem.id)):
            found[row.job_id].append(row.item)
    return found
