"""Recording outcomes where they happen: reviews at 3 and 6 months and on closing, where a
referral came from, what a rejection is declined as."""
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select, text

from inventory import clock
from inventory.audit.models import AuditEvent
from inventory.cases import operations
from inventory.cases.details import read_new_case
from inventory.cases.models import Case, CaseReview, ReviewedItem, ReviewKind, SupportEnded
from inventory.cases.reviews import Closing, ItemAnswer, NewReview, ReviewAnswers, record_review, reviews_due
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.requests import operations as requests
from inventory.requests.models import DeclinedAs

FITTED = date(2026, 3, 2)


@pytest.fixture
def fitted(build):
    """A case whose alarm and lock were handed over on 2 March 2026."""
    with clock.frozen_at(datetime.combine(FITTED, time(10), tzinfo=UTC)):
        case, items = build.handed_over(lines=[(build.item_type(name="Alarm"), 1),
                                               (build.item_type(name="Lock", loaned=False), 1)])
    return case, items


def on(day):
    return clock.frozen_at(datetime.combine(day, time(15), tzinfo=UTC))


def review_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseReview))


def test_a_caseworker_records_a_3_month_review_with_each_item_and_it_is_audited_without_what_was_said(fitted):
    case, (alarm, lock) = fitted
    answers = ReviewAnswers(feels_safer=4, still_at_address=True, incidents_since_fitting=1,
                            items=(ItemAnswer(alarm.id, True, True), ItemAnswer(lock.id, True, False)))
    with on(date(2026, 6, 3)):
        review = record_review(case, NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2), answers),
                               actor=case.created_by)
    db.session.commit()
    stored = db.session.get(CaseReview, review.id)
    assert (stored.kind, stored.reviewed_on, stored.feels_safer, stored.still_at_address,
            stored.incidents_since_fitting, stored.support_ended, stored.recorded_by_id) == (
        "three_months", date(2026, 6, 2), 4, True, 1, None, case.created_by_id)
    assert [(row.item_id, row.in_use, row.working) for row in stored.items] == [
        (alarm.id, True, True), (lock.id, True, False)]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "case_review_recorded"))
    assert event.actor_id == case.created_by_id
    assert event.details == {"case_id": case.id, "case_reference": case.reference, "review_id": review.id,
                             "kind": "three_months"}


def test_a_coordinator_records_a_review_with_every_answer_unsaid(fitted, build):
    case, _ = fitted
    with on(date(2026, 9, 3)):
        review = record_review(case, NewReview(ReviewKind.SIX_MONTHS, date(2026, 9, 2)),
                               actor=build.user(roles=["coordinator"]))
    assert (review.feels_safer, review.still_at_address, review.incidents_since_fitting, review.items) == (
        None, None, None, [])


@pytest.mark.parametrize("review, field", [
    (NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 4)), "reviewed_on"),  # tomorrow
    (NewReview(ReviewKind.THREE_MONTHS, date(2026, 3, 1)), "reviewed_on"),  # before the fitting
    (NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2), ReviewAnswers(feels_safer=6)), "feels_safer"),
    (NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2), ReviewAnswers(incidents_since_fitting=-2)),
     "incidents_since_fitting"),
    (NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2), support_ended=SupportEnded.MOVED), "support_ended"),
    (NewReview(ReviewKind.CLOSING, date(2026, 6, 2), support_ended=SupportEnded.MOVED), "kind"),  # case open
])
def test_a_bad_review_is_refused_naming_the_field_and_writes_nothing(fitted, review, field):
    case, _ = fitted
    with on(date(2026, 6, 3)), pytest.raises(InvalidInput) as error:
        record_review(case, review, actor=case.created_by)
    assert list(error.value.fields) == [field]
    db.session.rollback()
    assert review_count() == 0


def test_an_item_not_issued_to_the_case_is_refused(fitted, build):
    case, _ = fitted
    _, (elsewhere,) = build.handed_over()
    answers = ReviewAnswers(items=(ItemAnswer(elsewhere.id, True, True),))
    with on(date(2026, 6, 3)), pytest.raises(InvalidInput) as error:
        record_review(case, NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2), answers), actor=case.created_by)
    assert error.value.fields == {"items[0].item_id": "Not an item issued to this case now."}


def test_a_review_of_a_kind_already_recorded_is_a_conflict(fitted, build):
    case, _ = fitted
    with on(date(2026, 6, 3)):
        record_review(case, NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2)), actor=case.created_by)
        db.session.commit()
        with pytest.raises(Conflict) as error:
            record_review(case, NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 3)),
                          actor=build.user(roles=["coordinator"]))
    assert (error.value.code, error.value.message) == (
        "already_recorded", "The 3-month review of this case is already recorded.")
    db.session.rollback()
    assert review_count() == 1


def test_a_case_never_fitted_has_no_3_month_review_to_record(build):
    case = build.case()
    with pytest.raises(InvalidInput) as error:
        record_review(case, NewReview(ReviewKind.THREE_MONTHS, clock.today()), actor=case.created_by)
    assert list(error.value.fields) == ["kind"]


@pytest.mark.parametrize("roles, own_organisation", [
    (["fitter"], True), (["finance"], True), (["admin"], True), (["auditor"], True),
    (["caseworker"], False),
])
def test_only_the_case_s_caseworkers_and_coordinators_record_reviews(fitted, build, roles, own_organisation):
    case, _ = fitted
    user = build.user(roles=roles, organisation=case.organisation if own_organisation else build.organisation())
    with on(date(2026, 6, 3)), pytest.raises(NotAllowed):
        record_review(case, NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2)), actor=user)
    db.session.rollback()
    assert review_count() == 0


