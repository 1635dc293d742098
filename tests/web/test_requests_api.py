import pytest
from sqlalchemy import func, select

from inventory.budget.models import LedgerEntry
from inventory.extensions import db
from inventory.requests.models import EquipmentRequest, RequestEvent
from inventory.stock.models import Item


def test_a_caseworker_raises_a_request_through_the_api(api, build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    alarm = build.item_type(name="Personal alarm")
    response = api(user=caseworker).post("/requests", json={
        "case_id": case.id, "lines": [{"item_type_id": alarm.id, "quantity": 1}], "reason": "Being followed",
        "needed_by": "2099-01-01"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "submitted" and body["case_reference"] == case.reference
    assert body["lines"][0]["item_type"] == "Personal alarm"


@pytest.mark.parametrize("lines, field", [
    ([{"item_type_id": "ALARM", "quantity": 0}], "lines[0].quantity"),
    ([{"item_type_id": "ALARM", "quantity": -3}], "lines[0].quantity"),
    ([{"item_type_id": "ALARM", "quantity": 100000}], "lines[0].quantity"),
    ([{"item_type_id": "RETIRED", "quantity": 1}], "lines[0].item_type_id"),
    ([], "lines"),
    *[([{"item_type_id": "ALARM", "quantity": bad}], "lines[0].quantity") for bad in ("two", None, True, 1.5)],
    ([{"item_type_id": 2**64, "quantity": 1}], "lines[0].item_type_id"),
    ([{"item_type_id": "1", "quantity": 1}], "lines[0].item_type_id"),
    (["alarm"], "lines[0]"),
])
def test_bad_lines_are_a_422_naming_the_line(api, build, lines, field):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    ids = {"ALARM": build.item_type().id, "RETIRED": build.item_type(active=False).id}
    lines = [{**line, "item_type_id": ids.get(line["item_type_id"], line["item_type_id"])}
             if isinstance(line, dict) else line for line in lines]
    response = api(user=caseworker).post("/requests", json={"case_id": case.id, "lines": lines, "reason": "x"})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert db.session.scalar(select(EquipmentRequest.id)) is None


@pytest.mark.parametrize("which", ["closed", "other_organisation"])
def test_a_request_for_a_closed_or_someone_elses_case_is_a_422(api, build, which):
    caseworker = build.caseworker()
    case = (build.case(caseworker=caseworker, closed=True) if which == "closed"
            else build.case(organisation=build.organisation()))
    response = api(user=caseworker).post("/requests", json={
        "case_id": case.id, "lines": [{"item_type_id": build.item_type().id, "quantity": 1}], "reason": "x"})
    assert response.status_code == 422
    assert "case_id" in response.get_json()["error"]["details"]["fields"]


def test_the_queue_returns_scores_with_their_parts_in_priority_order(api, build):
    low = build.equipment_request()
    high = build.equipment_request(case=build.case(risk_level="high", flags=["repeat_victimisation"]))
    body = api(roles=["coordinator"]).get("/queue").get_json()
    assert [entry["id"] for entry in body["items"]] == [high.id, low.id]
    top = body["items"][0]
    assert top["score"] == sum(part["points"] for part in top["score_parts"]) == 1060
    assert top["case_reference"] == high.case.reference and top["risk_level"] == "high"
    assert top["waiting_days"] == 0 and top["overdue"] is False and top["est_cost_pence"] == 2500


def test_queue_filters_and_paging_are_validated(api, build):
    caller = api(roles=["coordinator"])
    assert caller.get("/queue?risk_level=extreme").status_code == 422
    assert caller.get(f"/queue?organisation_id={2**63}").status_code == 422
    assert caller.get("/queue?item_type_id=-1").status_code == 422
    assert caller.get("/queue?per_page=500").status_code == 422
    for _ in range(3):
        build.equipment_request()
    body = caller.get("/queue?per_page=2&page=2").get_json()
    assert (len(body["items"]), body["total"]) == (1, 3)


def test_a_decision_rejects_with_a_reason_and_a_second_is_already_decided(api, build):
    raised = build.equipment_request()
    coordinator = api(roles=["coordinator"])
    first = coordinator.post(f"/requests/{raised.id}/decision", json={"decision": "reject", "reason": "Duplicate"})
    assert first.status_code == 200 and first.get_json()["state"] == "rejected"
    second = api(roles=["coordinator"]).post(f"/requests/{raised.id}/decision",
                                             json={"decision": "request_info", "reason": "?"})
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "already_decided"


@pytest.mark.parametrize("body, field", [
    ({"decision": "maybe", "reason": "x"}, "decision"),
    ({"decision": 5, "reason": "x"}, "decision"),
    ({"decision": ["reject"], "reason": "x"}, "decision"),
    ({"decision": {"approve": True}}, "decision"),
    ({"reason": "x"}, "decision"),
    ({"decision": "reject"}, "reason"),
    ({"decision": "reject", "reason": ""}, "reason"),
    ({"decision": "reject", "reason": 7}, "reason"),
    ({"decision": "approve", "lines": "all"}, "lines"),
    ({"decision": "approve", "lines": [{"line_id": 2**63, "quantity": 1}]}, "lines[0].line_id"),
    ({"decision": "approve", "lines": [{"line_id": 1, "quantity": "1"}]}, "lines[0].quantity"),
])
def test_a_bad_decision_is_a_422(api, build, body, field):
    raised = build.equipment_request()
    response = api(roles=["coordinator"]).post(f"/requests/{raised.id}/decision", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("role, status", [
    ("caseworker", 403), ("finance", 403), ("auditor", 403), ("admin", 403), ("fitter", 403),
])
def test_only_coordinators_read_the_queue_or_decide(api, build, role, status):
    raised = build.equipment_request()
    caller = api(roles=[role])
    assert caller.get("/queue").status_code == status
    assert caller.post(f"/requests/{raised.id}/decision", json={"decision": "reject", "reason": "x"}).status_code \
        == status


def test_a_decision_on_an_unknown_request_is_a_404(api):
    response = api(roles=["coordinator"]).post("/requests/999/decision", json={"decision": "reject", "reason": "x"})
    assert response.status_code == 404


def test_the_openapi_document_describes_the_case_and_queue_endpoints(api):
    paths = api(roles=["coordinator"]).get("/openapi.json").get_json()["paths"]
    for path in ("/cases", "/cases/{case_id}", "/requests", "/queue", "/requests/{request_id}/decision"):
        assert path in paths


def test_approval_through_the_api_whole_or_by_line(api, build):
    build.budget_period(allocated_pence=100_000)
    whole = build.equipment_request()
    caller = api(roles=["coordinator"])
    body = caller.post(f"/requests/{whole.id}/decision", json={"decision": "approve"}).get_json()
    assert body["state"] == "approved" and body["lines"][0]["approved_quantity"] == 1
    part = build.equipment_request(lines=[(build.item_type(), 3)])
    response = caller.post(f"/requests/{part.id}/decision", json={
        "decision": "approve", "lines": [{"line_id": part.lines[0].id, "quantity": 2}], "reason": "Two for now."})
    assert response.status_code == 200 and response.get_json()["state"] == "partly_approved"


def test_approval_over_budget_is_a_409_with_the_numbers_and_a_suggestion(api, build):
    build.budget_period(allocated_pence=2600)
    raised = build.equipment_request(lines=[(build.item_type(standard_cost_pence=2500), 2)])
    response = api(roles=["coordinator"]).post(f"/requests/{raised.id}/decision", json={"decision": "approve"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "budget_exceeded"
    assert (error["details"]["available_pence"], error["details"]["needed_pence"]) == (2600, 5000)
    assert error["details"]["suggested_lines"] == [
        {"line_id": raised.lines[0].id, "item_type": raised.lines[0].item_type.name, "quantity": 1}]
    assert error["details"]["left_out_lines"] == [
        {"line_id": raised.lines[0].id, "item_type": raised.lines[0].item_type.name, "quantity": 1}]


def test_a_refused_decision_leaves_nothing_written(api, build):
    build.budget_period(allocated_pence=2600)
    alarm = build.item_type(standard_cost_pence=2500)
    build.items(1, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 3)])
    events_before = db.session.scalar(select(func.count()).select_from(RequestEvent))
    entries_before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    response = api(roles=["coordinator"]).post(f"/requests/{raised.id}/decision", json={"decision": "approve"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, raised.id).state == "submitted"
    assert db.session.scalar(select(func.count()).select_from(RequestEvent)) == events_before
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries_before
    assert db.session.scalar(select(Item.state)) == "in_stock"
