import re

import pytest
from sqlalchemy import select

from inventory.extensions import db
from inventory.requests.models import EquipmentRequest, RequestEvent


def test_a_caseworker_raises_a_request_from_the_case_page(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    alarm = build.item_type(name="Personal alarm")
    build.item_type(name="Retired gadget", active=False)
    form = client.get(f"/cases/{case.id}/requests/new").get_data(as_text=True)
    assert "Personal alarm" in form and "Retired gadget" not in form
    response = client.post(f"/cases/{case.id}/requests/new",
                           data={f"qty_{alarm.id}": "2", "reason": "Followed home twice this week.",
                                 "need_confirmed": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    raised = db.session.scalar(select(EquipmentRequest))
    assert [(line.item_type_id, line.quantity) for line in raised.lines] == [(alarm.id, 2)]


@pytest.mark.parametrize("quantity, message", [
    ("-1", "Between 0 and 20: more for one household is taken as a typo."),
    ("500", "Between 0 and 20: more for one household is taken as a typo."), ("lots", "Not a valid integer value."),
    ("0", "Ask for at least one item."), ("", "Ask for at least one item."),
])
def test_bad_quantities_are_shown_on_the_form_and_nothing_is_saved(client, build, login, quantity, message):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    alarm = build.item_type()
    response = client.post(f"/cases/{case.id}/requests/new", data={f"qty_{alarm.id}": quantity, "reason": "x",
                                                                            "need_confirmed": "y"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(EquipmentRequest.id)) is None


def test_a_closed_case_refuses_a_request_on_the_form(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, closed=True)
    alarm = build.item_type()
    response = client.post(f"/cases/{case.id}/requests/new", data={f"qty_{alarm.id}": "1", "reason": "x",
                                                                            "need_confirmed": "y"})
    assert response.status_code == 422
    assert "This case is closed." in response.get_data(as_text=True)


def test_another_organisations_case_has_no_request_form(client, build, login):
    login(build.caseworker())
    theirs = build.case(organisation=build.organisation())
    assert client.get(f"/cases/{theirs.id}/requests/new").status_code == 404


def test_the_request_page_shows_history_comments_and_escapes_markup(client, build, login):
    raised = build.equipment_request(reason="<img src=x onerror=alert(1)> needs alarm")
    coordinator = login(build.user(roles=["coordinator"]))
    client.post(f"/requests/{raised.id}/comments", data={"body": "<script>x()</script>"})
    client.post(f"/requests/{raised.id}/actions/request_info", data={"reason": "Which window?"})
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>x()</script>" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "Which window?" in page and coordinator.name in page
    assert "request info" in page


def test_a_caseworker_answers_and_resubmits_then_sees_the_rejection_on_their_list(client, build, login):
    caseworker = build.caseworker()
    raised = build.equipment_request(caseworker=caseworker, case=build.case(caseworker=caseworker))
    coordinator = build.user(roles=["coordinator"])
    login(coordinator)
    client.post(f"/requests/{raised.id}/actions/request_info", data={"reason": "Landlord consent?"})
    client.post("/logout")
    login(caseworker)
    assert client.post(f"/requests/{raised.id}/actions/resubmit", data={"reason": "Given."}).status_code == 302
    client.post("/logout")
    login(coordinator)
    client.post(f"/requests/{raised.id}/actions/reject",
                data={"declined_as": "unsuitable", "reason": "Fitted by the council last week."})
    client.post("/logout")
    login(caseworker)
    listing = client.get("/requests").get_data(as_text=True)
    assert "Rejected" in listing and "Fitted by the council last week." in listing
    assert "declined as unsuitable" in listing


def test_a_reject_without_a_reason_changes_nothing(client, build, login):
    raised = build.equipment_request()
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{raised.id}/actions/reject", data={"declined_as": "other", "reason": "  "})
    assert response.status_code == 422
    assert "Required." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, raised.id).state == "submitted"
    assert [event.action for event in db.session.scalars(select(RequestEvent))] == ["submit"]


def test_the_case_page_lists_its_requests_for_those_who_see_its_details(client, build, login):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    first, second = build.equipment_request(case=case), build.equipment_request(case=case)
    build.equipment_request()  # another case's
    login(caseworker)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert re.findall(r"Request (\d+)</a>", page) == [str(second.id), str(first.id)]


def test_editing_a_decided_request_is_refused_on_the_page(client, build, login):
    caseworker = build.caseworker()
    raised = build.equipment_request(caseworker=caseworker, case=build.case(caseworker=caseworker))
    login(build.user(roles=["coordinator"]))
    client.post(f"/requests/{raised.id}/actions/reject", data={"declined_as": "ineligible", "reason": "No."})
    client.post("/logout")
    login(caseworker)
    response = client.post(f"/requests/{raised.id}/edit",
                           data={f"qty_{raised.lines[0].item_type_id}": "3", "reason": "More please"})
    assert response.status_code == 409
    assert "can no longer change" in response.get_data(as_text=True)


def test_the_queue_page_shows_scores_parts_and_a_written_move(client, build, login):
    raised = build.equipment_request(case=build.case(risk_level="high", flags=["address_known"]))
    login(build.user(roles=["coordinator"]))
    page = client.get("/queue").get_data(as_text=True)
    assert raised.case.reference in page and "High risk" in page
    assert "Perpetrator knows or has visited the home address" in page
    client.post(f"/requests/{raised.id}/priority", data={"points": "100", "reason": "Court date moved up."})
    assert "Moved up by a coordinator" in client.get("/queue").get_data(as_text=True)
    assert "Court date moved up." in client.get(f"/requests/{raised.id}").get_data(as_text=True)


def test_a_move_without_a_reason_is_refused(client, build, login):
    raised = build.equipment_request()
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{raised.id}/priority", data={"points": "100", "reason": ""},
                           follow_redirects=True)
    assert "Required." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, raised.id).manual_adjustment == 0


@pytest.mark.parametrize("role, status", [
    ("coordinator", 200), ("caseworker", 403), ("finance", 403), ("auditor", 403), ("admin", 403), ("fitter", 403),
])
def test_only_coordinators_see_the_queue(client, build, login, role, status):
    login(build.user(roles=[role]))
    assert client.get("/queue").status_code == status


def test_bad_queue_filters_are_a_clear_error_not_a_crash(client, build, login):
    login(build.user(roles=["coordinator"]))
    assert client.get("/queue?risk_level=extreme&organisation_id=abc").status_code == 422
    assert client.get(f"/queue?item_type_id={2**64}").status_code == 422


def test_a_coordinator_approves_from_the_request_page_and_sees_what_awaits_stock(client, build, login):
    build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
    build.items(1, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 2)])
    login(build.user(roles=["coordinator"]))
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "Approve" in page and f'name="line_{raised.lines[0].id}"' in page
    response = client.post(f"/requests/{raised.id}/approve", data={f"line_{raised.lines[0].id}": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "Suggested purchase order lines" in page and "1 × Personal alarm" in page


def test_over_budget_the_page_shows_available_and_needed_and_offers_the_part_that_fits(client, build, login):
    build.budget_period(allocated_pence=3000)
    alarm = build.item_type(standard_cost_pence=2500)
    raised = build.equipment_request(lines=[(alarm, 2)])
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{raised.id}/approve", data={f"line_{raised.lines[0].id}": "2"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "£50.00 needed for what stock does not cover, £30.00 available." in page
    [field] = re.findall(rf'<input[^>]*name="line_{raised.lines[0].id}"[^>]*>', page)
    assert 'value="1"' in field  # the part that fits, offered
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, raised.id).state == "submitted"


def test_approving_part_without_a_note_is_shown_on_the_form(client, build, login):
    build.budget_period(allocated_pence=100_000)
    raised = build.equipment_request(lines=[(build.item_type(), 2)])
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{raised.id}/approve", data={f"line_{raised.lines[0].id}": "1"})
    assert response.status_code == 422
    assert "Required." in response.get_data(as_text=True)


def test_the_request_page_costs_the_same_few_queries_however_long_its_history(client, build, login):
    from tests.support import recorded_selects

    raised = build.equipment_request(lines=[(build.item_type(), 1), (build.item_type(), 2)])
    login(build.user(roles=["coordinator"]))
    client.post(f"/requests/{raised.id}/comments", data={"body": "first"})
    with recorded_selects() as few:
        client.get(f"/requests/{raised.id}")
    for n in range(5):
        login(build.user(roles=["coordinator"]))
        client.post(f"/requests/{raised.id}/comments", data={"body": f"comment {n}"})
        client.post(f"/requests/{raised.id}/priority", data={"points": "10", "reason": f"nudge {n}"})
    with recorded_selects() as many:
        client.get(f"/requests/{raised.id}")
    assert len(many) == len(few)


def test_the_queue_shows_what_the_budget_has_left(client, build, login):
    login(build.user(roles=["coordinator"]))
    assert "No budget period covers today" in client.get("/queue").get_data(as_text=True)
    build.budget_period(allocated_pence=123_400)
    assert "£1,234.00" in client.get("/queue").get_data(as_text=True)


def _labels(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]


def test_each_box_in_what_next_has_a_label_of_its_own(client, build, login):
    raised = build.equipment_request()
    login(build.user(roles=["coordinator"]))
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    labels = [label for label in _labels(page) if label]
    assert "What the caseworker needs to tell you (they see this)" in labels
    assert "Why it is rejected (the caseworker sees this)" in labels
    assert len(labels) == len(set(labels)), labels
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(ids)


def test_the_request_page_shows_what_the_decision_needs_as_the_queue_does(client, build, login):
    build.budget_period(allocated_pence=123_400)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
    lock = build.item_type(name="Window lock", standard_cost_pence=1200)
    build.items(3, item_type=alarm)
    raised = build.equipment_request(case=build.case(risk_level="high", flags=["address_known", "children"]),
                                     lines=[(alarm, 2), (lock, 4)])
    login(build.user(roles=["coordinator"]))
    queue = client.get("/queue").get_data(as_text=True)
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    section = page[page.index('id="decision-heading"'):page.index("</section>", page.index('id="decision-heading"'))]
    [why] = re.findall(r'<ul class="score-parts">.*?</ul>', queue, re.S)
    assert why in section  # the same parts, worked out the same way
    [score] = re.findall(r'<td class="num"[^>]*><strong>(\d+)</strong></td>', queue)
    assert f"<strong>{score}</strong>" in section
    assert "Perpetrator knows or has visited the home address" in section and "Children in the household" in section
    assert "£98.00" in section  # 2 × £25 + 4 × £12
    assert "Covered" in section and "Short by 4" in section
    assert "£1,234.00" in section


def test_a_caseworker_sees_the_score_but_not_the_budget_on_their_request(client, build, login):
    build.budget_period(allocated_pence=123_400)
    caseworker = login(build.caseworker())
    raised = build.equipment_request(case=build.case(caseworker=caseworker, flags=["lives_alone"]))
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "What the decision weighs" in page and "Lives alone" in page
    assert "£1,234.00" not in page and "Budget left" not in page


def test_a_decided_request_no_longer_shows_what_the_decision_weighs(client, build, login):
    raised = build.approved_request()
    login(build.user(roles=["coordinator"]))
    assert "What the decision weighs" not in client.get(f"/requests/{raised.id}").get_data(as_text=True)


def test_the_request_form_shows_what_will_score_and_refuses_until_it_is_confirmed(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, risk_level="high", flags=["address_known", "lives_alone"])
    alarm = build.item_type(name="Personal alarm")
    form = client.get(f"/cases/{case.id}/requests/new").get_data(as_text=True)
    assert "What will score" in form and "High risk" in form
    assert "Perpetrator knows or has visited the home address" in form and "Lives alone" in form
    assert f'href="/cases/{case.id}/edit"' in form
    response = client.post(f"/cases/{case.id}/requests/new", data={f"qty_{alarm.id}": "1", "reason": "x"})
    assert response.status_code == 422
    assert ("Confirm the case&#39;s risk level and need flags are current, or correct them on the case first"
            in response.get_data(as_text=True))
    assert db.session.scalar(select(EquipmentRequest.id)) is None


def test_the_request_form_fields_come_in_the_order_the_page_shows_them(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    window = build.item_type(name="Window alarm")  # made first, listed last
    doorbell = build.item_type(name="Camera doorbell")
    form = client.get(f"/cases/{case.id}/requests/new").get_data(as_text=True)
    ids = re.findall(r'<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', form)
    assert ids == ["need_confirmed", f"qty_{doorbell.id}", f"urgent_{doorbell.id}", f"qty_{window.id}",
                   f"urgent_{window.id}", "reason", "needed_by"]
    response = client.post(f"/cases/{case.id}/requests/new", data={f"qty_{window.id}": "50", "reason": ""})
    errors = re.findall(r'id="([^"]+)-error"', response.get_data(as_text=True))
    assert errors == ["need_confirmed", f"qty_{window.id}"]


def test_the_request_form_says_its_limits_and_takes_every_item_it_lists(client, build, login):
    from inventory.requests.operations import MAX_LINES

    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    offered = [build.item_type(name=f"Item {n:02d}") for n in range(11)]
    form = client.get(f"/cases/{case.id}/requests/new").get_data(as_text=True)
    assert (f"At most 20 of any one item (more for one household is taken as a typo), and at most {MAX_LINES} "
            "different items in one request.") in form
    response = client.post(f"/cases/{case.id}/requests/new", data={
        **{f"qty_{item_type.id}": "1" for item_type in offered}, "reason": "Moving to a new flat.",
        "need_confirmed": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(db.session.scalar(select(EquipmentRequest)).lines) == 11
    response = client.post(f"/cases/{case.id}/requests/new", data={f"qty_{offered[0].id}": "21", "reason": "x",
                                                                    "need_confirmed": "y"})
    assert "Between 0 and 20: more for one household is taken as a typo." in response.get_data(as_text=True)
