"""The jobs and scans API: who may, what it answers, refusals as 409s with their codes,
and replays through the Idempotency-Key."""
import pytest
from sqlalchemy import func, select

from inventory.extensions import db
from inventory.jobs.models import JobItem
from inventory.stock.models import Item, ItemEvent, ItemState
from tests.support import booking_day


def reserved(job):
    return list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == job.request_id)
                                   .order_by(Item.id)))


@pytest.fixture
def fitter(build):
    return build.user(roles=["fitter"])


def test_a_coordinator_schedules_a_job_and_the_fitter_lists_and_opens_it(api, build, fitter):
    coordinator = build.user(roles=["coordinator"])
    request = build.approved_request(coordinator=coordinator)
    made = api(user=coordinator).post("/jobs", json={"request_id": request.id, "fitter_id": fitter.id,
                                                     "scheduled_for": booking_day()})
    assert made.status_code == 201
    job = made.get_json()
    assert (job["request_id"], job["fitter_id"], job["status"]) == (request.id, fitter.id, "scheduled")
    assert [i["state"] for i in job["items"]] == ["reserved"]
    as_fitter = api(user=fitter)
    listed = as_fitter.get("/jobs?mine=1").get_json()
    assert [j["id"] for j in listed["items"]] == [job["id"]] and listed["total"] == 1
    assert as_fitter.get(f"/jobs/{job['id']}").get_json() == job


def test_scheduling_with_bad_input_is_a_422_naming_the_fields(api, build):
    response = api(roles=["coordinator"]).post("/jobs", json={"request_id": "x", "fitter_id": None,
                                                              "scheduled_for": "2001-01-01"})
    assert response.status_code == 422
    assert {"request_id", "fitter_id", "scheduled_for"} <= set(response.get_json()["error"]["details"]["fields"])


@pytest.mark.parametrize(("role", "status"), [("fitter", 403), ("caseworker", 403), ("finance", 403),
                                              ("auditor", 403), ("admin", 403)])
def test_only_coordinators_may_schedule(api, build, role, status):
    request = build.approved_request()
    response = api(roles=[role]).post("/jobs", json={"request_id": request.id, "fitter_id": 1,
                                                     "scheduled_for": booking_day()})
    assert response.status_code == status


def test_another_fitter_gets_404_for_the_job_its_scans_and_its_completion(api, build, fitter):
    job = build.job(fitter=fitter)
    other = api(roles=["fitter"])
    assert other.get(f"/jobs/{job.id}").status_code == 404
    assert other.get("/jobs?mine=1").get_json()["total"] == 0
    assert other.get("/jobs").get_json()["total"] == 0
    scanned = other.post("/scans", json={"action": "issue", "code": reserved(job)[0].code, "job_id": job.id})
    assert scanned.status_code == 404
    assert other.post(f"/jobs/{job.id}/complete", json={}).status_code == 404
    assert reserved(job)[0].state == ItemState.RESERVED


def test_a_scan_issues_the_item_and_a_replay_with_the_same_key_returns_the_same_answer(api, build, fitter):
    job = build.job(fitter=fitter)
    unit = reserved(job)[0]
    client = api(user=fitter)
    body = {"action": "issue", "code": unit.code, "job_id": job.id}
    first = client.post("/scans", json=body, headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == 200
    answer = first.get_json()
    assert answer["result"] == "issued" and answer["item"]["code"] == unit.code
    assert answer["handover"]["loaned"] is True
    events = db.session.scalar(select(func.count()).select_from(ItemEvent))
    again = client.post("/scans", json=body, headers={"Idempotency-Key": "tap-1"})
    assert again.status_code == 200 and again.get_json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(ItemEvent)) == events
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 1
    other_body = client.post("/scans", json={**body, "action": "lookup"}, headers={"Idempotency-Key": "tap-1"})
    assert other_body.status_code == 422
    assert other_body.get_json()["error"]["code"] == "idempotency_key_reused"


def test_a_second_scan_with_a_new_key_is_refused_as_already_issued(api, build, fitter):
    job = build.job(fitter=fitter)
    unit = reserved(job)[0]
    client = api(user=fitter)
    body = {"action": "issue", "code": unit.code, "job_id": job.id}
    assert client.post("/scans", json=body, headers={"Idempotency-Key": "a"}).status_code == 200
    second = client.post("/scans", json=body, headers={"Idempotency-Key": "b"})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "already_issued" and "already been handed over" in error["message"]


def test_a_refused_scan_is_not_remembered_so_a_retry_is_judged_afresh(api, build, fitter):
    job = build.job(fitter=fitter)
    client = api(user=fitter)
    body = {"action": "issue", "code": build.item().code, "job_id": job.id}
    first = client.post("/scans", json=body, headers={"Idempotency-Key": "wrong"})
    assert first.status_code == 409 and first.get_json()["error"]["code"] == "wrong_item_type"
    assert client.post("/scans", json=body, headers={"Idempotency-Key": "wrong"}).status_code == 409


