"""The fitter on a doorstep, on a phone held upright (390 x 844): Back never meets a
resubmission page, the first wedge scan counts, the address hides (on a tap, and by itself
when its time is up), and every tap target on the fitter's pages is at least 44 x 44 CSS px."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from playwright.sync_api import expect

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.extensions import db
from inventory.jobs.models import HANDOVER_CHECKS, CheckStage, JobItem
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.stock.models import Item
from tests.browser.pages import ARTIFACTS, fits_the_width, sign_in

REVEAL_SECONDS = 120
INTERACTIVE = "a[href], button, input:not([type=hidden]), select, textarea, summary"


@pytest.fixture
def app_overrides():
    return {"REVEAL_SECONDS": REVEAL_SECONDS}


def watch(page) -> dict[str, list]:
    """The page's script errors, and the method of every page it navigates to."""
    seen = {"errors": [], "navigations": []}
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request", lambda request: request.is_navigation_request()
            and seen["navigations"].append((request.method, request.url)))
    return seen


def reserved(job):
    db.session.rollback()  # see what the server's threads committed
    return list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == job.request_id)
                                   .order_by(Item.id)))


def reveals_logged() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AccessLogEntry))


def test_back_after_showing_the_address_or_a_refused_completion_lands_on_the_job(live_server, phone, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    seen = watch(phone)
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}")
    phone.get_by_role("button", name="Show address and phone").click()
    expect(phone.get_by_role("heading", name="Survivor's details")).to_be_visible()
    assert phone.url == f"{live_server}/jobs/{job.id}"  # redirected: the page is a GET

    seen["navigations"].clear()
    phone.get_by_role("link", name="Scan items to hand over").click()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}/scan")
    phone.go_back()
    expect(phone.get_by_role("heading", name="Survivor's details")).to_be_visible()
    phone.go_back()  # to the job page as it was before the reveal: shown again, not resent
    expect(phone.get_by_role("heading", name=f"Job {job.id}")).to_be_visible()
    assert all(method == "GET" for method, _ in seen["navigations"])
    assert reveals_logged() == 1

    # "Complete the job" with an item neither scanned nor given a reason: back to the job page.
    phone.goto(f"{live_server}/jobs/{job.id}")
    phone.get_by_role("button", name="Complete the job").click()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}#close-the-job")
    expect(phone.get_by_role("alert")).to_contain_text("Every item must be handed over, or have a reason")
    expect(phone.locator(".field-error")).to_contain_text("was not handed over: say why")
    seen["navigations"].clear()
    phone.get_by_role("link", name="Scan items to hand over").click()
    phone.wait_for_url(f"{live_server}/jobs/{job.id}/scan")
    phone.go_back()
    expect(phone.get_by_role("heading", name=f"Job {job.id}")).to_be_visible()
    phone.reload()
    expect(phone.get_by_role("button", name="Complete the job")).to_be_visible()
    assert all(method == "GET" for method, _ in seen["navigations"])
    assert seen["errors"] == []


def test_the_first_wedge_scan_counts_without_a_tap_and_the_camera_keeps_the_keyboard_down(live_server, phone,
                                                                                           build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(name="Personal alarm"), 2)])
    first, second = reserved(job)
    # A camera that films a blank canvas: the page runs as with a real one, and reads nothing.
    phone.add_init_script("navigator.mediaDevices.getUserMedia = () => "
                          "Promise.resolve(document.createElement('canvas').captureStream());")
    seen = watch(phone)
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}/scan")
    code_box = phone.get_by_label("Or type the code on the label")
    expect(code_box).to_be_focused()
    phone.keyboard.type(first.code)  # a keyboard-wedge scanner, before anyone touches the page
    phone.keyboard.press("Enter")
    results = phone.locator("#scan-results li")
    expect(results.first).to_contain_text("Issued: Personal alarm")
    expect(code_box).to_be_focused()
    expect(code_box).to_have_attribute("inputmode", "text")
    data = second.code.replace("-", "")
    slipped = data[:4] + ("B" if data[4] != "B" else "C") + data[5:]  # the fifth character mistyped
    phone.keyboard.type(slipped)
    phone.keyboard.press("Enter")
    read_as = f"{slipped[:4]}-{slipped[4:8]}-{slipped[8:12]}-{slipped[12:]}"
    expect(results.first).to_contain_text(f"typo somewhere: it was read as {read_as}")  # not "the last character"
    expect(code_box).to_be_focused()

    phone.get_by_role("button", name="Scan with camera").click()
    expect(phone.get_by_role("button", name="Stop camera")).to_be_visible()
    expect(code_box).to_be_focused()  # a wedge scanner still types here...
    expect(code_box).to_have_attribute("inputmode", "none")  # ...with no keyboard over the picture
    phone.keyboard.type(second.code)
    phone.keyboard.press("Enter")
    expect(results.first).to_contain_text("Issued: Personal alarm")
    expect(code_box).to_be_focused()
    code_box.click()  # a tap on the field asks for the keyboard
    expect(code_box).to_have_attribute("inputmode", "text")
    phone.get_by_role("button", name="Stop camera").click()
    expect(code_box).to_be_focused()
    expect(code_box).to_have_attribute("inputmode", "text")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 2
    assert seen["errors"] == []


