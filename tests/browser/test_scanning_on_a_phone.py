"""A fitter on a phone types codes into the scan page: confirmation on screen, and scans made
with no signal (or whose answer was lost) are sent later without issuing anything twice."""
from sqlalchemy import func, select

from playwright.sync_api import expect

from inventory.extensions import db
from inventory.jobs.models import JobItem
from inventory.stock.models import Item, ItemState
from tests.browser.pages import ARTIFACTS, sign_in


def issued_rows():
    db.session.rollback()  # see what the server's threads committed
    return db.session.scalar(select(func.count()).select_from(JobItem))


def test_a_fitter_types_codes_sees_each_confirmation_and_offline_scans_are_sent_once(live_server, phone, build):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type(name="Personal alarm")
    job = build.job(fitter=fitter, lines=[(alarm, 3)])
    first, second, third = [item.code for item in db.session.scalars(
        select(Item).where(Item.reserved_for_request_id == job.request_id).order_by(Item.id))]
    stray = build.item(item_type=build.item_type(name="Window alarm"))
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}/scan")

    phone.wait_for_load_state()  # the scanner's script has run: Enter sends the code, not the form
    code_box = phone.get_by_label("Or type the code on the label")
    code_box.fill(first.lower())
    code_box.press("Enter")
    results = phone.locator("#scan-results li")
    expect(results.first).to_have_class("scan-result scan-result--ok")
    expect(results.first).to_contain_text("Issued: Personal alarm")
    expect(code_box).to_be_focused()  # ready for the next label
    expect(phone.locator("[data-expected-code]")).to_have_count(2)  # crossed off the list
    code_box.fill(first)
    code_box.press("Enter")
    expect(results.first).to_contain_text("Already scanned")  # the same item is not counted twice
    assert issued_rows() == 1
    code_box.fill(stray.code)
    code_box.press("Enter")
    expect(results.first).to_contain_text("which this job does not need")
    spoken = phone.locator("#scan-status").text_content()
    assert "need." in spoken and ".." not in spoken  # read out with one full stop, then the code

    # No signal: the scan is kept on the phone and sent when the connection is back.
    phone.context.set_offline(True)
    code_box.fill(second)
    code_box.press("Enter")
    expect(results.first).to_contain_text("Saved, not sent yet")
    expect(phone.locator("#scan-pending")).to_have_text("1 scan waiting to send")
    assert issued_rows() == 1
    phone.context.set_offline(False)
    expect(results.first).to_contain_text("Issued: Personal alarm")
    expect(phone.locator("#scan-pending")).to_be_hidden()
    assert issued_rows() == 2

    # The answer is lost on the way back: the retry carries the same key and changes nothing more.
    lost = []

    def drop_answer(route):
        route.fetch()  # the server does the work...
        lost.append(route.request.headers["idempotency-key"])
        route.abort()  # ...and the phone never hears back

    phone.route("**/api/v1/scans", drop_answer)
    code_box.fill(third)
    with phone.expect_event("requestfailed"):
        code_box.press("Enter")
    expect(phone.locator("#scan-status")).to_contain_text("No connection. The scan is kept")
    expect(phone.locator("#scan-pending")).to_have_text("1 scan waiting to send")
    assert issued_rows() == 3
    phone.unroute("**/api/v1/scans")
    with phone.expect_response("**/api/v1/scans") as answer:
        phone.evaluate("window.SafeHoldScanner.flush()")
    assert answer.value.status == 200 and answer.value.headers["idempotent-replayed"] == "true"
    assert answer.value.request.headers["idempotency-key"] == lost[0]
    expect(phone.locator("#scan-pending")).to_be_hidden()
    assert issued_rows() == 3
    assert db.session.scalar(select(func.count()).select_from(Item).where(Item.state == ItemState.ISSUED)) == 3
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-scan-page.png"), full_page=True)

    phone.get_by_role("link", name="Back to the job").click()
    phone.get_by_role("button", name="Show address and phone").click()
    expect(phone.get_by_role("heading", name="Survivor's details")).to_be_visible()
    phone.screenshot(path=str(ARTIFACTS / "phone-job-page.png"), full_page=True)
    # Back from the scan page: the job page again, its details still shown, no form resent.
    phone.get_by_role("link", name="Scan items to hand over").click()
    phone.go_back()
    expect(phone.get_by_role("heading", name="Survivor's details")).to_be_visible()
    phone.get_by_role("button", name="Complete the job").click()
    phone.wait_for_url(f"{live_server}/jobs/mine?show=done")
    expect(phone.locator(".job-card")).to_contain_text(f"Job {job.id}")
    phone.screenshot(path=str(ARTIFACTS / "phone-my-jobs-done.png"), full_page=True)
    assert errors == []


