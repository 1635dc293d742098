"""Reading jobs: one job as its user may see it, what it expects and has done, the lists
(my jobs, every job, loans due back) and the choices for booking a visit; loans and reviews
due, per case, for the reminders, the case page and the home pages; open visits at a glance.

Nothing here writes. Lists cost the same number of queries however long they are.
"""
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from flask import current_app
from sqlalchemy import and_, case as sql_case, exists, false, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from inventory import clock
from inventory.accounts.models import User, UserRole
from inventory.cases.models import Case, CaseReview, CaseStatus, ReviewKind
from inventory.errors import NotFound
from inventory.extensions import db
from inventory.jobs.models import CollectionItem, Job, JobItem, JobKind, JobStatus, Outcome
from inventory.permissions import Role, can_see_job, can_see_personal_details, visible_jobs_clause
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.stock.models import Item, ItemState


def get_job(user, job_id: int, *, for_update: bool = False) -> Job:
    """The job if `user` may see it; otherwise NotFound (another fitter's job does not exist
    for them). `for_update` locks its row, so that use cases on one job take turns."""
    query = select(Job).where(Job.id == job_id).options(joinedload(Job.case), joinedload(Job.request),
                                                       joinedload(Job.fitter))
    if for_update:
        query = query.with_for_update(of=Job).execution_options(populate_existing=True)
    job = db.session.scalar(query)
    if job is None or not can_see_job(user, job):
        raise NotFound("No such job.")
    return job


def item_on_open_job_of(user, item: Item) -> bool:
    """Is `item` on one of `user`'s own open jobs: reserved for its request, handed over on
    it, or listed to be collected on it? (One query; connected to stock's `item_on_jobs_of`
    at app start, so a fitter resolves these codes and no others.)"""
    handled_on_job = (exists().where(JobItem.job_id == Job.id, JobItem.item_id == item.id)
                      | exists().where(CollectionItem.job_id == Job.id, CollectionItem.item_id == item.id))
    reserved_for_job = Job.request_id == item.reserved_for_request_id if item.reserved_for_request_id else false()
    return db.session.scalar(select(exists().where(
        Job.fitter_id == user.id, Job.status == JobStatus.SCHEDULED, reserved_for_job | handled_on_job)))


def expected_items(job: Job) -> list[Item]:
    """What the fitter should still deal with: on an install, the units still reserved for
    the job's request; on a collection, the listed units still out with the case."""
    if job.is_collection:
        return [row.item for row in collection_rows(job, pending=True)]
    return list(db.session.scalars(
        select(Item).options(joinedload(Item.item_type))
        .where(Item.reserved_for_request_id == job.request_id, Item.state == ItemState.RESERVED)
        .order_by(Item.item_type_id, Item.id)))


def job_items(job: Job) -> list[JobItem]:
    """What an install has handed over (or not) so far, item by item."""
    return list(db.session.scalars(
        select(JobItem).options(joinedload(JobItem.item).joinedload(Item.item_type))
        .where(JobItem.job_id == job.id).order_by(JobItem.id)))


def collection_rows(job: Job, *, pending: bool) -> list[CollectionItem]:
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
        return JobView(job=job, expected=expected_items(job), done=[], settled=collection_rows(job, pending=False))
    return JobView(job=job, expected=expected_items(job), done=job_items(job))


# Choices for booking ----------------------------------------------------------------------

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


def open_collection_for(case_id: int) -> int | None:
    """The id of the case's open collection visit, if one is booked."""
    return db.session.scalar(select(Job.id).where(Job.case_id == case_id, Job.kind == JobKind.COLLECTION,
                                                  Job.status == JobStatus.SCHEDULED))


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


# Loans due back ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LoanOut:
    handover: JobItem
    item: Item
    case: Case
    collection_job_id: int | None

    @property
    def overdue(self) -> bool:
        return self.handover.return_due_on < clock.today()


def _loan_out():
    """The conditions (over JobItem, its Item and its Job) that a handover is a loan still
    out with the case it went to: the unit's latest handover, and it has not come back."""
    return (JobItem.outcome == Outcome.ISSUED, JobItem.loaned.is_(True), JobItem.return_due_on.is_not(None),
            Item.state == ItemState.ISSUED, Item.issued_case_id == Job.case_id, _current_issue())