def test_the_address_hides_on_a_tap_and_by_itself_when_its_time_is_up(live_server, phone, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    seen = watch(phone)
    phone.clock.install()
    sign_in(phone, live_server, fitter, with_the_keyboard=True)
    phone.goto(f"{live_server}/jobs/{job.id}")
    details = phone.get_by_role("heading", name="Survivor's details")
    reveal = phone.get_by_role("button", name="Show address and phone")

    reveal.click()
    expect(details).to_be_visible()
    expect(reveal).to_be_hidden()
    phone.get_by_role("button", name="Hide address and phone").click()
    phone.wait_for_load_state("load")
    expect(details).to_have_count(0)
    expect(phone.get_by_text("1 Example Row")).to_have_count(0)
    expect(reveal).to_be_visible()
    phone.go_back()  # Back does not bring them back either
    expect(phone.get_by_text("1 Example Row")).to_have_count(0)
    assert reveals_logged() == 1

    phone.goto(f"{live_server}/jobs/{job.id}")
    with clock.frozen_at(clock.now()) as revealed_at:
        reveal.click()
        expect(details).to_be_visible()
        phone.wait_for_load_state("load")  # the page's script has set its timer before time moves
        phone.clock.fast_forward((REVEAL_SECONDS - 5) * 1000)
        expect(details).to_be_visible()
        phone.clock.fast_forward(6 * 1000)
        expect(details).to_have_count(0)  # gone from the page, not merely covered
        expect(phone.get_by_text("1 Example Row")).to_have_count(0)
        expect(reveal).to_be_visible()
        expect(phone.get_by_role("status")).to_contain_text("hidden again")
    with clock.frozen_at(revealed_at + timedelta(seconds=REVEAL_SECONDS)):
        phone.reload()  # the server does not show them after their time either
        expect(reveal).to_be_visible()
        expect(phone.get_by_text("1 Example Row")).to_have_count(0)
    assert reveals_logged() == 2
    assert seen["errors"] == []


def small_targets(page) -> list[str]:
    """Every visible link, button and field smaller than 44 x 44 CSS px (a tick box is
    measured by its label, which takes the tap)."""
    small = []
    for element in page.locator(INTERACTIVE).all():
        if not element.is_visible():
            continue
        target = element
        if element.get_attribute("type") in ("checkbox", "radio"):
            target = element.locator("xpath=ancestor::label[1]")
        box = target.bounding_box()
        if box["width"] < 44 or box["height"] < 44:
            name = (element.text_content() or element.get_attribute("name") or "").strip()[:40]
            small.append(f"{page.url.removeprefix('http://')} {name!r} {box['width']:.0f}x{box['height']:.0f}")
    return small


def test_every_tap_target_on_the_fitters_pages_is_at_least_44_px_square(live_server, phone, build):
    fitter = build.user(roles=["fitter"])
    alarm = build.item_type(name="Personal alarm")
    doorbell = build.item_type(name="Camera doorbell", category="camera_doorbell", connected_device=True)
    install = build.job(fitter=fitter, lines=[(alarm, 1), (doorbell, 1)])
    # The checks before a connected device is issued are answered; those at install still show.
    build.handover_checks(install, fitter, checks=[c for c in HANDOVER_CHECKS if c.stage is CheckStage.BEFORE_ISSUE])
    build.job(fitter=fitter, scheduled_for=clock.today() + timedelta(days=1))
    case, loaned = build.handed_over(lines=[(alarm, 1)])
    collection = build.collection(case=case, items=loaned, fitter=fitter)
    deliver("checks", JobOutcome(notices=[Notice("check_doorstep", "thing:1", "A thing to look at.", "/jobs/mine",
                                                 user_ids=(fitter.id,))]),
            kinds=("check_doorstep",), now=clock.now())
    db.session.commit()
    bell = next(unit for unit in reserved(install) if unit.item_type_id == doorbell.id)
    seen = watch(phone)
    sign_in(phone, live_server, fitter, with_the_keyboard=True)

    phone.goto(f"{live_server}/jobs/{install.id}/scan")
    code_box = phone.get_by_label("Or type the code on the label")
    code_box.fill(bell.code)
    code_box.press("Enter")
    expect(phone.locator("#scan-results li").first).to_contain_text("Issued")  # its checklist is now due
    phone.goto(f"{live_server}/jobs/{install.id}")
    phone.get_by_role("button", name="Show address and phone").click()
    expect(phone.get_by_role("link", name="01632 960000")).to_be_visible()

    pages = ["/", "/jobs/mine", "/jobs/mine?show=upcoming", "/jobs/mine?show=done", f"/jobs/{install.id}",
             f"/jobs/{install.id}/scan", f"/jobs/{install.id}/scan?action=return", f"/jobs/{collection.id}",
             f"/jobs/{collection.id}/scan", "/jobs/scan", "/notifications", "/account"]
    small = []
    for path in pages:
        phone.goto(f"{live_server}{path}")
        assert fits_the_width(phone), path
        small += small_targets(phone)
        phone.get_by_role("button", name="Menu").click()  # and the menu, open
        small += small_targets(phone)
    assert small == [], "\n".join(small)
    ARTIFACTS.mkdir(exist_ok=True)
    for path, name in [(f"/jobs/{install.id}", "phone-job-page-targets.png"),
                       (f"/jobs/{install.id}/scan", "phone-scan-page-targets.png")]:
        phone.goto(f"{live_server}{path}")
        phone.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert seen["errors"] == []
