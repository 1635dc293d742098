"""The scheduled reminders about what went out to cases, driven at simulated dates: loans
due back (each case's caseworker, and one summary for coordinators) and the 3- and 6-month
reviews (the caseworker, never for a closed case, nor for a review already recorded)."""
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.models import ReviewKind, SupportEnded
from inventory.cases.operations import close_case
from inventory.cases.reviews import Closing, NewReview, record_review
from inventory.extensions import db
from inventory.jobs.reminders import remind_loans_due, remind_reviews_due
from inventory.notices import Notice
from inventory.permissions import Role


def at(year, month, day):
    return datetime(year, month, day, 6, 0, tzinfo=UTC)


def handed_over_on(build, day, **values):
    with clock.frozen_at(datetime.combine(day, time(10), tzinfo=UTC)):
        return build.handed_over(**values)


def assert_no_personal_data(outcome, *cases):
    for notice in outcome.notices:
        for case in cases:
            assert case.name not in notice.message and case.phone not in notice.message
            assert case.address.splitlines()[0] not in notice.message


@pytest.fixture
def loans(app, build):
    """Three cases with loans out: one overdue by 10 February, one due a week later, one due
    in March; a gifted lock never comes back."""
    app.config.update(LOAN_PERIOD_DAYS=28, LOANS_DUE_WITHIN_DAYS=14)
    lock = build.item_type(name="Window lock", loaned=False)
    overdue, (alarm, _) = handed_over_on(build, date(2026, 1, 5), lines=[(build.item_type(), 1), (lock, 1)])
    soon, soon_items = handed_over_on(build, date(2026, 1, 20), lines=[(build.item_type(), 2)])
    later, _ = handed_over_on(build, date(2026, 2, 1))
    return overdue, alarm, soon, soon_items, later


def test_loans_due_back_tell_each_case_s_caseworker_and_coordinators_once(loans):
    overdue, _, soon, _, later = loans
    outcome = remind_loans_due(at(2026, 2, 10))
    assert outcome.counts == {"cases": 2, "loans_due": 3, "overdue": 1, "without_collection": 3}
    assert outcome.notices == [
        Notice("loans_due", f"case:{overdue.id}", f"1 loaned item on case {overdue.reference} is overdue: "
               "due back on 2 Feb.", f"/cases/{overdue.id}", user_ids=(overdue.created_by_id,)),
        Notice("loans_due", f"case:{soon.id}", f"2 loaned items on case {soon.reference} are due back by 17 Feb.",
               f"/cases/{soon.id}", user_ids=(soon.created_by_id,)),
        Notice("loans_due_summary", "", "3 loaned items are overdue or due back within 14 days with no collection"
               " booked (1 overdue).", "/jobs/loans", roles=("coordinator",)),
    ]
    assert_no_personal_data(outcome, overdue, soon, later)
    assert remind_loans_due(at(2026, 2, 10)) == outcome  # safe to run twice


def test_loans_with_a_collection_booked_leave_the_coordinators_summary_but_not_the_caseworker_s(loans, build):
    overdue, alarm, soon, soon_items, _ = loans
    with clock.frozen_at(at(2026, 2, 10)):
        build.collection(case=soon, items=soon_items)
    outcome = remind_loans_due(at(2026, 2, 10))
    assert outcome.counts == {"cases": 2, "loans_due": 3, "overdue": 1, "without_collection": 1}
    assert [notice.subject for notice in outcome.notices] == [f"case:{overdue.id}", f"case:{soon.id}", ""]
    assert outcome.notices[-1].message == ("1 loaned item is overdue or due back within 14 days with no collection"
                                           " booked (1 overdue).")
    with clock.frozen_at(at(2026, 2, 10)):
        build.collection(case=overdue, items=[alarm])
    assert [notice.kind for notice in remind_loans_due(at(2026, 2, 10)).notices] == ["loans_due", "loans_due"]


def test_a_loan_due_today_and_one_overdue_on_a_case_are_told_in_one_notice(app, build):
    app.config.update(LOAN_PERIOD_DAYS=28, LOANS_DUE_WITHIN_DAYS=0)
    case, _ = handed_over_on(build, date(2026, 1, 5))
    handed_over_on(build, date(2026, 1, 13), case=case)
    outcome = remind_loans_due(at(2026, 2, 10))
    assert [notice.message for notice in outcome.notices] == [
        f"2 loaned items on case {case.reference} are due back today (1 overdue since 2 Feb).",
        "2 loaned items are overdue or due back within 0 days with no collection booked (1 overdue).",
    ]


def test_nothing_due_back_tells_no_one(loans):
    outcome = remind_loans_due(at(2026, 1, 10))
    assert outcome.counts == {"cases": 0, "loans_due": 0, "overdue": 0, "without_collection": 0}
    assert outcome.notices == []


