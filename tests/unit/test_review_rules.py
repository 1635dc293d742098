"""The rules of reviews and referrals, as plain functions: no database, no HTTP."""
from datetime import date

import pytest

from inventory.cases.details import referral_problems
from inventory.cases.models import ReferralSource, ReviewKind, SupportEnded
from inventory.cases.reviews import DueReview, ItemAnswer, NewReview, ReviewAnswers, due_reviews, review_problems

TODAY = date(2026, 6, 15)
FITTED = date(2026, 3, 2)
ISSUED = frozenset({11, 12})


def problems(kind=ReviewKind.THREE_MONTHS, reviewed_on=TODAY, *, first_issued_on=FITTED, support_ended=None,
             **answers):
    review = NewReview(kind, reviewed_on, ReviewAnswers(**answers), support_ended)
    return review_problems(review, today=TODAY, first_issued_on=first_issued_on, issued_item_ids=ISSUED)


def test_a_complete_review_on_a_day_between_the_fitting_and_today_has_no_problems():
    assert problems(reviewed_on=FITTED, feels_safer=4, still_at_address=True, incidents_since_fitting=0,
                    items=(ItemAnswer(11, True, True), ItemAnswer(12, False, True))) == {}


def test_every_answer_may_be_left_unsaid():
    assert problems(feels_safer=None, still_at_address=None, incidents_since_fitting=None, items=()) == {}


def test_a_review_cannot_be_dated_in_the_future():
    assert problems(reviewed_on=date(2026, 6, 16)) == {"reviewed_on": "Cannot be in the future."}


def test_a_3_or_6_month_review_cannot_be_dated_before_the_first_item_was_issued():
    for kind in (ReviewKind.THREE_MONTHS, ReviewKind.SIX_MONTHS):
        assert problems(kind, date(2026, 3, 1)) == {
            "reviewed_on": "Cannot be before the first item was issued to the case, on 2 March 2026."}


def test_a_3_month_review_of_a_case_never_fitted_names_the_kind():
    assert problems(first_issued_on=None) == {
        "kind": "Nothing has been issued to this case yet: the 3-month review follows the fitting."}


def test_a_closing_review_may_come_before_any_fitting_and_must_say_why_support_ended():
    assert problems(ReviewKind.CLOSING, date(2026, 1, 5), first_issued_on=None,
                    support_ended=SupportEnded.DECLINED) == {}
    assert problems(ReviewKind.CLOSING, first_issued_on=None) == {"support_ended": "Say why support ended."}


def test_only_the_closing_review_says_why_support_ended():
    assert problems(support_ended=SupportEnded.MOVED) == {
        "support_ended": "Only the closing review says why support ended."}


@pytest.mark.parametrize("feels_safer", [0, 6, -1, 100])
def test_feeling_safer_is_on_the_five_point_scale(feels_safer):
    assert problems(feels_safer=feels_safer) == {
        "feels_safer": "On the scale from 1 (much less safe) to 5 (much safer), or not answered."}


def test_incidents_since_fitting_cannot_be_negative():
    assert problems(incidents_since_fitting=-1) == {"incidents_since_fitting": "Cannot be negative."}


def test_items_answered_must_be_out_with_the_case_now_and_answered_once():
    assert problems(items=(ItemAnswer(11, True, True), ItemAnswer(99, True, True), ItemAnswer(11, False, False))) == {
        "items[1].item_id": "Not an item issued to this case now.",
        "items[2].item_id": "This item is answered twice.",
    }


def test_reviews_due_leave_out_those_recorded_and_come_soonest_first():
    dates = {ReviewKind.THREE_MONTHS: date(2026, 6, 2), ReviewKind.SIX_MONTHS: date(2026, 9, 2)}
    assert due_reviews(dates, set()) == [DueReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2)),
                                         DueReview(ReviewKind.SIX_MONTHS, date(2026, 9, 2))]
    assert due_reviews(dates, {ReviewKind.THREE_MONTHS}) == [DueReview(ReviewKind.SIX_MONTHS, date(2026, 9, 2))]
    assert due_reviews({}, set()) == []


@pytest.mark.parametrize("source, agency, expected", [
    (ReferralSource.AGENCY, "Housing options team", {}),
    (ReferralSource.POLICE, None, {}),
    (None, None, {}),  # not recorded (older integrations)
    (ReferralSource.AGENCY, None,
     {"referral_agency": "Name the agency that made the referral (the organisation, not a person)."}),
    (ReferralSource.SELF, "GP practice", {"referral_agency": "Only for a referral from another agency: leave it empty."}),
    (None, "GP practice", {"referral_agency": "Only for a referral from another agency: leave it empty."}),
])
def test_the_referring_agency_is_named_exactly_when_another_agency_referred(source, agency, expected):
    assert referral_problems(source, agency) == expected
