"""At a desk: a caseworker marks the most urgent items on a request; the coordinator's
approval over budget is refused with one pair of figures and the part that fits filled in.
Screenshots of both pages go to test-artifacts/."""
from tests.browser.pages import ARTIFACTS, fits_the_width, sign_in


def test_urgent_items_are_marked_and_an_over_budget_approval_offers_the_part_that_fits(live_server, desk, build):
    build.budget_period(allocated_pence=12_000)
    build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    build.item_type(name="PIR light", standard_cost_pence=4_000)
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    coordinator = build.user(roles=["coordinator"])  # made before the server writes (one SQLite writer)
    errors = []
    desk.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(desk, live_server, caseworker)
    desk.goto(f"{live_server}/cases/{case.id}/requests/new")
    desk.get_by_label("Personal alarm", exact=True).fill("2")
    desk.get_by_label("Camera doorbell", exact=True).fill("1")
    desk.get_by_label("PIR light", exact=True).fill("1")
    desk.get_by_label("Most urgent: Camera doorbell").check()
    desk.get_by_label("The risk level and need flags above are current for this survivor").check()
    assert fits_the_width(desk)
    ARTIFACTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(ARTIFACTS / "desk-request-form-urgent.png"), full_page=True)
    desk.get_by_label("Why are these needed?").fill("Followed home twice this week.")
    desk.get_by_role("button", name="Send to the queue").click()
    desk.wait_for_url(f"{live_server}/requests/*")
    assert "1 × Camera doorbell (most urgent)" in desk.get_by_role("main").inner_text()
    request_url = desk.url

    desk.context.clear_cookies()
    sign_in(desk, live_server, coordinator)
    desk.goto(request_url)
    desk.get_by_role("button", name="Approve", exact=True).click()
    summary = desk.get_by_role("alert")
    assert summary.is_visible()
    text = " ".join(summary.inner_text().split())
    # The urgent doorbell first, then one alarm with what is left; the light and a second alarm do not fit.
    assert text.startswith("Not enough budget for this request: £180.00 needed for what stock does not cover, "
                           "£120.00 available. The part that fits: 1 × Camera doorbell, 1 × Personal alarm. "
                           "It leaves out 1 × PIR light, 1 × Personal alarm.")
    assert desk.get_by_label(f"{doorbell.name} (asked for 1, marked urgent)").input_value() == "1"
    assert desk.get_by_label("Personal alarm (asked for 2)").input_value() == "1"
    assert desk.get_by_label("PIR light (asked for 1)").input_value() == "0"
    assert fits_the_width(desk)
    desk.screenshot(path=str(ARTIFACTS / "desk-over-budget-refusal.png"), full_page=True)
    assert errors == []