def test_another_organisation_s_case_is_not_found(fitted, build):
    case, _ = fitted
    with pytest.raises(NotFound):
        operations.get_case(build.caseworker(build.organisation()), case.id)


def test_closing_a_case_records_its_closing_review_in_the_same_transaction(fitted):
    case, (alarm, _) = fitted
    with on(date(2026, 7, 1)):
        review = operations.close_case(case, Closing(SupportEnded.MOVED, ReviewAnswers(
            feels_safer=5, still_at_address=False, items=(ItemAnswer(alarm.id, False, True),))),
            actor=case.created_by)
    db.session.commit()
    assert (case.status, case.closed_on) == ("closed", date(2026, 7, 1))
    assert (review.kind, review.reviewed_on, review.support_ended, review.still_at_address) == (
        "closing", date(2026, 7, 1), "moved", False)
    assert db.session.scalar(select(func.count()).select_from(ReviewedItem)) == 1


def test_closing_without_saying_why_support_ended_leaves_the_case_open(fitted):
    case, _ = fitted
    with pytest.raises(InvalidInput) as error:
        operations.close_case(case, Closing(None), actor=case.created_by)
    assert error.value.fields == {"support_ended": "Say why support ended."}
    db.session.rollback()
    assert db.session.get(Case, case.id).status == "open" and review_count() == 0


def test_a_case_closed_before_reviews_were_recorded_takes_its_closing_review_afterwards(fitted):
    case, _ = fitted
    db.session.execute(text("UPDATE cases SET status = 'closed', closed_on = :day WHERE id = :id"),
                       {"day": date(2026, 5, 1), "id": case.id})
    db.session.commit()
    db.session.expire_all()
    with on(date(2026, 6, 3)):
        review = record_review(case, NewReview(ReviewKind.CLOSING, date(2026, 5, 1),
                                               support_ended=SupportEnded.LOST_CONTACT), actor=case.created_by)
    assert (review.kind, review.support_ended) == ("closing", "lost_contact")


def test_the_reviews_due_come_from_the_handovers_and_leave_once_recorded(fitted, build):
    case, _ = fitted
    due = {(row.kind, row.due_on) for row in reviews_due(case, set())}
    assert due == {(ReviewKind.THREE_MONTHS, date(2026, 6, 2)), (ReviewKind.SIX_MONTHS, date(2026, 9, 2))}
    assert [row.kind for row in reviews_due(case, {ReviewKind.THREE_MONTHS})] == [ReviewKind.SIX_MONTHS]
    assert reviews_due(build.case(), set()) == []


# Referral sources and declines --------------------------------------------------------------

def test_a_case_records_where_its_referral_came_from(build):
    case = build.case(referral_source="agency", referral_agency="  Housing options team ")
    assert (case.referral_source, case.referral_agency, case.referral_source_label) == (
        "agency", "Housing options team", "Another agency")


def test_a_case_from_an_older_integration_may_have_no_source_but_the_web_form_needs_one(build):
    details = build.case_details(referral_source=None)
    case = operations.create_case(read_new_case(Fields(details)), actor=build.caseworker())
    assert case.referral_source is None and case.referral_source_label == "Not recorded"
    with pytest.raises(InvalidInput) as error:
        read_new_case(Fields(build.case_details(referral_source=None)), source_required=True)
    assert error.value.fields == {"referral_source": "Say where the referral came from."}


@pytest.mark.parametrize("overrides, field", [
    ({"referral_source": "agency"}, "referral_agency"),
    ({"referral_source": "police", "referral_agency": "GP practice"}, "referral_agency"),
    ({"referral_source": "agency", "referral_agency": "x" * 121}, "referral_agency"),
    ({"referral_source": "neighbour"}, "referral_source"),
])
def test_a_bad_referral_is_named_field_by_field(build, overrides, field):
    with pytest.raises(InvalidInput) as error:
        read_new_case(Fields(build.case_details(**overrides)))
    assert list(error.value.fields) == [field]


def test_a_rejection_records_what_it_is_declined_as_with_its_reason(build):
    raised = build.equipment_request()
    requests.reject_request(raised.id, DeclinedAs.INELIGIBLE, note="Outside the service's area.",
                            actor=build.user(roles=["coordinator"]))
    db.session.commit()
    assert (raised.state, raised.declined_as, raised.decision_reason) == (
        "rejected", "ineligible", "Outside the service's area.")


def test_a_rejection_without_a_reason_is_refused_and_records_no_ground(build):
    raised = build.equipment_request()
    with pytest.raises(InvalidInput):
        requests.reject_request(raised.id, DeclinedAs.UNSUITABLE, note=" ", actor=build.user(roles=["coordinator"]))
    db.session.rollback()
    db.session.expire_all()
    assert (raised.state, raised.declined_as) == ("submitted", None)


def test_the_other_moves_do_not_take_a_rejection(build):
    from inventory.requests.transitions import Action

    with pytest.raises(ValueError):
        requests.take_action(build.equipment_request().id, Action.REJECT, note="No", actor=build.user(
            roles=["coordinator"]))


@pytest.mark.postgres_only
def test_two_people_recording_the_same_review_at_once_one_is_told_it_is_already_recorded(app, fitted, build):
    from inventory.accounts.models import User
    from tests.concurrency import run_at_once

    case, _ = fitted
    recorders = [case.created_by_id, build.user(roles=["coordinator"]).id]

    def attempt(user_id):
        return lambda: record_review(db.session.get(Case, case.id),
                                     NewReview(ReviewKind.THREE_MONTHS, date(2026, 6, 2)),
                                     actor=db.session.get(User, user_id))

    with on(date(2026, 6, 3)):
        outcomes = run_at_once(app, [attempt(user_id) for user_id in recorders])
    assert sorted(outcomes) == ["already_recorded", "ok"]
    assert review_count() == 1
