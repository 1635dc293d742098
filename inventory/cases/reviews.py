"""Reviews of a case: what the survivor said 3 and 6 months after their equipment was fitted,
and when the case closed (the outcomes the commissioner counts).

The rules are plain functions of values (`review_problems`), so they are tested without a
database; `record_review` and `record_closing_review` apply them to a case. A review holds
answers, never free text about the survivor, and what it records is audited without them.
Functions flush but never commit.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from inventory import clock
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.cases.models import FEELS_SAFER_SCALE, Case, CaseReview, ReviewedItem, ReviewKind, SupportEnded
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.permissions import can_record_review
from inventory.stock.models import Item, ItemEvent, ItemEventKind, ItemState

review_dates = Hook("case_review_dates",
                    "When a case's 3- and 6-month reviews fall: receivers `(case)` return {ReviewKind: date} "
                    "for the reviews its handovers set (the jobs feature records them).")

# The reviews that follow the fitting, and so cannot be dated before it.
AFTER_FITTING = frozenset({ReviewKind.THREE_MONTHS, ReviewKind.SIX_MONTHS})
# More incidents than this is a typo (and would not fit the column's 32 bits on PostgreSQL).
MAX_INCIDENTS = 10_000


@dataclass(frozen=True)
class ItemAnswer:
    """Whether one item issued to the case is still in use, and working."""

    item_id: int
    in_use: bool
    working: bool


@dataclass(frozen=True)
class ReviewAnswers:
    """What the survivor said; None (or an item left out) where they did not say."""

    feels_safer: int | None = None  # on FEELS_SAFER_SCALE, 1 (much less safe) to 5 (much safer)
    still_at_address: bool | None = None
    incidents_since_fitting: int | None = None
    items: tuple[ItemAnswer, ...] = ()


@dataclass(frozen=True)
class NewReview:
    kind: ReviewKind
    reviewed_on: date
    answers: ReviewAnswers = ReviewAnswers()
    support_ended: SupportEnded | None = None  # the closing review's, and only its


@dataclass(frozen=True)
class Closing:
    """Closing a case: why support ended, and what the survivor said at the closing review."""

    support_ended: SupportEnded | None
    answers: ReviewAnswers = ReviewAnswers()


@dataclass(frozen=True)
class DueReview:
    """A review not yet recorded, and the day it falls due."""

    kind: ReviewKind
    due_on: date

    @property
    def label(self) -> str:
        return self.kind.label


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def review_problems(review: NewReview, *, today: date, first_issued_on: date | None,
                    issued_item_ids: frozenset[int]) -> dict[str, str]:
    """What is wrong with a review, by field: a date in the future, or (for the 3- and
    6-month reviews) before the case's first item was issued; an answer off its scale; why
    support ended given exactly on the closing review; items that are not out with the case."""
    problems: dict[str, str] = {}
    if review.reviewed_on > today:
        problems["reviewed_on"] = "Cannot be in the future."
    elif review.kind in AFTER_FITTING:
        if first_issued_on is None:
            problems["kind"] = (f"Nothing has been issued to this case yet: the {review.kind.label.lower()} "
                                "follows the fitting.")
        elif review.reviewed_on < first_issued_on:
            problems["reviewed_on"] = ("Cannot be before the first item was issued to the case, on "
                                       f"{_day(first_issued_on)}.")
    if review.kind is ReviewKind.CLOSING and review.support_ended is None:
        problems["support_ended"] = "Say why support ended."
    if review.kind is not ReviewKind.CLOSING and review.support_ended is not None:
        problems["support_ended"] = "Only the closing review says why support ended."
    answers = review.answers
    if answers.feels_safer is not None and answers.feels_safer not in FEELS_SAFER_SCALE:
        problems["feels_safer"] = (f"On the scale from 1 ({FEELS_SAFER_SCALE[1].lower()}) to 5 "
                                   f"({FEELS_SAFER_SCALE[5].lower()}), or not answered.")
    if answers.incidents_since_fitting is not None and answers.incidents_since_fitting < 0:
        problems["incidents_since_fitting"] = "Cannot be negative."
    elif answers.incidents_since_fitting is not None and answers.incidents_since_fitting > MAX_INCIDENTS:
        problems["incidents_since_fitting"] = f"At most {MAX_INCIDENTS:,}."
    seen: set[int] = set()
    for n, item in enumerate(answers.items):
        if item.item_id in seen:
            problems[f"items[{n}].item_id"] = "This item is answered twice."
        elif item.item_id not in issued_item_ids:
            problems[f"items[{n}].item_id"] = "Not an item issued to this case now."
        seen.add(item.item_id)
    return problems


def due_reviews(due_dates: dict[ReviewKind, date], recorded: set[ReviewKind]) -> list[DueReview]:
    """The 3- and 6-month reviews still to record, soonest first."""
    return sorted((DueReview(kind, day) for kind, day in due_dates.items() if kind not in recorded),
                  key=lambda due: (due.due_on, due.kind != ReviewKind.THREE_MONTHS))


# Reading a case's items and reviews -----------------------------------------------------

def issued_items(case: Case) -> list[Item]:
    """The items out with the case now, by id (one query)."""
    return list(db.session.scalars(
        select(Item).options(selectinload(Item.item_type))
        .where(Item.issued_case_id == case.id, Item.state == ItemState.ISSUED).order_by(Item.id)))


def first_issued_on(case: Case) -> date | None:
    """The day the first item was issued to the case, if any ever was."""
    first = db.session.scalar(select(func.min(ItemEvent.occurred_at)).where(
        ItemEvent.case_id == case.id, ItemEvent.kind == ItemEventKind.ISSUED))
    return first.date() if first is not None else None


def reviews_query(case: Case):
    """The case's recorded reviews, in the order they were held."""
    return (select(CaseReview).where(CaseReview.case_id == case.id)
            .options(selectinload(CaseReview.items), selectinload(CaseReview.recorded_by))
            .order_by(CaseReview.reviewed_on, CaseReview.id))


