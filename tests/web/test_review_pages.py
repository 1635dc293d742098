"""The outcome forms on the pages: where a referral came from, recording a review, closing a
case with its closing review, and rejecting a request as something."""
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.cases.models import Case, CaseReview
from inventory.extensions import db
from inventory.requests.models import EquipmentRequest
from tests.support import recorded_selects
from tests.web.test_case_pages import form_for

CHOOSE = "Choose an answer, or \u201cDid not say\u201d."


@pytest.fixture
def fitted(build):
    """A case of the lead's caseworker, its alarm handed over 100 days ago."""
    with clock.frozen_at(datetime.combine(clock.today() - timedelta(days=100), time(10), tzinfo=UTC)):
        case, (alarm,) = build.handed_over()
    return case, alarm


def review_form(alarm, **overrides):
    return {"kind": "three_months", "reviewed_on": clock.today().isoformat(), "feels_safer": "4",
            "still_at_address": "yes", "incidents_since_fitting": "0", f"item_{alarm.id}": "in_use_working",
            **overrides}


def test_a_new_case_needs_its_referral_source_and_an_agency_s_name(client, build, login):
    login(build.caseworker())
    response = client.post("/cases/new", data=form_for(build.case_details(referral_source=None)))
    assert response.status_code == 422 and "Say where the referral came from." in response.get_data(as_text=True)
    response = client.post("/cases/new", data=form_for(build.case_details(reference="NS-2026-0601",
                                                                          referral_source="agency")))
    assert response.status_code == 422
    assert "Name the agency that made the referral" in response.get_data(as_text=True)
    response = client.post("/cases/new", data=form_for(build.case_details(
        reference="NS-2026-0601", referral_source="agency", referral_agency="Housing options team")))
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Another agency: Housing options team" in page


def test_a_case_from_before_sources_were_recorded_may_be_edited_without_one_and_a_recorded_one_stays(client, build, login):
    caseworker = login(build.caseworker())
    old = build.case(caseworker=caseworker, referral_source=None)
    recorded = build.case(caseworker=caseworker)
    for case in (old, recorded):
        client.post(f"/cases/{case.id}/reveal", data={"purpose": "edit"})
    assert client.post(f"/cases/{old.id}/edit", data=form_for(build.case_details(referral_source=None))
                       ).status_code == 302
    # A radio button cannot be unchosen: a recorded source stays as it was.
    assert client.post(f"/cases/{recorded.id}/edit", data=form_for(build.case_details(referral_source=None))
                       ).status_code == 302
    db.session.expire_all()
    assert (db.session.get(Case, old.id).referral_source, db.session.get(Case, recorded.id).referral_source) == (
        None, "police")


def test_the_case_page_lists_reviews_due_and_a_caseworker_records_one(client, login, fitted):
    case, alarm = fitted
    login(case.created_by)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "3-month review due" in page and "Record the 3-month review" in page
    form = client.get(f"/cases/{case.id}/reviews/new?kind=three_months")
    assert form.status_code == 200 and alarm.code in form.get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm))
    assert response.status_code == 302, response.get_data(as_text=True)
    review = db.session.scalar(select(CaseReview))
    assert (review.kind, review.feels_safer, [(i.item_id, i.in_use, i.working) for i in review.items]) == (
        "three_months", 4, [(alarm.id, True, True)])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Record the 3-month review" not in page and "Safer" in page and "In use, working" in page