def loans_out_query(*, due_by: date | None):
    """Loaned units out with cases now (the latest handover of each), soonest due first;
    only those due by `due_by` when it is given."""
    query = (select(JobItem).join(Item, Item.id == JobItem.item_id).join(Job, Job.id == JobItem.job_id)
             .options(contains_eager(JobItem.item).joinedload(Item.item_type),
                      contains_eager(JobItem.job).joinedload(Job.case))
             .where(*_loan_out()))
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


@dataclass(frozen=True)
class CaseLoansDue:
    """One case's loans due back by a day: how many, how many overdue, how many (and how
    many of the overdue) no collection is booked for yet, the earliest and latest due dates."""

    case_id: int
    reference: str
    caseworker_id: int
    organisation_id: int
    due: int
    overdue: int
    unbooked: int
    unbooked_overdue: int
    first_due_on: date
    last_due_on: date


def loans_due_by_case(*, today: date, due_by: date) -> list[CaseLoansDue]:
    """Loaned units out and due back by `due_by`, counted per case in SQL (one query),
    the case with the earliest due date first."""
    booking = aliased(Job)
    booked = exists().where(CollectionItem.item_id == JobItem.item_id, CollectionItem.outcome.is_(None),
                            CollectionItem.job_id == booking.id, booking.status == JobStatus.SCHEDULED)
    rows = db.session.execute(
        select(Case.id, Case.reference, Case.created_by_id, Case.organisation_id, func.count(),
               func.sum(sql_case((JobItem.return_due_on < today, 1), else_=0)),
               func.sum(sql_case((booked, 0), else_=1)),
               func.sum(sql_case((and_(JobItem.return_due_on < today, ~booked), 1), else_=0)),
               func.min(JobItem.return_due_on), func.max(JobItem.return_due_on))
        .select_from(JobItem).join(Item, Item.id == JobItem.item_id).join(Job, Job.id == JobItem.job_id)
        .join(Case, Case.id == Job.case_id)
        .where(*_loan_out(), JobItem.return_due_on <= due_by)
        .group_by(Case.id, Case.reference, Case.created_by_id, Case.organisation_id)
        .order_by(func.min(JobItem.return_due_on), Case.id)).all()
    return [CaseLoansDue(*row) for row in rows]


@dataclass(frozen=True)
class CaseReviewDue:
    """An open case's earliest review date in a window, and which review it is (months
    after the handover)."""

    case_id: int
    reference: str
    caseworker_id: int
    organisation_id: int
    months: int
    review_on: date


# Each review date of a handover, and the review that, once recorded for the case, answers it.
REVIEW_COLUMNS = ((JobItem.first_review_on, ReviewKind.THREE_MONTHS), (JobItem.second_review_on, ReviewKind.SIX_MONTHS))


def reviews_due_by_case(*, since: date, until: date, months: tuple[int, int]) -> list[CaseReviewDue]:
    """Each open case's earliest review (first or second, of any handover) dated from
    `since` to `until` and not yet recorded for the case (one query per review), earliest first."""
    earliest: dict[int, CaseReviewDue] = {}
    for after, (column, kind) in zip(months, REVIEW_COLUMNS):
        recorded = exists().where(CaseReview.case_id == Case.id, CaseReview.kind == kind)
        rows = db.session.execute(
            select(Case.id, Case.reference, Case.created_by_id, Case.organisation_id, func.min(column))
            .select_from(JobItem).join(Job, Job.id == JobItem.job_id).join(Case, Case.id == Job.case_id)
            .where(JobItem.outcome == Outcome.ISSUED, Case.status == CaseStatus.OPEN, column.between(since, until),
                   ~recorded)
            .group_by(Case.id, Case.reference, Case.created_by_id, Case.organisation_id)).all()
        for case_id, reference, caseworker_id, organisation_id, review_on in rows:
            if case_id not in earliest or review_on < earliest[case_id].review_on:
                earliest[case_id] = CaseReviewDue(case_id, reference, caseworker_id, organisation_id, after,
                                                  review_on)
    return sorted(earliest.values(), key=lambda row: (row.review_on, row.case_id))