def recorded_kinds(case: Case) -> set[str]:
    return set(db.session.scalars(select(CaseReview.kind).where(CaseReview.case_id == case.id)))


def reviews_due(case: Case, recorded: set[ReviewKind]) -> list[DueReview]:
    """The case's 3- and 6-month reviews not yet recorded, with their dates (none once closed)."""
    if not case.is_open:
        return []
    dates: dict[ReviewKind, date] = {}
    for answer in review_dates.fire(case):
        for kind, day in answer.items():
            dates[kind] = min(day, dates.get(kind, day))
    return due_reviews(dates, recorded)


# Recording ---------------------------------------------------------------------------------

def record_review(case: Case, review: NewReview, *, actor) -> CaseReview:
    """A caseworker of the case's organisation, or a coordinator, records a 3- or 6-month
    review once per case (a closing review comes with closing the case, or afterwards for a
    case closed before reviews were recorded)."""
    if not can_record_review(actor, case):
        raise NotAllowed("Only a caseworker of the case's organisation or a coordinator records its reviews.")
    if review.kind is ReviewKind.CLOSING and case.is_open:
        raise InvalidInput("The closing review is recorded by closing the case.",
                           fields={"kind": "The closing review is recorded by closing the case."})
    return _record(case, review, actor=actor)


def record_closing_review(case: Case, closing: Closing, *, actor) -> CaseReview:
    """The review recorded as the case closes (by `cases.operations.close_case`, which has
    checked who may close it), dated the day it closes."""
    return _record(case, NewReview(ReviewKind.CLOSING, clock.today(), closing.answers, closing.support_ended),
                   actor=actor)


def _record(case: Case, review: NewReview, *, actor) -> CaseReview:
    # Lock the case, so two people recording the same review take turns (the second finds it).
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    problems = review_problems(review, today=clock.today(), first_issued_on=first_issued_on(case),
                               issued_item_ids=frozenset(item.id for item in issued_items(case)))
    if problems:
        raise InvalidInput("Some of the review needs correcting.", fields=problems)
    if db.session.scalar(select(CaseReview.id).where(CaseReview.case_id == case.id,
                                                     CaseReview.kind == review.kind)) is not None:
        raise Conflict(f"The {review.kind.label.lower()} of this case is already recorded.",
                       code="already_recorded", details={"kind": str(review.kind)})
    answers = review.answers
    recorded = CaseReview(
        case_id=case.id, kind=str(review.kind), reviewed_on=review.reviewed_on, recorded_by_id=actor.id,
        feels_safer=answers.feels_safer, still_at_address=answers.still_at_address,
        incidents_since_fitting=answers.incidents_since_fitting,
        support_ended=str(review.support_ended) if review.support_ended else None,
        items=[ReviewedItem(item_id=item.item_id, in_use=item.in_use, working=item.working)
               for item in answers.items])
    db.session.add(recorded)
    db.session.flush()
    record_event(AuditEventKind.CASE_REVIEW_RECORDED, actor=actor, case_id=case.id, case_reference=case.reference,
                 review_id=recorded.id, kind=str(review.kind))
    return recorded
