"""Outcomes through the API: referral sources on cases, reviews, closing with the closing
review, declines. Every response is checked against the OpenAPI document."""
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.cases.models import Case, CaseReview
from inventory.extensions import db
from inventory.requests.models import EquipmentRequest
from tests.web.test_cases_api import api_case_body


@pytest.fixture
def fitted(build):
    """A case of the lead's caseworker, its alarm handed over 100 days ago."""
    with clock.frozen_at(datetime.combine(clock.today() - timedelta(days=100), time(10), tzinfo=UTC)):
        case, (alarm,) = build.handed_over()
    return case, alarm


def review_body(alarm, **overrides):
    return {"kind": "three_months", "reviewed_on": clock.today().isoformat(), "feels_safer": 4,
            "still_at_address": True, "incidents_since_fitting": 0,
            "items": [{"item_id": alarm.id, "in_use": True, "working": False}], **overrides}


def test_a_case_carries_its_referral_source_and_agency(api, build):
    caller = api(user=build.caseworker())
    created = caller.post("/cases", json=api_case_body(build, referral_source="agency",
                                                       referral_agency="GP practice"))
    assert created.status_code == 201, created.get_json()
    fetched = caller.get(f"/cases/{created.get_json()['id']}").get_json()
    assert (fetched["referral_source"], fetched["referral_agency"]) == ("agency", "GP practice")


def test_an_older_integration_may_open_a_case_without_a_source(api, build):
    created = api(user=build.caseworker()).post("/cases", json=api_case_body(build, referral_source=None))
    assert created.status_code == 201
    assert db.session.get(Case, created.get_json()["id"]).referral_source is None


@pytest.mark.parametrize("overrides, field", [
    ({"referral_source": "agency"}, "referral_agency"),
    ({"referral_source": "self", "referral_agency": "GP practice"}, "referral_agency"),
    ({"referral_source": "agency", "referral_agency": "x" * 121}, "referral_agency"),
    ({"referral_source": "friend"}, "referral_source"),
    ({"referral_source": 3}, "referral_source"),
])
def test_a_bad_referral_is_a_422_naming_the_field(api, build, overrides, field):
    response = api(user=build.caseworker()).post("/cases", json=api_case_body(build, **overrides))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == [field]


def test_a_caseworker_records_a_review_and_lists_it_with_the_reviews_still_due(api, fitted):
    case, alarm = fitted
    caller = api(user=case.created_by)
    before = caller.get(f"/cases/{case.id}/reviews").get_json()
    assert before["items"] == [] and [due["kind"] for due in before["due"]] == ["three_months", "six_months"]
    created = caller.post(f"/cases/{case.id}/reviews", json=review_body(alarm))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["kind"], body["feels_safer"], body["items"]) == (
        "three_months", 4, [{"item_id": alarm.id, "in_use": True, "working": False}])
    after = caller.get(f"/cases/{case.id}/reviews").get_json()
    assert [review["id"] for review in after["items"]] == [body["id"]] and after["total"] == 1
    assert [due["kind"] for due in after["due"]] == ["six_months"]


def test_answers_left_out_or_null_are_not_answered(api, fitted):
    case, _ = fitted
    created = api(roles=["coordinator"]).post(f"/cases/{case.id}/reviews", json={
        "kind": "three_months", "reviewed_on": clock.today().isoformat(), "feels_safer": None})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["feels_safer"], body["still_at_address"], body["incidents_since_fitting"], body["items"]) == (
        None, None, None, [])


def test_a_second_review_of_a_kind_is_409_already_recorded(api, fitted):
    case, alarm = fitted
    caller = api(user=case.created_by)
    assert caller.post(f"/cases/{case.id}/reviews", json=review_body(alarm)).status_code == 201
    again = caller.post(f"/cases/{case.id}/reviews", json=review_body(alarm))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_recorded"
    assert len(db.session.scalars(select(CaseReview)).all()) == 1


