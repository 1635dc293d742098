"""Job pages through the test client: the whole journey, who sees what, and bad input."""
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.jobs import completion
from inventory.jobs.models import CHECKLIST_KEYS, HANDOVER_CHECKS, Job, JobItem
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.stock.models import Item, ItemState
from tests.support import recorded_selects, this_morning


def reserved(request_id):
    return list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == request_id)
                                   .order_by(Item.id)))


def scan(client, code, job_id, key):
    """Scan as the scan page's script does: the session cookie and the page's CSRF token."""
    page = client.get(f"/jobs/{job_id}/scan").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/api/v1/scans", json={"action": "issue", "code": code, "job_id": job_id},
                       headers={"Idempotency-Key": key, "X-CSRFToken": token})


def test_the_whole_journey_schedule_reveal_scan_three_with_a_swap_checklist_and_complete(client, login, build):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    alarm = build.item_type(name="Personal alarm")
    lock = build.item_type(name="Door lock", category="lock", loaned=False)
    doorbell = build.item_type(name="Camera doorbell", category="camera_doorbell", connected_device=True)
    request = build.approved_request(coordinator=coordinator, lines=[(alarm, 1), (lock, 1), (doorbell, 1)])
    shelf_alarm = build.item(item_type=alarm)  # the fitter will take this box instead

    login(coordinator)
    page = client.get(f"/jobs/schedule?request_id={request.id}")
    assert page.status_code == 200
    with clock.frozen_at(this_morning()):  # booked for today, before its window has passed
        booked = client.post("/jobs/schedule", data={
            "request_id": request.id, "fitter_id": fitter.id, "scheduled_for": clock.today().isoformat(),
            "window_starts": "10:00", "window_ends": "12:00"})
    assert booked.status_code == 302
    job = db.session.scalar(select(Job))
    client.post("/logout")

    login(fitter)
    mine = client.get("/jobs/mine").get_data(as_text=True)
    assert f"Job {job.id}" in mine and "10:00–12:00" in mine
    opened = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "1 Example Row" not in opened and "Show address and phone" in opened
    revealed = client.post(f"/jobs/{job.id}/contact")
    assert revealed.status_code == 303 and revealed.headers["Location"] == f"/jobs/{job.id}"
    shown = client.get(f"/jobs/{job.id}")
    assert "1 Example Row" in shown.get_data(as_text=True) and shown.headers["Cache-Control"] == "no-store"
    log = db.session.scalar(select(AccessLogEntry))
    assert (log.user_id, log.case_id) == (fitter.id, request.case_id)

    units = {unit.item_type_id: unit for unit in reserved(request.id)}
    swapped = scan(client, shelf_alarm.code, job.id, "k1")
    assert swapped.status_code == 200 and swapped.get_json()["swapped_for"] == units[alarm.id].code
    assert scan(client, units[lock.id].code, job.id, "k2").status_code == 200
    too_soon = scan(client, units[doorbell.id].code, job.id, "k3")
    assert too_soon.status_code == 409 and too_soon.get_json()["error"]["code"] == "checks_before_issue"
    answered = client.post(f"/jobs/{job.id}/handover", data={"h-phone_only_theirs": "done",
                                                             "h-safety_plan_current": "done"})
    assert answered.status_code == 302 and answered.headers["Location"] == f"/jobs/{job.id}#handover"
    bell = scan(client, units[doorbell.id].code, job.id, "k4")
    assert bell.get_json()["handover"]["checklist_required"] is True

    early = client.post(f"/jobs/{job.id}/complete", follow_redirects=True)
    assert "Finish the handover checklist first" in early.get_data(as_text=True)
    row = db.session.scalar(select(JobItem).where(JobItem.item_id == units[doorbell.id].id))
    ticked = client.post(f"/jobs/{job.id}/checklist/{row.id}", data={f"c{row.id}-{key}": "y" for key in CHECKLIST_KEYS})
    assert ticked.status_code == 302
    privacy = client.post(f"/jobs/{job.id}/complete", follow_redirects=True).get_data(as_text=True)
    assert "Answer every point of the handover first" in privacy and "Audio recording is turned off" in privacy
    no_microphone = {"h-audio_recording_off": "not_applicable"}
    client.post(f"/jobs/{job.id}/handover", data={**{f"h-{check.key}": "done" for check in HANDOVER_CHECKS[2:]},
                                                  **no_microphone})
    done = client.post(f"/jobs/{job.id}/complete")
    assert done.status_code == 302
    assert db.session.get(Job, job.id).status == "completed"
    assert db.session.get(EquipmentRequest, request.id).state == RequestState.FULFILLED
    assert db.session.get(Item, units[alarm.id].id).state == ItemState.IN_STOCK
    assert {db.session.get(Item, i).state for i in (shelf_alarm.id, units[lock.id].id, units[doorbell.id].id)} \
        == {ItemState.ISSUED}
    assert f"Job {job.id}" in client.get("/jobs/mine?show=done").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/jobs/{id}", "/jobs/{id}/scan", "/jobs/{id}/scan?action=return"])
