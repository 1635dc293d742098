"""On a 390 × 844 phone: the queue is a column of cards (no sideways scroll, every request's
"Why" in full), and a table that must scroll sideways inside its box can be reached and
scrolled with the keyboard. Screenshots go to test-artifacts/."""
from tests.browser.pages import ARTIFACTS, sign_in

# Elements reaching past the right edge, leaving out what is hidden on purpose inside a
# 1 px clipped box (the visually hidden column headings, still read by screen readers).
WIDEST_ELEMENT = """() => {
  const width = document.documentElement.clientWidth;
  const hidden = e => { for (; e; e = e.parentElement) {
    const box = e.getBoundingClientRect();
    if (box.width <= 1 && getComputedStyle(e).overflow === "hidden") return true; } return false; };
  return [...document.querySelectorAll("body *")]
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, box]) => box.width > 0 && box.right > width + 0.5 && !hidden(e))
    .map(([e, box]) => `${e.tagName}.${e.className} ${Math.round(box.left)}..${Math.round(box.right)}`);
}"""

SCROLLING_REGIONS = """() => [...document.querySelectorAll(".table-wrap")]
  .filter(wrap => wrap.scrollWidth > wrap.clientWidth)
  .map(wrap => [wrap.getAttribute("tabindex"), wrap.getAttribute("role"), wrap.getAttribute("aria-label")])"""


def test_the_queue_on_a_phone_is_cards_with_no_sideways_scroll_and_every_why_in_full(live_server, phone, build):
    long_name = build.organisation(name="North Staffordshire Domestic Abuse and Stalking Advocacy Partnership")
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    raised = [
        build.equipment_request(case=build.case(organisation=long_name, risk_level="high",
                                                flags=["address_known", "recent_escalation", "vulnerability"]),
                                lines=[(doorbell, 1)]),
        build.equipment_request(case=build.case(risk_level="medium", flags=["children", "lives_alone"])),
        build.equipment_request(case=build.case(risk_level="standard")),
    ]
    coordinator = build.user(roles=["coordinator"])

    sign_in(phone, live_server, coordinator)
    phone.goto(f"{live_server}/queue")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert phone.evaluate(WIDEST_ELEMENT) == [], phone.evaluate(WIDEST_ELEMENT)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "phone-queue-cards.png"), full_page=True)
    for request in raised:
        card = phone.locator("tr", has=phone.get_by_role("link", name=request.case.reference))
        why = card.locator(".score-parts")
        assert why.is_visible()
        # Each part of the score is shown whole, inside the screen.
        for part in why.locator("li").all():
            box = part.bounding_box()
            assert part.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390, part.inner_text()
        # headed "Why" on the card (the column headings are hidden at this width)
        assert why.evaluate("e => getComputedStyle(e.closest('td'), '::before').content") == '"Why"'
    assert "Perpetrator knows or has visited the home address" in phone.get_by_role("main").inner_text()


def test_a_table_that_scrolls_sideways_on_a_phone_takes_focus_and_is_named(live_server, phone, build):
    build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(name="Personal safety alarm with fall detection and GPS", standard_cost_pence=2_500)
    raised = build.equipment_request(lines=[(alarm, 2)])
    coordinator = build.user(roles=["coordinator"])
    finance = build.user(roles=["finance"])

    sign_in(phone, live_server, coordinator)
    phone.goto(f"{live_server}/requests/{raised.id}")
    assert "What the decision weighs" in phone.get_by_role("main").inner_text()
    regions = phone.evaluate(SCROLLING_REGIONS)
    assert all(tabindex == "0" and role == "region" and label for tabindex, role, label in regions), regions
    phone.context.clear_cookies()
    sign_in(phone, live_server, finance)
    phone.goto(f"{live_server}/budget")
    regions = phone.evaluate(SCROLLING_REGIONS)
    assert regions, "the budget's tables scroll sideways at 390 px"
    assert all(tabindex == "0" and role == "region" and label for tabindex, role, label in regions), regions
    phone.keyboard.press("Tab")  # the page is usable from the keyboard: focus moves on, nothing breaks