@pytest.mark.parametrize("body", [
    {"action": "issue"}, {"action": "fly", "code": "ABC"}, {"code": "ABC"}, {"action": "issue", "code": ["x"]},
])
def test_bad_scan_bodies_are_422_not_500(api, fitter, body):
    response = api(user=fitter).post("/scans", json=body)
    assert response.status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "issue", "code": "ABC", "job_id": 2**63}, "job_id"),
    ({"action": "stocktake", "code": "ABC", "stocktake_id": 2**70}, "stocktake_id"),
    ({"action": "return", "code": "ABC", "condition": "good", "job_id": -1}, "job_id"),
])
def test_an_id_no_record_can_have_is_a_422_naming_it(api, fitter, body, field):
    response = api(user=fitter).post("/scans", json=body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {field}


def test_booking_without_a_window_books_the_usual_one_and_an_id_too_large_is_a_422(app, api, build, fitter):
    app.config["JOB_WINDOW_DEFAULT"] = ("13:30", "16:00")
    request = build.approved_request()
    client = api(roles=["coordinator"])
    body = {"request_id": request.id, "fitter_id": fitter.id, "scheduled_for": booking_day()}
    too_large = client.post("/jobs", json={**body, "fitter_id": 2**64})
    assert too_large.status_code == 422 and set(too_large.get_json()["error"]["details"]["fields"]) == {"fitter_id"}
    made = client.post("/jobs", json=body)
    assert made.status_code == 201
    assert (made.get_json()["window_starts"], made.get_json()["window_ends"]) == ("13:30", "16:00")


def test_a_typo_in_a_typed_code_is_caught_by_its_check_character(api, build, fitter):
    job = build.job(fitter=fitter)
    code = reserved(job)[0].code
    typo = ("B" if code[0] != "B" else "C") + code[1:]
    response = api(user=fitter).post("/scans", json={"action": "issue", "code": typo, "job_id": job.id})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "code_typo"
    assert reserved(job)[0].state == ItemState.RESERVED


def test_a_fitter_looking_up_an_item_on_their_job_sees_type_and_state_never_the_case(api, build, fitter):
    job = build.job(fitter=fitter)
    unit = reserved(job)[0]
    answer = api(user=fitter).post("/scans", json={"action": "lookup", "code": unit.code}).get_json()
    assert set(answer["item"]) == {"id", "code", "item_type", "state"}
    assert "actions" not in answer


def test_a_fitter_looking_up_an_item_outside_their_jobs_is_told_no_item_has_that_code(api, build, fitter):
    unit = reserved(build.job())[0]
    response = api(user=fitter).post("/scans", json={"action": "lookup", "code": unit.code})
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "unknown_code")


def test_a_coordinator_looking_up_an_item_sees_its_case_and_the_actions_its_state_allows(api, build):
    job = build.job()
    unit = reserved(job)[0]
    answer = api(roles=["coordinator"]).post("/scans", json={"action": "lookup", "code": unit.code}).get_json()
    assert answer["item"]["reserved_for_request_id"] == job.request_id
    assert "moved" in answer["actions"] and "returned" not in answer["actions"]


@pytest.mark.parametrize("role", ["caseworker", "finance", "auditor", "admin"])
def test_roles_that_do_not_scan_cannot(api, build, role):
    response = api(roles=[role]).post("/scans", json={"action": "lookup", "code": build.item().code})
    assert response.status_code == 403


def test_completing_through_the_api_needs_reasons_then_closes_the_job(api, build, fitter):
    job = build.job(fitter=fitter)
    unit = reserved(job)[0]
    client = api(user=fitter)
    missing = client.post(f"/jobs/{job.id}/complete", json={})
    assert missing.status_code == 422 and f"item_{unit.id}" in missing.get_json()["error"]["details"]["fields"]
    done = client.post(f"/jobs/{job.id}/complete",
                       json={"not_issued": [{"item_id": unit.id, "reason": "not_home"}]})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    again = client.post(f"/jobs/{job.id}/complete", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "job_closed"


def test_stock_staff_count_a_stocktake_by_scanning_and_a_second_scan_is_not_counted_twice(api, build):
    from inventory.stock.stocktakes import start_stocktake

    coordinator = build.user(roles=["coordinator"])
    unit = build.item()
    stocktake = start_stocktake(unit.location, actor=coordinator)
    db.session.commit()
    client = api(user=coordinator)
    body = {"action": "stocktake", "code": unit.code, "stocktake_id": stocktake.id}
    first = client.post("/scans", json=body).get_json()
    assert (first["result"], first["verdict"]) == ("counted", "expected")
    assert client.post("/scans", json=body).get_json()["result"] == "already_counted"
    assert client.post("/scans", json={**body, "stocktake_id": 999}).status_code == 422


def test_a_fitter_cannot_count_stock(api, build, fitter):
    response = api(user=fitter).post("/scans", json={"action": "stocktake", "code": build.item().code,
                                                     "stocktake_id": 1})
    assert response.status_code == 403


def test_listing_jobs_costs_the_same_queries_for_one_job_or_many(api, build):
    from tests.support import recorded_selects

    coordinator = build.user(roles=["coordinator"])
    build.job(coordinator=coordinator)
    client = api(user=coordinator)
    with recorded_selects() as one:
        client.get("/jobs")
    for _ in range(3):
        build.job(coordinator=coordinator, lines=[(build.item_type(), 2)])
    with recorded_selects() as many:
        listed = client.get("/jobs").get_json()
    assert listed["total"] == 4 and sum(len(job["items"]) for job in listed["items"]) == 7
    assert len(many) == len(one)


def test_completing_through_the_api_may_be_sent_without_a_body(api, build, fitter):
    job = build.job(fitter=fitter)
    unit = reserved(job)[0]
    response = api(user=fitter).post(f"/jobs/{job.id}/complete")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {f"item_{unit.id}"}