def test_another_fitter_cannot_open_the_job_or_its_scan_page(client, login, build, path):
    job = build.job()
    login(build.user(roles=["fitter"]))
    assert client.get(path.format(id=job.id)).status_code == 404


@pytest.mark.parametrize("path", ["/jobs/{id}/contact", "/jobs/{id}/complete", "/jobs/{id}/checklist/1",
                                  "/jobs/{id}/handover"])
def test_another_fitter_cannot_post_to_the_job(client, login, build, path):
    job = build.job()
    login(build.user(roles=["fitter"]))
    assert client.post(path.format(id=job.id)).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 0


def reveals_logged():
    return db.session.scalar(select(func.count()).select_from(AccessLogEntry))


def test_revealing_the_address_logs_it_once_then_the_job_page_shows_it_for_a_while(app, client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    assert "1 Example Row" not in client.get(f"/jobs/{job.id}?reveal=1").get_data(as_text=True)
    assert reveals_logged() == 0  # a GET never reveals, so never logs
    revealed = client.post(f"/jobs/{job.id}/contact")
    assert revealed.status_code == 303 and revealed.headers["Location"] == f"/jobs/{job.id}"
    assert reveals_logged() == 1
    for _ in range(2):  # a reload, or Back from the scan page: shown again, not logged again
        page = client.get(f"/jobs/{job.id}")
        assert "1 Example Row" in page.get_data(as_text=True) and page.headers["Cache-Control"] == "no-store"
    assert reveals_logged() == 1
    with clock.frozen_at(clock.now() + timedelta(seconds=app.config["REVEAL_SECONDS"] + 1)):
        later = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "1 Example Row" not in later and "Show address and phone" in later


def test_hide_stops_showing_the_address_at_once_and_logs_nothing_more(client, login, build):
    fitter = build.user(roles=["fitter"])
    job, other = build.job(fitter=fitter), build.job(fitter=fitter)
    login(fitter)
    client.post(f"/jobs/{job.id}/contact")
    client.post(f"/jobs/{other.id}/contact")
    hidden = client.post(f"/jobs/{job.id}/contact/hide")
    assert hidden.status_code == 302 and hidden.headers["Location"] == f"/jobs/{job.id}"
    page = client.get(f"/jobs/{job.id}")
    text = page.get_data(as_text=True)
    assert "1 Example Row" not in text and "Show address and phone" in text and "data-hide-after" not in text
    assert re.search(r'<form[^>]*id="contact-reveal"[^>]*>', text).group(0).count("hidden") == 0
    assert "1 Example Row" in client.get(f"/jobs/{other.id}").get_data(as_text=True)  # that job's reveal stays
    assert reveals_logged() == 2


def test_the_revealed_address_carries_the_seconds_it_has_left_for_the_page_to_hide_it(app, client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    window = app.config["REVEAL_SECONDS"]
    with clock.frozen_at(clock.now()) as revealed_at:
        client.post(f"/jobs/{job.id}/contact")
        shown = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'data-hide-after="{window}"' in shown and "js/reveal.js" in shown
    assert re.search(r'<form[^>]*id="contact-reveal"[^>]*\bhidden\b', shown)  # shown by the script when time is up
    with clock.frozen_at(revealed_at + timedelta(seconds=window - 40)):
        assert 'data-hide-after="40"' in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    with clock.frozen_at(revealed_at + timedelta(seconds=window)):
        assert "1 Example Row" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_reveal_shows_on_that_job_only_and_not_once_the_job_is_closed(client, login, build):
    fitter = build.user(roles=["fitter"])
    job, other = build.job(fitter=fitter), build.job(fitter=fitter)
    login(fitter)
    client.post(f"/jobs/{job.id}/contact")
    assert "1 Example Row" not in client.get(f"/jobs/{other.id}").get_data(as_text=True)
    unit = reserved(job.request_id)[0]
    assert client.post(f"/jobs/{job.id}/complete", data={f"reason_{unit.id}": "not_home"}).status_code == 302
    assert "1 Example Row" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_signing_out_ends_a_reveal(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    client.post(f"/jobs/{job.id}/contact")
    client.post("/logout")
    login(fitter)
    assert "1 Example Row" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_completion_refused_after_it_began_writing_leaves_nothing_written(client, login, build, monkeypatch):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    unit = reserved(job.request_id)[0]

    def refuse(*_args, **_kwargs):
        raise Conflict("The request moved on meanwhile.")

    # The request refuses the last step, after the unit was recorded and released.
    monkeypatch.setattr(completion.requests, "advance_by_job", refuse)
    login(fitter)
    response = client.post(f"/jobs/{job.id}/complete", data={f"reason_{unit.id}": "not_home"})
    assert response.status_code == 302  # shown as a message on the job page
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "scheduled"
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 0
    assert db.session.get(Item, unit.id).state == ItemState.RESERVED
    assert "The request moved on meanwhile." in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_coordinator_sees_the_job_but_not_the_address(client, login, build):
    coordinator = build.user(roles=["coordinator"])
    job = build.job(coordinator=coordinator)
    login(coordinator)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Show address and phone" not in page and "Print labels for this job" in page
    assert client.post(f"/jobs/{job.id}/contact").status_code == 403


def test_the_address_is_not_shown_once_the_job_is_completed(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    unit = reserved(job.request_id)[0]
    client.post(f"/jobs/{job.id}/complete", data={f"reason_{unit.id}": "not_home"})
    assert client.post(f"/jobs/{job.id}/contact").status_code == 409


@pytest.mark.parametrize(("role", "path", "status"), [
    ("fitter", "/jobs/", 403), ("fitter", "/jobs/schedule", 403), ("fitter", "/jobs/mine", 200),
    ("fitter", "/jobs/scan", 200), ("coordinator", "/jobs/", 200), ("coordinator", "/jobs/schedule", 200),
    ("coordinator", "/jobs/scan?action=return", 200), ("caseworker", "/jobs/mine", 403),
    ("caseworker", "/jobs/scan", 403), ("finance", "/jobs/", 403), ("auditor", "/jobs/mine", 403),
    ("admin", "/jobs/", 403),
])
def test_job_pages_by_role(client, login, build, role, path, status):
    login(roles=[role])
    assert client.get(path).status_code == status


def test_completing_without_a_reason_goes_back_to_the_job_showing_the_item_that_needs_one(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    response = client.post(f"/jobs/{job.id}/complete")
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job.id}#close-the-job"
    assert db.session.get(Job, job.id).status == "scheduled"
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "was not handed over: say why" in page and 'class="error-summary"' in page
    again = client.get(f"/jobs/{job.id}").get_data(as_text=True)  # a reload: the errors were for one page
    assert "say why" not in again and 'class="error-summary"' not in again


def test_a_refused_completion_keeps_the_reasons_already_chosen(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(name="Personal alarm"), 2)])
    first, second = reserved(job.request_id)
    login(fitter)
    response = client.post(f"/jobs/{job.id}/complete", data={f"reason_{first.id}": "not_home"})
    assert response.status_code == 302
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f"{second.code} was not handed over: say why" in page
    assert f"{first.code} was not handed over" not in page
    chosen = re.search(rf'<select id="reason_{first.id}".*?</select>', page, re.S).group(0)
    assert '<option value="not_home" selected>' in chosen
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 0


@pytest.mark.parametrize("data", [{"reason_{id}": "no_such_reason"}, {"reason_99999": "not_home"}])
def test_a_completion_naming_an_unknown_reason_or_item_is_refused_with_nothing_written(client, login, build, data):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    [unit] = reserved(job.request_id)
    login(fitter)
    posted = {name.format(id=unit.id): value for name, value in data.items()}
    assert client.post(f"/jobs/{job.id}/complete", data=posted).status_code == 302
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Every item must be handed over, or have a reason why not." in page
    assert db.session.get(Job, job.id).status == "scheduled"
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 0


def test_a_half_ticked_checklist_is_refused_at_the_unticked_boxes(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(connected_device=True, category="cctv_camera"), 1)])
    build.handover_checks(job, fitter)
    login(fitter)
    scan(client, reserved(job.request_id)[0].code, job.id, "k")
    row = db.session.scalar(select(JobItem))
    response = client.post(f"/jobs/{job.id}/checklist/{row.id}", data={f"c{row.id}-account_in_own_name": "y"})
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job.id}#checklist-{row.id}"
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)  # the job page, as it was posted
    assert page.count("Tick this once it is done.") == 4
    assert re.search(rf'<input checked id="c{row.id}-account_in_own_name"', page)
    assert db.session.get(JobItem, row.id).checklist_done_at is None
    assert "Tick this once it is done." not in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_scheduling_bad_input_is_shown_at_the_field(client, login, build):
    request = build.approved_request()
    login(roles=["coordinator"])
    response = client.post("/jobs/schedule", data={"request_id": request.id, "fitter_id": "",
                                                   "scheduled_for": "2001-01-01", "window_starts": "12:00",
                                                   "window_ends": "11:00"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def afternoon():
    """Today at 15:00 UTC: 15:00 or 16:00 in London."""
    return datetime.combine(clock.today(), time(15), tzinfo=UTC)


def test_booking_a_window_that_has_already_passed_today_is_refused_with_why(client, login, build):
    request = build.approved_request()
    fitter = build.user(roles=["fitter"])
    with clock.frozen_at(afternoon()):
        login(roles=["coordinator"])  # signed in at that hour, so the session has not timed out by it
        response = client.post("/jobs/schedule", data={
            "request_id": request.id, "fitter_id": fitter.id, "scheduled_for": clock.today().isoformat(),
            "window_starts": "09:00", "window_ends": "12:00"})
        assert response.status_code == 422
        assert ("This window ended at 12:00 today: choose a later window or another day."
                in response.get_data(as_text=True))
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        later = client.post("/jobs/schedule", data={
            "request_id": request.id, "fitter_id": fitter.id, "scheduled_for": clock.today().isoformat(),
            "window_starts": "14:00", "window_ends": "18:00"})
        assert later.status_code == 302  # a window still open today is fine


def test_the_api_refuses_a_window_that_has_already_passed_today_naming_the_field(api, build):
    request = build.approved_request()
    fitter = build.user(roles=["fitter"])
    with clock.frozen_at(afternoon()):
        response = api(roles=["coordinator"]).post("/jobs", json={
            "request_id": request.id, "fitter_id": fitter.id, "scheduled_for": clock.today().isoformat()})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {
        "window_ends": "This window ended at 12:00 today: choose a later window or another day."}


def test_the_booking_form_starts_with_the_usual_window(app, client, login, build):
    app.config["JOB_WINDOW_DEFAULT"] = ("13:30", "16:00")
    request = build.approved_request()
    login(roles=["coordinator"])
    form = client.get(f"/jobs/schedule?request_id={request.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="window_starts"[^>]*value="13:30"', form)
    assert re.search(r'<input[^>]*id="window_ends"[^>]*value="16:00"', form)


@pytest.mark.parametrize("chosen", ["99999999999999999999999", "x", "-1"])
def test_the_scheduling_form_ignores_a_request_id_that_names_nothing(client, login, build, chosen):
    build.approved_request()
    login(roles=["coordinator"])
    assert client.get(f"/jobs/schedule?request_id={chosen}").status_code == 200


def test_the_scan_page_carries_what_the_scanner_script_needs_and_no_inline_script(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    html = client.get(f"/jobs/{job.id}/scan").get_data(as_text=True)
    for element in ('id="scanner"', 'data-action="issue"', f'data-job-id="{job.id}"', 'id="scan-form"',
                    'id="scan-code"', 'id="scan-results"', 'id="scan-status"', 'id="scan-camera"',
                    'id="scan-video"', 'id="scan-pending"', 'data-api="/api/v1/scans"'):
        assert element in html
    assert html.index("vendor/jsqr/jsQR.js") < html.index("js/scanner.js")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "onclick" not in html
    returning = client.get(f"/jobs/{job.id}/scan?action=return").get_data(as_text=True)
    assert 'data-action="return"' in returning and 'data-scan-field="condition"' in returning


def test_my_jobs_runs_the_same_number_of_queries_for_one_job_or_many(client, login, build):
    fitter = build.user(roles=["fitter"])
    build.job(fitter=fitter)
    login(fitter)
    with recorded_selects() as one:
        client.get("/jobs/mine")
    for _ in range(3):
        build.job(fitter=fitter, lines=[(build.item_type(), 2)])
    with recorded_selects() as many:
        page = client.get("/jobs/mine")
    assert page.get_data(as_text=True).count("job-card") >= 4
    assert len(many) == len(one)


def test_the_demo_job_links_to_printable_labels_for_its_items(app, client):
    from inventory.demo import DEMO_PASSWORD, seed_demo

    seed_demo()
    job = db.session.scalar(select(Job))
    client.post("/login", data={"email": "coordinator@demo.example", "password": DEMO_PASSWORD})
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    link = re.search(r'href="(/stock/labels/print\?[^"]+)"', page).group(1).replace("&amp;", "&")
    labels = client.get(link)
    assert labels.status_code == 200
    printed = re.sub(r"</span><span>", "", labels.get_data(as_text=True))
    codes = [item.code for item in db.session.scalars(select(Item).where(
        Item.reserved_for_request_id == job.request_id))]
    assert len(codes) == 2 and all(code in printed for code in codes)
    client.post("/logout")
    client.post("/login", data={"email": "fitter@demo.example", "password": DEMO_PASSWORD})
    assert f"Job {job.id}" in client.get("/jobs/mine").get_data(as_text=True)


def test_a_coordinator_takes_an_item_back_at_the_office_from_the_scan_page(client, login, build):
    coordinator = build.user(roles=["coordinator"])
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    unit = reserved(job.request_id)[0]
    login(fitter)
    scan(client, unit.code, job.id, "out")
    client.post("/logout")
    login(coordinator)
    page = client.get("/jobs/scan?action=return").get_data(as_text=True)
    assert 'data-action="return"' in page and "Take back at the office" in page
    assert "data-job-id" not in page
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    back = client.post("/api/v1/scans", json={"action": "return", "code": unit.code, "condition": "good"},
                       headers={"X-CSRFToken": token})
    assert back.status_code == 200 and back.get_json()["item_url"] == f"/stock/items/{unit.id}"
    assert db.session.get(Item, unit.id).state == ItemState.IN_STOCK


def test_the_coordinators_job_list_costs_the_same_queries_for_one_job_or_many(client, login, build):
    coordinator = build.user(roles=["coordinator"])
    build.job(coordinator=coordinator)
    login(coordinator)
    with recorded_selects() as one:
        client.get("/jobs/")
    for _ in range(3):
        build.job(coordinator=coordinator)
    with recorded_selects() as many:
        page = client.get("/jobs/").get_data(as_text=True)
    assert page.count("/jobs/") >= 4
    assert len(many) == len(one)


def test_an_approved_requests_page_offers_the_coordinator_to_book_the_visit(client, login, build):
    coordinator = build.user(roles=["coordinator"])
    request = build.approved_request(coordinator=coordinator)
    login(coordinator)
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert f'href="/jobs/schedule?request_id={request.id}"' in page
    schedule = client.get(f"/jobs/schedule?request_id={request.id}").get_data(as_text=True)
    assert f'<option selected value="{request.id}">' in schedule


def test_the_scheduling_form_offers_active_fitters_only_in_a_fixed_number_of_queries(client, login, build):
    build.approved_request()
    fitters = [build.user(roles=["fitter"]) for _ in range(3)]
    gone = build.user(roles=["fitter"], active=False)
    other = build.user(roles=["caseworker"])
    login(roles=["coordinator"])
    with recorded_selects() as few:
        client.get("/jobs/schedule")
    build.user(roles=["fitter"])
    with recorded_selects() as more:
        page = client.get("/jobs/schedule").get_data(as_text=True)
    assert all(f">{fitter.name}</option>" in page for fitter in fitters)
    assert f">{gone.name}<" not in page and f">{other.name}<" not in page
    assert len(more) == len(few)