def days_from_today(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("overrides, message", [
    ({"feels_safer": ""}, CHOOSE),
    ({"feels_safer": "6"}, "Not a valid choice."),
    ({"still_at_address": ""}, CHOOSE),
    ({"incidents_since_fitting": "-1"}, "Cannot be negative."),
    ({"reviewed_on": 1}, "Cannot be in the future."),
    ({"reviewed_on": -200}, "Cannot be before the first item was issued to the case"),
])
def test_a_bad_review_shows_at_its_field_and_records_nothing(client, login, fitted, overrides, message):
    case, alarm = fitted
    login(case.created_by)
    form = review_form(alarm, **{name: days_from_today(value) if name == "reviewed_on" else value
                                 for name, value in overrides.items()})
    response = client.post(f"/cases/{case.id}/reviews/new", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(CaseReview)) is None


def test_an_unanswered_item_is_named_and_did_not_say_is_an_answer(client, login, fitted):
    case, alarm = fitted
    login(case.created_by)
    response = client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm, **{f"item_{alarm.id}": ""}))
    assert response.status_code == 422 and CHOOSE in response.get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/reviews/new", data=review_form(
        alarm, feels_safer="not_said", still_at_address="not_said", incidents_since_fitting="",
        **{f"item_{alarm.id}": "not_said"}))
    assert response.status_code == 302
    review = db.session.scalar(select(CaseReview))
    assert (review.feels_safer, review.still_at_address, review.incidents_since_fitting, review.items) == (
        None, None, None, [])


def test_a_recorded_kind_is_no_longer_offered(client, login, fitted):
    case, alarm = fitted
    login(case.created_by)
    client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm))
    again = client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm))
    assert again.status_code == 422
    assert len(db.session.scalars(select(CaseReview)).all()) == 1


@pytest.mark.parametrize("roles, partner, status", [
    (["fitter"], False, 403), (["finance"], False, 403), (["admin"], False, 403), (["auditor"], False, 403),
    (["caseworker"], True, 404), (["coordinator"], False, 200), (["caseworker"], False, 200),
])
def test_who_may_open_the_review_form(client, build, login, fitted, roles, partner, status):
    case, _ = fitted
    login(build.user(roles=roles, organisation=build.organisation() if partner else case.organisation))
    assert client.get(f"/cases/{case.id}/reviews/new").status_code == status


def test_closing_asks_why_support_ended_and_records_the_closing_review(client, login, fitted):
    case, alarm = fitted
    login(case.created_by)
    assert "Why support ended" in client.get(f"/cases/{case.id}/close").get_data(as_text=True)
    answers = {"feels_safer": "5", "still_at_address": "no", f"item_{alarm.id}": "not_in_use_working"}
    response = client.post(f"/cases/{case.id}/close", data=answers)
    assert response.status_code == 422 and "Say why support ended." in response.get_data(as_text=True)
    assert db.session.get(Case, case.id).status == "open"
    response = client.post(f"/cases/{case.id}/close", data={**answers, "support_ended": "moved"})
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.scalar(select(CaseReview))
    assert (db.session.get(Case, case.id).status, review.kind, review.support_ended, review.still_at_address) == (
        "closed", "closing", "moved", False)
    assert client.get(f"/cases/{case.id}/close").status_code == 409


def test_the_case_page_costs_the_same_with_more_reviews(client, login, fitted):
    case, alarm = fitted
    login(case.created_by)
    client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm))
    with recorded_selects() as one:
        client.get(f"/cases/{case.id}")
    client.post(f"/cases/{case.id}/reviews/new", data=review_form(alarm, kind="six_months"))
    assert len(db.session.scalars(select(CaseReview)).all()) == 2
    with recorded_selects() as two:
        client.get(f"/cases/{case.id}")
    assert len(two) == len(one)


def test_a_rejection_asks_what_it_is_declined_as_and_the_caseworker_sees_it(client, build, login):
    caseworker = build.caseworker()
    raised = build.equipment_request(caseworker=caseworker, case=build.case(caseworker=caseworker))
    login(build.user(roles=["coordinator"]))
    assert "Declined as" in client.get(f"/requests/{raised.id}").get_data(as_text=True)
    response = client.post(f"/requests/{raised.id}/actions/reject", data={"reason": "Outside our area."})
    assert response.status_code == 422
    assert "Say whether it is declined as unsuitable, ineligible or for another reason." in response.get_data(
        as_text=True)
    assert db.session.get(EquipmentRequest, raised.id).state == "submitted"
    client.post(f"/requests/{raised.id}/actions/reject", data={"declined_as": "ineligible",
                                                               "reason": "Outside our area."})
    client.post("/logout")
    login(caseworker)
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "declined as ineligible" in page and "Outside our area." in page