def test_a_case_whose_caseworker_left_is_told_to_its_organisation_s_active_caseworkers(loans, build):
    overdue, *_ = loans
    overdue.created_by.active = False
    colleague = build.caseworker(overdue.organisation)  # commits
    build.caseworker(build.organisation())  # another agency's: not told
    notice = remind_loans_due(at(2026, 2, 10)).notices[0]
    assert notice.subject == f"case:{overdue.id}"
    assert notice.user_ids == tuple(db.session.scalars(
        select(User.id).where(User.organisation_id == overdue.organisation_id, User.active.is_(True),
                              User.holding(Role.CASEWORKER)).order_by(User.id)))
    assert colleague.id in notice.user_ids and overdue.created_by_id not in notice.user_ids


# Reviews -----------------------------------------------------------------------------------

@pytest.fixture
def reviews(app, build):
    """Handovers on 5 and 20 January (reviews on 5 April and 5 July, and 20 April and 20 July),
    and a case handed over on 5 January and closed since."""
    app.config.update(REVIEW_AFTER_MONTHS=(3, 6), REVIEWS_DUE_WITHIN_DAYS=7, REVIEWS_OVERDUE_FOR_DAYS=28)
    first, _ = handed_over_on(build, date(2026, 1, 5))
    second, _ = handed_over_on(build, date(2026, 1, 20))
    closed, _ = handed_over_on(build, date(2026, 1, 5))
    close_case(closed, Closing(SupportEnded.NO_LONGER_NEEDED), actor=closed.created_by)
    db.session.commit()
    return first, second, closed


def review(case, message):
    return Notice("review_due", f"case:{case.id}", message, f"/cases/{case.id}", user_ids=(case.created_by_id,))


@pytest.mark.parametrize("day, expected, counts", [
    (date(2026, 3, 28), [], {"cases": 0, "due": 0, "overdue": 0}),  # 5 April is more than 7 days away
    (date(2026, 3, 29), [("first", "The 3-month review of case {ref} is due on 5 Apr.")],
     {"cases": 1, "due": 1, "overdue": 0}),
    (date(2026, 4, 5), [("first", "The 3-month review of case {ref} is due today.")],
     {"cases": 1, "due": 1, "overdue": 0}),
    (date(2026, 4, 25), [("first", "The 3-month review of case {ref} is overdue: it was due on 5 Apr."),
                         ("second", "The 3-month review of case {ref} is overdue: it was due on 20 Apr.")],
     {"cases": 2, "due": 0, "overdue": 2}),
    (date(2026, 5, 4), [("second", "The 3-month review of case {ref} is overdue: it was due on 20 Apr.")],
     {"cases": 1, "due": 0, "overdue": 1}),  # 5 April is more than 28 days ago
    (date(2026, 7, 1), [("first", "The 6-month review of case {ref} is due on 5 Jul.")],
     {"cases": 1, "due": 1, "overdue": 0}),
])
def test_reviews_due_soon_or_lately_overdue_tell_the_caseworker_and_never_for_a_closed_case(
        reviews, day, expected, counts):
    first, second, closed = reviews
    cases = {"first": first, "second": second}
    outcome = remind_reviews_due(at(day.year, day.month, day.day))
    assert outcome.notices == [review(cases[which], message.format(ref=cases[which].reference))
                               for which, message in expected]
    assert outcome.counts == counts
    assert_no_personal_data(outcome, first, second, closed)


def record(case, kind, day):
    with clock.frozen_at(datetime.combine(day, time(15), tzinfo=UTC)):
        record_review(case, NewReview(kind, day), actor=case.created_by)
    db.session.commit()


def test_a_recorded_3_month_review_silences_the_first_review_dates_and_a_6_month_one_the_second(reviews):
    first, second, _ = reviews
    record(first, ReviewKind.THREE_MONTHS, date(2026, 4, 6))
    outcome = remind_reviews_due(at(2026, 4, 25))
    assert outcome.notices == [review(second, f"The 3-month review of case {second.reference} is overdue: it was "
                                              "due on 20 Apr.")]
    # The 3-month review answers the first dates only: the 6-month one is still told.
    assert remind_reviews_due(at(2026, 7, 1)).notices == [
        review(first, f"The 6-month review of case {first.reference} is due on 5 Jul.")]
    record(first, ReviewKind.SIX_MONTHS, date(2026, 7, 2))
    assert [notice.subject for notice in remind_reviews_due(at(2026, 7, 14)).notices] == [f"case:{second.id}"]


def test_a_6_month_review_recorded_first_leaves_the_3_month_one_due(reviews):
    first, _, _ = reviews
    record(first, ReviewKind.SIX_MONTHS, date(2026, 3, 30))
    assert remind_reviews_due(at(2026, 4, 5)).notices == [
        review(first, f"The 3-month review of case {first.reference} is due today.")]