@pytest.mark.parametrize("overrides, field", [
    ({"kind": "yearly"}, "kind"),
    ({"kind": "closing", "support_ended": "moved"}, "kind"),
    ({"reviewed_on": "tomorrow"}, "reviewed_on"),
    ({"reviewed_on": 1}, "reviewed_on"),  # tomorrow, filled in below
    ({"reviewed_on": -200}, "reviewed_on"),  # before the fitting
    ({"feels_safer": 6}, "feels_safer"),
    ({"feels_safer": 0}, "feels_safer"),
    ({"feels_safer": "4"}, "feels_safer"),
    ({"still_at_address": "yes"}, "still_at_address"),
    ({"incidents_since_fitting": -1}, "incidents_since_fitting"),
    ({"items": [{"item_id": 999_999, "in_use": True, "working": True}]}, "items[0].item_id"),
    ({"items": [{"item_id": 1, "in_use": "yes", "working": True}]}, "items[0].in_use"),
    ({"items": "all"}, "items"),
    ({"support_ended": "moved"}, "support_ended"),
])
def test_a_bad_review_is_a_422_naming_the_field_and_records_nothing(api, fitted, overrides, field):
    case, alarm = fitted
    if isinstance(overrides.get("reviewed_on"), int):
        overrides = {"reviewed_on": (clock.today() + timedelta(days=overrides["reviewed_on"])).isoformat()}
    response = api(user=case.created_by).post(f"/cases/{case.id}/reviews", json=review_body(alarm, **overrides))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(select(CaseReview)) is None


@pytest.mark.parametrize("roles, partner, read, write", [
    (["caseworker"], False, 200, 201),
    (["coordinator"], False, 200, 201),
    (["caseworker"], True, 404, 404),
    (["finance"], False, 404, 403),
    (["fitter"], False, 403, 403),
    (["admin"], False, 403, 403),
    (["auditor"], False, 403, 403),
])
def test_reviews_follow_the_case_s_permissions(api, build, fitted, roles, partner, read, write):
    case, alarm = fitted
    caller = api(user=build.user(roles=roles, organisation=build.organisation() if partner else case.organisation))
    assert caller.get(f"/cases/{case.id}/reviews").status_code == read
    assert caller.post(f"/cases/{case.id}/reviews", json=review_body(alarm)).status_code == write


def test_closing_through_the_api_needs_why_support_ended_and_records_the_closing_review(api, fitted):
    case, alarm = fitted
    caller = api(user=case.created_by)
    missing = caller.post(f"/cases/{case.id}/close", json={"feels_safer": 5})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["details"]["fields"] == {"support_ended": "Say why support ended."}
    assert db.session.get(Case, case.id).status == "open"
    closed = caller.post(f"/cases/{case.id}/close", json={
        "support_ended": "lost_contact", "items": [{"item_id": alarm.id, "in_use": False, "working": True}]})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    review = db.session.scalar(select(CaseReview))
    assert (review.kind, review.support_ended, review.reviewed_on) == ("closing", "lost_contact", clock.today())
    again = caller.post(f"/cases/{case.id}/close", json={"support_ended": "other"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "case_closed"
    assert caller.get(f"/cases/{case.id}/reviews").get_json()["due"] == []


@pytest.mark.parametrize("body, field", [
    ({"support_ended": "bored"}, "support_ended"),
    ({"support_ended": "moved", "feels_safer": 9}, "feels_safer"),
])
def test_a_bad_closing_is_a_422(api, fitted, body, field):
    case, _ = fitted
    response = api(user=case.created_by).post(f"/cases/{case.id}/close", json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["details"]["fields"]


def test_a_rejection_says_what_it_is_declined_as_and_older_clients_get_other(api, build):
    coordinator = api(roles=["coordinator"])
    first, second = build.equipment_request(), build.equipment_request()
    response = coordinator.post(f"/requests/{first.id}/decision", json={
        "decision": "reject", "reason": "Outside our area.", "declined_as": "ineligible"})
    assert response.status_code == 200 and response.get_json()["declined_as"] == "ineligible"
    response = coordinator.post(f"/requests/{second.id}/decision", json={"decision": "reject", "reason": "No."})
    assert response.get_json()["declined_as"] == "other"
    assert db.session.get(EquipmentRequest, second.id).declined_as == "other"


@pytest.mark.parametrize("body", [
    {"decision": "reject", "reason": "No.", "declined_as": "rude"},
    {"decision": "approve", "declined_as": "unsuitable"},
])
def test_declined_as_is_one_of_the_grounds_and_only_for_a_rejection(api, build, body):
    raised = build.equipment_request()
    response = api(roles=["coordinator"]).post(f"/requests/{raised.id}/decision", json=body)
    assert response.status_code == 422 and "declined_as" in response.get_json()["error"]["details"]["fields"]
    assert db.session.get(EquipmentRequest, raised.id).state == "submitted"
