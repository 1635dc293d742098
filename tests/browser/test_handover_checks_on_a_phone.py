"""A fitter on a phone answers the widened handover: a camera scanned too soon is refused
with the reason, the checks before issue are tapped (big targets), the camera is handed
over, then the privacy points at install, and the job closes."""
from sqlalchemy import select

from playwright.sync_api import expect

from inventory.extensions import db
from inventory.jobs.models import CHECKS_BEFORE_ISSUE, HANDOVER_CHECKS, Job
from inventory.stock.models import Item
from tests.browser.pages import ARTIFACTS, fits_the_width, sign_in

AT_INSTALL = [check for check in HANDOVER_CHECKS if check not in CHECKS_BEFORE_ISSUE]


def answer(page, check, choice):
    page.get_by_role("group", name=check.label).locator("label", has_text=choice).tap()


def scan_camera(page, live_server, job, code):
    page.goto(f"{live_server}/jobs/{job.id}/scan")
    page.wait_for_load_state()
    code_box = page.get_by_label("Or type the code on the label")
    code_box.fill(code)
    code_box.press("Enter")
    return page.locator("#scan-results li").first


def test_a_fitter_taps_through_the_handover_on_a_phone_and_closes_the_job(live_server, phone, build):
    fitter = build.user(roles=["fitter"])
    camera_type = build.item_type(name="Camera doorbell", category="camera_doorbell", connected_device=True)
    job = build.job(fitter=fitter, lines=[(camera_type, 1)])
    camera = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(phone, live_server, fitter)

    refused = scan_camera(phone, live_server, job, camera.code)
    expect(refused).to_have_class("scan-result scan-result--refused")
    expect(refused).to_contain_text("answer the checks before issue on the job page")

    phone.goto(f"{live_server}/jobs/{job.id}")
    before = phone.locator("#handover")
    expect(before).to_contain_text("Why: The camera's app and alerts go to that phone")
    assert fits_the_width(phone)
    for target in phone.locator(".handover-answer").all():
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    answer(phone, CHECKS_BEFORE_ISSUE[0], "Done")
    answer(phone, CHECKS_BEFORE_ISSUE[1], "Done")
    before.get_by_role("button", name="Save these answers").tap()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}#handover")
    expect(phone.locator("body")).to_contain_text("Handover answers saved. 5 still to answer.")
    expect(phone.get_by_role("group", name=CHECKS_BEFORE_ISSUE[0].label).get_by_label("Done")).to_be_checked()

    expect(scan_camera(phone, live_server, job, camera.code)).to_contain_text("Issued: Camera doorbell")

    phone.goto(f"{live_server}/jobs/{job.id}")
    checklist = phone.locator("form.checklist")
    for box in checklist.locator("input[type=checkbox]").all():
        box.check()
    checklist.get_by_role("button", name="Checklist done").tap()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}")
    install = phone.locator("#handover-install")
    for check in AT_INSTALL:
        answer(phone, check, "Not applicable" if check.key == "audio_recording_off" else "Done")
    phone.screenshot(path=str(ARTIFACTS / "handover-checks-phone.png"), full_page=True)
    install.get_by_role("button", name="Save these answers").tap()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}#handover-install")
    expect(phone.locator("body")).to_contain_text("Every point is answered.")

    phone.get_by_role("button", name="Complete the job").tap()
    phone.wait_for_url(f"{live_server}/jobs/mine?show=done")
    db.session.rollback()  # see what the server's threads committed
    job = db.session.get(Job, job.id)
    assert job.status == "completed" and job.audio_recording_off == "not_applicable"
    assert job.unanswered() == [] and errors == []