def review_dates_for_case(case: Case) -> dict[ReviewKind, date]:
    """When the case's 3- and 6-month reviews fall: its earliest handover's review dates (one
    query; connected to `cases.reviews.review_dates` at app start)."""
    first, second = db.session.execute(
        select(func.min(JobItem.first_review_on), func.min(JobItem.second_review_on))
        .select_from(JobItem).join(Job, Job.id == JobItem.job_id)
        .where(Job.case_id == case.id, JobItem.outcome == Outcome.ISSUED)).one()
    return {kind: day for kind, day in ((ReviewKind.THREE_MONTHS, first), (ReviewKind.SIX_MONTHS, second))
            if day is not None}


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
    query = (select(Job).options(joinedload(Job.case), joinedload(Job.fitter))
             .where(visible_jobs_clause(user, Job.fitter_id)))
    if mine:
        query = query.where(Job.fitter_id == user.id)
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


# Visits at a glance (the home pages) -----------------------------------------------------

@dataclass(frozen=True)
class Visit:
    """An open visit as a list shows it: when, who, which case by its reference. No address:
    that stays behind the fitter's logged reveal on the job's page."""

    job_id: int
    kind: JobKind
    scheduled_for: date
    window_starts: time
    window_ends: time
    case_reference: str
    fitter_name: str

    @property
    def is_collection(self) -> bool:
        return self.kind == JobKind.COLLECTION


def _open_visits_of(user, *, mine: bool):
    conditions = [Job.status == JobStatus.SCHEDULED, visible_jobs_clause(user, Job.fitter_id)]
    if mine:
        conditions.append(Job.fitter_id == user.id)
    return conditions


def open_visits(user, *, since: date | None = None, until: date | None = None, mine: bool = False,
                limit: int = 5) -> list[Visit]:
    """Open visits the user may see (their own only, with `mine`) dated from `since` to
    `until` (either end open), soonest first, at most `limit` (one statement)."""
    query = (select(Job.id, Job.kind, Job.scheduled_for, Job.window_starts, Job.window_ends, Case.reference,
                    User.name)
             .join(Case, Case.id == Job.case_id).join(User, User.id == Job.fitter_id)
             .where(*_open_visits_of(user, mine=mine)))
    if since is not None:
        query = query.where(Job.scheduled_for >= since)
    if until is not None:
        query = query.where(Job.scheduled_for <= until)
    rows = db.session.execute(query.order_by(Job.scheduled_for, Job.window_starts, Job.id).limit(limit))
    return [Visit(job_id, JobKind(kind), *rest) for job_id, kind, *rest in rows]


@dataclass(frozen=True)
class VisitCounts:
    overdue: int  # booked for a day gone by and still open
    today: int
    tomorrow: int
    later: int


def open_visit_counts(user, today: date, *, mine: bool = False) -> VisitCounts:
    """Open visits the user may see (their own only, with `mine`), counted by when they
    fall: before today, today, tomorrow, later (one statement)."""
    tomorrow = today + timedelta(days=1)
    day = Job.scheduled_for
    return VisitCounts(*db.session.execute(
        select(func.count().filter(day < today), func.count().filter(day == today),
               func.count().filter(day == tomorrow), func.count().filter(day > tomorrow))
        .where(*_open_visits_of(user, mine=mine))).one())


def open_visit_dates(request_ids) -> dict[int, date]:
    """The day of the open visit booked for each of these requests, where one is (one statement)."""
    ids = list(request_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(Job.request_id, Job.scheduled_for)
        .where(Job.request_id.in_(ids), Job.status == JobStatus.SCHEDULED)).all())


def loans_due_for(user, today: date) -> list[CaseLoansDue]:
    """The cases whose details `user` sees with loans overdue or due back within
    `LOANS_DUE_WITHIN_DAYS` (the reminder's window), earliest due first."""
    due_by = today + timedelta(days=current_app.config["LOANS_DUE_WITHIN_DAYS"])
    return [row for row in loans_due_by_case(today=today, due_by=due_by) if can_see_personal_details(user, row)]


def reviews_due_for(user, today: date) -> list[CaseReviewDue]:
    """The open cases whose details `user` sees with a review due (the reminder's window:
    within `REVIEWS_DUE_WITHIN_DAYS`, or overdue by at most `REVIEWS_OVERDUE_FOR_DAYS`),
    earliest first."""
    config = current_app.config
    rows = reviews_due_by_case(since=today - timedelta(days=config["REVIEWS_OVERDUE_FOR_DAYS"]),
                               until=today + timedelta(days=config["REVIEWS_DUE_WITHIN_DAYS"]),
                               months=tuple(config["REVIEW_AFTER_MONTHS"]))
    return [row for row in rows if can_see_personal_details(user, row)]
