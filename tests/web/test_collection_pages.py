"""Collection visits through the test client and the API: from the loans due back to a
booked visit, the fitter scanning items back on it, and closing it; who may see what."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.jobs.models import CollectionItem, Job, JobKind, JobStatus
from inventory.stock.models import Item, ItemState
from tests.support import booking_day, recorded_selects, this_morning


def csrf(page_text):
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page_text).group(1)


def loans_due_now(build, app, *, count=1):
    """`count` cases each with an alarm on loan, due back within the week."""
    app.config["LOAN_PERIOD_DAYS"] = 5
    return [build.handed_over() for _ in range(count)]


def test_the_whole_collection_journey_from_the_loans_list_to_a_closed_visit(app, client, login, build):
    (case, (alarm,)), = loans_due_now(build, app)
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])

    login(coordinator)
    loans = client.get("/jobs/loans").get_data(as_text=True)
    assert case.reference in loans and alarm.code in loans and f"/jobs/collect/{case.id}" in loans
    form = client.get(f"/jobs/collect/{case.id}").get_data(as_text=True)
    assert re.search(rf'value="{alarm.id}"[^>]*checked|checked[^>]*value="{alarm.id}"', form)  # due soon: ticked
    with clock.frozen_at(this_morning()):  # booked for today, before its window has passed
        booked = client.post(f"/jobs/collect/{case.id}", data={
            "item_ids": [alarm.id], "fitter_id": fitter.id, "scheduled_for": clock.today().isoformat(),
            "window_starts": "13:00", "window_ends": "15:00"})
    assert booked.status_code == 302
    job = db.session.scalar(select(Job).where(Job.kind == JobKind.COLLECTION))
    assert f"Booked: job {job.id}" in client.get("/jobs/loans").get_data(as_text=True)
    client.post("/logout")

    login(fitter)
    mine = client.get("/jobs/mine").get_data(as_text=True)
    assert f"Job {job.id}" in mine and "Collection" in mine and "1 item to collect" in mine
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Scan items back in" in page and "To collect" in page and alarm.code in page
    assert "Scan items to hand over" not in page
    revealed = client.post(f"/jobs/{job.id}/contact", follow_redirects=True)
    assert "1 Example Row" in revealed.get_data(as_text=True)
    scanner = client.get(f"/jobs/{job.id}/scan").get_data(as_text=True)
    assert 'data-action="return"' in scanner and "Still to collect" in scanner
    returned = client.post("/api/v1/scans", json={"action": "return", "code": alarm.code, "job_id": job.id,
                                                  "condition": "good"},
                           headers={"Idempotency-Key": "back-1", "X-CSRFToken": csrf(scanner)})
    assert returned.status_code == 200 and returned.get_json()["result"] == "returned"
    closed = client.post(f"/jobs/{job.id}/complete")
    assert closed.status_code == 302
    assert db.session.get(Job, job.id).status == JobStatus.COMPLETED
    assert db.session.get(Item, alarm.id).state == ItemState.IN_STOCK
    assert "back from the survivor" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_closing_a_collection_on_the_page_asks_why_each_item_stayed_out(app, client, login, build):
    (case, (alarm,)), = loans_due_now(build, app)
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    login(fitter)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "not collected?" in page and "Survivor still needs it" in page
    refused = client.post(f"/jobs/{job.id}/complete", follow_redirects=True)
    assert refused.request.method == "GET" and refused.status_code == 200
    assert "was not collected: say why" in refused.get_data(as_text=True)
    assert db.session.get(Job, job.id).status == JobStatus.SCHEDULED
    closed = client.post(f"/jobs/{job.id}/complete", data={f"reason_{alarm.id}": "not_home"})
    assert closed.status_code == 302
    row = db.session.scalar(select(CollectionItem))
    assert (row.outcome, row.reason) == ("not_collected", "not_home")


def test_booking_with_nothing_ticked_or_twice_shows_why(app, client, login, build):
    (case, (alarm,)), = loans_due_now(build, app)
    fitter = build.user(roles=["fitter"])
    login(build.user(roles=["coordinator"]))
    data = {"fitter_id": fitter.id, "scheduled_for": booking_day(), "window_starts": "09:00",
            "window_ends": "12:00"}
    empty = client.post(f"/jobs/collect/{case.id}", data=data)
    assert empty.status_code == 422 and "Choose at least one item to collect." in empty.get_data(as_text=True)
    assert client.post(f"/jobs/collect/{case.id}", data={**data, "item_ids": [alarm.id]}).status_code == 302
    twice = client.post(f"/jobs/collect/{case.id}", data={**data, "item_ids": [alarm.id]})
    assert twice.status_code == 422 and "already booked" in twice.get_data(as_text=True)
    assert len(db.session.scalars(select(Job).where(Job.kind == JobKind.COLLECTION)).all()) == 1


def test_a_case_with_nothing_out_has_nothing_to_book(client, login, build):
    login(build.user(roles=["coordinator"]))
    case = build.case()
    response = client.get(f"/jobs/collect/{case.id}", follow_redirects=True)
    assert "there is nothing to collect" in response.get_data(as_text=True)
    assert client.get("/jobs/collect/99999").status_code == 404


@pytest.mark.parametrize("role", ["fitter", "caseworker", "finance", "auditor", "admin"])
def test_only_coordinators_see_the_loans_and_book_collections(app, client, login, build, role):
    (case, _), = loans_due_now(build, app)
    login(roles=[role])
    assert client.get("/jobs/loans").status_code == 403
    assert client.get(f"/jobs/collect/{case.id}").status_code == 403


def test_another_fitter_cannot_open_a_collection_or_its_scanner(app, client, login, build):
    (case, items), = loans_due_now(build, app)
    job = build.collection(case=case, items=items)
    login(roles=["fitter"])
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/scan").status_code == 404
    assert client.post(f"/jobs/{job.id}/contact").status_code == 404


def test_the_loans_list_is_paged_and_its_query_count_does_not_grow_with_the_page(app, client, login, build):
    loans_due_now(build, app)
    login(build.user(roles=["coordinator"]))
    with recorded_selects() as one:
        client.get("/jobs/loans")
    for case, items in loans_due_now(build, app, count=3):
        build.collection(case=case, items=items)
    with recorded_selects() as many:
        page = client.get("/jobs/loans").get_data(as_text=True)
    assert page.count("Booked: job") == 3 and page.count("/jobs/collect/") == 1
    assert len(many) == len(one)


def test_loans_due_later_show_only_under_all(app, client, login, build):
    app.config["LOAN_PERIOD_DAYS"] = 60
    _, (alarm,) = build.handed_over()
    coordinator = login(build.user(roles=["coordinator"]))
    assert alarm.code not in client.get("/jobs/loans").get_data(as_text=True)
    assert alarm.code in client.get("/jobs/loans?show=all").get_data(as_text=True)
    with clock.frozen_at(clock.now() + timedelta(days=61)):
        login(coordinator)  # two months on, the session has long timed out
        overdue = client.get("/jobs/loans").get_data(as_text=True)
    assert alarm.code in overdue and "Overdue" in overdue


# The API ------------------------------------------------------------------------------------

def test_the_api_books_a_collection_and_the_fitter_closes_it(app, api, build):
    (case, (alarm,)), = loans_due_now(build, app)
    fitter = build.user(roles=["fitter"])
    made = api(roles=["coordinator"]).post("/jobs", json={
        "kind": "collection", "case_id": case.id, "item_ids": [alarm.id], "fitter_id": fitter.id,
        "scheduled_for": booking_day()})
    assert made.status_code == 201
    job = made.get_json()
    assert (job["kind"], job["case_id"], job["request_id"]) == ("collection", case.id, None)
    assert [(i["item_id"], i["state"]) for i in job["items"]] == [(alarm.id, "issued")]
    as_fitter = api(user=fitter)
    assert as_fitter.get(f"/jobs/{job['id']}").get_json() == job
    issue = as_fitter.post("/scans", json={"action": "issue", "code": alarm.code, "job_id": job["id"]},
                           headers={"Idempotency-Key": "wrong-way"})
    assert issue.status_code == 409 and issue.get_json()["error"]["code"] == "collection_visit"
    done = as_fitter.post(f"/jobs/{job['id']}/complete",
                          json={"not_collected": [{"item_id": alarm.id, "reason": "declined"}]})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"


@pytest.mark.parametrize(("body", "fields"), [
    ({"kind": "collection"}, {"case_id", "item_ids", "fitter_id", "scheduled_for"}),
    ({"kind": "visit"}, {"kind"}),
    ({"kind": "collection", "item_ids": [1, "x"]}, {"item_ids"}),
])
def test_booking_a_collection_with_bad_input_is_a_422_naming_the_fields(api, body, fields):
    response = api(roles=["coordinator"]).post("/jobs", json=body)
    assert response.status_code == 422
    assert fields <= set(response.get_json()["error"]["details"]["fields"])


def test_a_second_collection_for_a_case_is_a_409_naming_the_first(app, api, build):
    (case, items), = loans_due_now(build, app)
    first = build.collection(case=case, items=items)
    response = api(roles=["coordinator"]).post("/jobs", json={
        "kind": "collection", "case_id": case.id, "item_ids": [items[0].id],
        "fitter_id": build.user(roles=["fitter"]).id, "scheduled_for": booking_day()})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "collection_already_booked" and error["details"]["job_id"] == first.id


def test_a_replayed_return_scan_on_a_collection_returns_the_first_answer(app, api, build):
    (case, (alarm,)), = loans_due_now(build, app)
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    body = {"action": "return", "code": alarm.code, "job_id": job.id, "condition": "needs_wipe"}
    first = api(user=fitter).post("/scans", json=body, headers={"Idempotency-Key": "once"})
    again = api(user=fitter).post("/scans", json=body, headers={"Idempotency-Key": "once"})
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert len(db.session.scalars(select(CollectionItem)).all()) == 1


def test_a_coordinator_can_book_a_collection_from_the_case_page(client, login, build):
    case, _ = build.handed_over()
    login(build.user(roles=["coordinator"]))
    assert f"/jobs/collect/{case.id}" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    client.post("/logout")
    login(build.caseworker(case.organisation))
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200 and f"/jobs/collect/{case.id}" not in page.get_data(as_text=True)


def test_opening_the_booking_form_for_a_case_already_booked_goes_to_that_visit(app, client, login, build):
    (case, items), = loans_due_now(build, app)
    job = build.collection(case=case, items=items)
    login(build.user(roles=["coordinator"]))
    response = client.get(f"/jobs/collect/{case.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert "already booked: job" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_the_booking_form_offers_the_usual_window(app, client, login, build):
    app.config["JOB_WINDOW_DEFAULT"] = ("13:30", "16:00")
    (case, _), = loans_due_now(build, app)
    login(build.user(roles=["coordinator"]))
    page = client.get(f"/jobs/collect/{case.id}").get_data(as_text=True)
    assert 'value="13:30"' in page and 'value="16:00"' in page