def test_a_fitter_on_a_collection_scans_a_loan_back_and_closes_with_a_reason_for_the_other(live_server, phone,
                                                                                         build):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type(name="Personal alarm")
    case, (back, kept) = build.handed_over(lines=[(alarm, 2)])
    job = build.collection(case=case, items=[back, kept], fitter=fitter)
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/mine")
    phone.get_by_text(f"Job {job.id}").click()
    expect(phone.get_by_role("heading", name=f"Job {job.id}: collection")).to_be_visible()
    phone.get_by_role("link", name="Scan items back in").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Scan items back in")
    phone.get_by_label("Condition it came back in").select_option("good")
    phone.wait_for_load_state()  # the scanner's script has run: Enter sends the code, not the form
    code_box = phone.get_by_label("Or type the code on the label")
    code_box.fill(back.code)
    code_box.press("Enter")
    results = phone.locator("#scan-results li")
    expect(results.first).to_have_class("scan-result scan-result--ok")
    expect(results.first).to_contain_text("Back in stock: Personal alarm")
    expect(phone.locator("[data-expected-code]")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-collection-scan.png"), full_page=True)

    phone.get_by_role("link", name="Back to the job").click()
    phone.get_by_label(f"Why was Personal alarm {kept.code} not collected?").select_option("declined")
    phone.screenshot(path=str(ARTIFACTS / "phone-collection-job.png"), full_page=True)
    phone.get_by_role("button", name="Complete the job").click()
    phone.wait_for_url(f"{live_server}/jobs/mine?show=done")
    db.session.rollback()
    assert db.session.get(Item, back.id).state == ItemState.IN_STOCK
    assert db.session.get(Item, kept.id).state == ItemState.ISSUED
    assert errors == []


def test_on_a_shared_phone_one_fitters_unsent_scans_wait_for_them_not_the_next_person(live_server, phone, build):
    first, second = build.user(roles=["fitter"]), build.user(roles=["fitter"])
    job = build.job(fitter=first)
    [unit] = db.session.scalars(select(Item).where(Item.reserved_for_request_id == job.request_id)).all()
    sign_in(phone, live_server, first, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}/scan")
    phone.route("**/api/v1/scans", lambda route: route.abort())  # no signal
    phone.wait_for_load_state()  # the scanner's script has run: Enter sends the code, not the form
    code_box = phone.get_by_label("Or type the code on the label")
    code_box.fill(unit.code)
    code_box.press("Enter")
    expect(phone.locator("#scan-pending")).to_have_text("1 scan waiting to send")
    phone.unroute("**/api/v1/scans")
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("button", name="Sign out").click()

    sent = []
    phone.on("request", lambda request: sent.append(request.url) if "/api/v1/scans" in request.url else None)
    sign_in(phone, live_server, second, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/scan")
    expect(phone.locator("#scan-pending")).to_be_hidden()
    phone.wait_for_timeout(300)
    assert sent == [] and issued_rows() == 0
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, live_server, first, with_the_keyboard=True)
    with phone.expect_response("**/api/v1/scans") as answer:
        phone.goto(f"{live_server}/jobs/{job.id}/scan")
    assert answer.value.status == 200
    expect(phone.locator("#scan-pending")).to_be_hidden()
    assert issued_rows() == 1


def test_a_web_address_outside_the_label_base_is_refused_on_the_phone_and_never_sent(live_server, app, phone,
                                                                                      build):
    app.config["LABEL_QR_URL_BASE"] = "https://stock.example.org/s/"
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    unit = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    sent = []
    phone.on("request", lambda request: sent.append(request.url) if "/api/v1/scans" in request.url else None)
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}/scan")
    phone.wait_for_load_state()
    code_box = phone.get_by_label("Or type the code on the label")
    code_box.fill(f"https://evil.example.com/s/{unit.code}")
    code_box.press("Enter")
    results = phone.locator("#scan-results li")
    expect(results.first).to_have_class("scan-result scan-result--refused")
    expect(results.first).to_contain_text("That is a web address, not a SafeHold label.")
    assert sent == [] and phone.evaluate("Object.keys(window.localStorage).filter(k => "
                                         "window.localStorage.getItem(k) !== '[]').length") == 0
    code_box.fill(f"https://stock.example.org/s/{unit.code}")
    code_box.press("Enter")
    expect(results.first).to_contain_text("Issued:")
