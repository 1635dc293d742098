"""Scheduled reminders about what went out to cases: loans due back, and the 3- and 6-month
reviews. Each is a job, a plain function of "now" returning what is true then (see
`inventory.notices`); running one twice gives the same answer.

Messages name a case only by its reference (non-identifying), never a survivor's name,
address or phone: a notice may be emailed.
"""
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.jobs.queries import loans_due_by_case, reviews_due_by_case
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role

LOANS_LIST = "/jobs/loans"


def case_page(case_id: int) -> str:
    return f"/cases/{case_id}"


def remind_loans_due(now: datetime) -> JobOutcome:
    """Loaned units overdue or due back within `LOANS_DUE_WITHIN_DAYS`: each case's caseworker
    is told about their case, and coordinators get one summary of those no collection is
    booked for yet, linking to the loans list where they book them."""
    today, within = now.date(), current_app.config["LOANS_DUE_WITHIN_DAYS"]
    cases = loans_due_by_case(today=today, due_by=today + timedelta(days=within))
    tell = caseworkers_to_tell((row.case_id, row.caseworker_id, row.organisation_id) for row in cases)
    notices = [Notice("loans_due", f"case:{row.case_id}", _loans_message(row, today), case_page(row.case_id),
                      user_ids=tell[row.case_id]) for row in cases]
    due, overdue = sum(row.due for row in cases), sum(row.overdue for row in cases)
    unbooked = sum(row.unbooked for row in cases)
    unbooked_overdue = sum(row.unbooked_overdue for row in cases)
    if unbooked:
        message = (f"{_items(unbooked)} {'are' if unbooked > 1 else 'is'} overdue or due back within {within} days"
                   f" with no collection booked" + (f" ({unbooked_overdue} overdue)." if unbooked_overdue else "."))
        notices.append(Notice("loans_due_summary", "", message, LOANS_LIST, roles=(Role.COORDINATOR.value,)))
    return JobOutcome(counts={"cases": len(cases), "loans_due": due, "overdue": overdue,
                              "without_collection": unbooked}, notices=notices)


def _loans_message(row, today: date) -> str:
    verb = "are" if row.due > 1 else "is"
    if row.overdue == row.due:
        return f"{_items(row.due)} on case {row.reference} {verb} overdue: due back {_on(row.first_due_on, today)}."
    by = "today" if row.last_due_on == today else f"by {_day(row.last_due_on, today)}"
    message = f"{_items(row.due)} on case {row.reference} {verb} due back {by}"
    if row.overdue:
        message += f" ({row.overdue} overdue since {_day(row.first_due_on, today)})"
    return message + "."


def _items(count: int) -> str:
    return f"{count} loaned item{'s' if count != 1 else ''}"


def remind_reviews_due(now: datetime) -> JobOutcome:
    """The 3- and 6-month reviews (`REVIEW_AFTER_MONTHS`) of open cases not yet recorded: due
    within `REVIEWS_DUE_WITHIN_DAYS`, or overdue by at most `REVIEWS_OVERDUE_FOR_DAYS`. A
    recorded 3-month review answers the case's first review dates, a 6-month its second; a
    closed case has none. The case's caseworker is told, once per case, of its earliest such review."""
    today, config = now.date(), current_app.config
    cases = reviews_due_by_case(since=today - timedelta(days=config["REVIEWS_OVERDUE_FOR_DAYS"]),
                                until=today + timedelta(days=config["REVIEWS_DUE_WITHIN_DAYS"]),
                                months=tuple(config["REVIEW_AFTER_MONTHS"]))
    tell = caseworkers_to_tell((row.case_id, row.caseworker_id, row.organisation_id) for row in cases)
    notices = [Notice("review_due", f"case:{row.case_id}", _review_message(row, today), case_page(row.case_id),
                      user_ids=tell[row.case_id]) for row in cases]
    overdue = sum(1 for row in cases if row.review_on < today)
    return JobOutcome(counts={"cases": len(cases), "due": len(cases) - overdue, "overdue": overdue},
                      notices=notices)


def _review_message(row, today: date) -> str:
    review = f"The {row.months}-month review of case {row.reference}"
    if row.review_on < today:
        return f"{review} is overdue: it was due {_on(row.review_on, today)}."
    return f"{review} is due {_on(row.review_on, today)}."


def _on(day: date, today: date) -> str:
    return "today" if day == today else f"on {_day(day, today)}"


def _day(day: date, today: date) -> str:
    """'3 Dec', with the year when it is not this year's."""
    return f"{day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")


def caseworkers_to_tell(cases: Iterable[tuple[int, int, int]]) -> dict[int, tuple[int, ...]]:
    """Who hears about each case (case id, the caseworker who opened it, its organisation):
    that caseworker while active; once they are not, the active caseworkers of the case's
    organisation, so a case is never left with no one told (two queries)."""
    cases = list(cases)
    active = set(db.session.scalars(select(User.id).where(User.id.in_({user for _, user, _ in cases}),
                                                          User.active.is_(True))))
    orphaned = {organisation for _, user, organisation in cases if user not in active}
    colleagues: dict[int, list[int]] = {}
    if orphaned:
        for user_id, organisation_id in db.session.execute(
                select(User.id, User.organisation_id).where(
                    User.organisation_id.in_(orphaned), User.active.is_(True), User.holding(Role.CASEWORKER))
                .order_by(User.id)):
            colleagues.setdefault(organisation_id, []).append(user_id)
    return {case_id: (user,) if user in active else tuple(colleagues.get(organisation, ()))
            for case_id, user, organisation in cases}
