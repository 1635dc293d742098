"""Marking request lines most urgent (form and API), and the over-budget refusal as the
coordinator reads it on the request page."""
import re

from sqlalchemy import select

from inventory.extensions import db
from inventory.requests.models import EquipmentRequest


def test_the_request_form_marks_lines_most_urgent_and_the_edit_form_shows_the_marks(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    alarm, light = build.item_type(name="Personal alarm"), build.item_type(name="PIR light")
    form = client.get(f"/cases/{case.id}/requests/new").get_data(as_text=True)
    assert f'name="urgent_{alarm.id}"' in form and "Most urgent" in form
    response = client.post(f"/cases/{case.id}/requests/new", data={
        f"qty_{alarm.id}": "1", f"qty_{light.id}": "2", f"urgent_{light.id}": "y", "reason": "Followed home.",
        "need_confirmed": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    raised = db.session.scalar(select(EquipmentRequest))
    assert {line.item_type_id: line.urgent for line in raised.lines} == {alarm.id: False, light.id: True}
    edit = client.get(f"/requests/{raised.id}/edit").get_data(as_text=True)
    [box] = re.findall(rf'<input[^>]*name="urgent_{light.id}"[^>]*>', edit)
    assert "checked" in box
    page = client.get(f"/requests/{raised.id}").get_data(as_text=True)
    assert "2 × PIR light <strong>(most urgent)</strong>" in page


def test_the_api_takes_and_shows_urgent_lines(api, build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    alarm, light = build.item_type(), build.item_type()
    response = api(user=caseworker).post("/requests", json={
        "case_id": case.id, "reason": "Followed home.",
        "lines": [{"item_type_id": alarm.id, "quantity": 1},
                  {"item_type_id": light.id, "quantity": 1, "urgent": True}]})
    assert response.status_code == 201
    assert [line["urgent"] for line in response.get_json()["lines"]] == [False, True]


def test_an_urgent_mark_that_is_not_true_or_false_is_a_422_naming_it(api, build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    response = api(user=caseworker).post("/requests", json={
        "case_id": case.id, "reason": "x", "lines": [{"item_type_id": build.item_type().id, "quantity": 1,
                                                      "urgent": "very"}]})
    assert response.status_code == 422
    assert "lines[0].urgent" in response.get_json()["error"]["details"]["fields"]


def test_over_budget_the_request_page_states_one_pair_of_figures_and_offers_the_part_that_fits(client, build, login):
    build.budget_period(allocated_pence=8_000)
    alarm = build.item_type(name="Personal alarm", standard_cost_pence=2_500)
    doorbell = build.item_type(name="Camera doorbell", standard_cost_pence=9_000)
    light = build.item_type(name="PIR light", standard_cost_pence=4_000)
    build.items(1, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 2), (doorbell, 1), (light, 1)])
    login(build.user(roles=["coordinator"]))
    response = client.post(f"/requests/{raised.id}/approve", data={f"line_{line.id}": str(line.quantity)
                                                                   for line in raised.lines})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    [summary] = re.findall(r'<div class="error-summary".*?</div>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", summary).split())
    assert text == (
        "Not enough budget for this request: £155.00 needed for what stock does not cover, £80.00 available. "
        "The part that fits: 2 × Personal alarm, 1 × PIR light. It leaves out 1 × Camera doorbell. "
        "The quantities below are set to the part that fits, chosen by need: the lines marked most urgent first, "
        "then one of each item before a second of any, the cheapest first. Approving part needs a note for the "
        "caseworker.")
    offered = {line.id: re.search(rf'<input[^>]*name="line_{line.id}"[^>]*value="(\d+)"', page)[1]
               for line in raised.lines}
    assert offered == {raised.lines[0].id: "2", raised.lines[1].id: "0", raised.lines[2].id: "1"}
