"""The home dashboards in a real browser: a fitter's on a phone held upright (390 x 844),
every tap target at least 44 x 44 CSS pixels and nothing wider than the screen; a
coordinator's at a desk and on a phone. Screenshots go to test-artifacts/."""
from datetime import timedelta

from inventory import clock
from tests.browser.pages import ARTIFACTS, fits_the_width, sign_in

TAP_TARGETS = "() => [...document.querySelectorAll('.dash a, .dash button')].filter(e => e.offsetParent)" \
              ".map(e => { const r = e.getBoundingClientRect();" \
              " return {text: e.textContent.trim().slice(0, 40), width: r.width, height: r.height}; })"


def watch_for_errors(page) -> list[str]:
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def test_a_fitter_sees_todays_visits_as_big_cards_on_a_phone_and_opens_one(live_server, phone, build):
    fitter = build.user(roles=["fitter"], name="Frankie Fitter")
    coordinator = build.user(roles=["coordinator"])
    today = build.job(fitter=fitter, coordinator=coordinator)
    build.job(fitter=fitter, coordinator=coordinator, scheduled_for=clock.today() + timedelta(days=1))
    errors = watch_for_errors(phone)

    sign_in(phone, live_server, fitter)
    assert phone.get_by_role("heading", name="My visits").is_visible()
    assert fits_the_width(phone)
    small = [target for target in phone.evaluate(TAP_TARGETS) if target["width"] < 44 or target["height"] < 44]
    assert small == []
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-fitter-home.png"), full_page=True)

    phone.get_by_role("link", name=f"Job {today.id}").first.click()
    phone.wait_for_url(f"{live_server}/jobs/{today.id}")
    assert errors == []


def test_a_coordinators_dashboard_fits_a_desk_and_a_phone(live_server, desk, phone, build):
    coordinator = build.user(roles=["coordinator"])
    build.awaiting_request(lines=[(build.item_type(), 2)])
    build.equipment_request(case=build.case(risk_level="high"))
    build.job(coordinator=coordinator)
    build.job(coordinator=coordinator, scheduled_for=clock.today() + timedelta(days=1))
    errors = watch_for_errors(desk)

    sign_in(desk, live_server, coordinator)
    assert desk.get_by_role("heading", name="Queue, stock and visits").is_visible()
    assert fits_the_width(desk)
    ARTIFACTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(ARTIFACTS / "desk-coordinator-home.png"), full_page=True)
    desk.get_by_role("link", name="High risk waiting").click()
    desk.wait_for_url(f"{live_server}/queue?risk_level=high")
    assert errors == []

    sign_in(phone, live_server, coordinator)
    assert fits_the_width(phone)
    small = [target for target in phone.evaluate(TAP_TARGETS) if target["width"] < 44 or target["height"] < 44]
    assert small == []
    phone.screenshot(path=str(ARTIFACTS / "phone-coordinator-home.png"), full_page=True)
