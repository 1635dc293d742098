"""No 500 for bad input: ids out of range, JSON of the wrong type, a wrong method. Each is a
404 or a 422 naming the field, and writes nothing."""
import pytest

from inventory.parsing import MAX_ID

# Ids no record can have, as a query string or form sends them.
BAD_ID_TEXT = ["0", "-1", str(MAX_ID + 1), str(2**64), "9" * 30, "1.5", "1e3", "true", "abc", "１２"]
# ...and as JSON values.
BAD_ID_JSON = [0, -1, MAX_ID + 1, 2**64, 1.5, True, False, "12", [], {}, None]
# Query-string filters that name a record, on any page or API call.
ID_FILTERS = ["item_type_id", "case_id", "fitter_id", "period_id", "organisation_id", "location_id",
              "request_id", "job_id", "user_id", "category_id", "supplier_id", "statement_id"]


# -- 405 keeps Allow ----------------------------------------------------------------------

def test_a_wrong_method_on_the_api_says_which_methods_are_allowed(api):
    response = api().delete("/me")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}


def test_a_wrong_method_on_a_page_says_which_methods_are_allowed(client, login):
    login()
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# -- ids in the query string ---------------------------------------------------------------

@pytest.mark.parametrize("path, field", [
    ("/queue", "item_type_id"), ("/queue", "organisation_id"),
    ("/items", "item_type_id"), ("/items", "location_id"),
])
def test_an_api_id_filter_out_of_range_is_a_422_naming_it(api, path, field):
    caller = api(roles=["coordinator"])
    wrong = []
    for value in BAD_ID_TEXT:
        response = caller.get(f"{path}?{field}={value}")
        if response.status_code != 422 or field not in response.get_json()["error"]["details"]["fields"]:
            wrong.append(f"{value}: {response.status_code}")
    assert wrong == []


@pytest.mark.parametrize("value", ["0", "-3", str(MAX_ID + 1), "x", "1.0"])
@pytest.mark.parametrize("name", ["page", "per_page"])
def test_paging_out_of_range_is_a_422_naming_it(api, name, value):
    response = api(roles=["coordinator"]).get(f"/cases?{name}={value}")
    assert response.status_code == 422
    assert name in response.get_json()["error"]["details"]["fields"]


def test_a_page_beyond_the_documented_maximum_is_refused(api):
    assert api(roles=["coordinator"]).get("/cases?page=1000000001").status_code == 422


@pytest.mark.parametrize("roles", [["admin"], ["coordinator"], ["finance"]])
def test_no_page_or_api_list_fails_on_id_filters_out_of_range(app, client, build, roles):
    """Every GET route without path arguments, with every id filter set to each bad value:
    a page may ignore a filter it cannot read (a stale link), but nothing reaches the driver."""
    user = build.user(roles=roles)
    token = build.token(user)
    client.post("/login", data={"email": user.email, "password": build.PASSWORD})
    routes = [rule.rule for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
              and rule.rule not in ("/logout",)]
    failures = []
    for value in ("0", "-1", str(MAX_ID + 1), "1.5", "abc"):
        query = "&".join(f"{name}={value}" for name in ID_FILTERS)
        for route in routes:
            response = client.get(f"{route}?{query}", headers={"Authorization": f"Bearer {token}"}
                                  if route.startswith("/api/") else {})
            if response.status_code >= 500:
                failures.append(f"{route}?{query}: {response.status_code}")
    assert failures == []


# -- ids and types in JSON bodies ----------------------------------------------------------

@pytest.mark.parametrize("roles, path, body, field", [
    (["caseworker"], "/requests", {"lines": [{"item_type_id": 1, "quantity": 1}], "reason": "x"}, "case_id"),
    (["coordinator"], "/jobs", {"request_id": 1, "scheduled_for": "2099-01-01"}, "fitter_id"),
    (["coordinator"], "/jobs", {"fitter_id": 1, "scheduled_for": "2099-01-01"}, "request_id"),
    (["fitter"], "/scans", {"action": "issue", "code": "X"}, "job_id"),
    (["coordinator"], "/purchase-orders", {"lines": [{"item_type_id": 1, "quantity": 1, "unit_net_pence": 1}]},
     "supplier_id"),
    (["finance"], "/ledger/allocations", {"amount_pence": 100}, "period_id"),
    (["coordinator"], "/requests/1/decision", {"decision": "approve", "lines": [{"line_id": 1, "quantity": 1}]},
     "lines[0].line_id"),
])
def test_a_body_id_out_of_range_or_of_the_wrong_type_is_a_422_naming_it(api, roles, path, body, field):
    caller = api(roles=roles)
    optional = field in ("period_id", "job_id")  # null there is "left out"
    wrong = []
    for value in BAD_ID_JSON:
        if value is None and optional:
            continue
        sent = _with(body, field, value)
        response = caller.post(path, json=sent)
        if response.status_code != 422 or field not in response.get_json()["error"]["details"].get("fields", {}):
            wrong.append(f"{value!r}: {response.status_code} {response.get_json()}")
    assert wrong == []


def _with(body: dict, field: str, value) -> dict:
    """`body` with `field` (or `lines[0].line_id`) set to `value`."""
    if field.startswith("lines[0]."):
        return {**body, "lines": [{**body["lines"][0], field.removeprefix("lines[0]."): value}]}
    return {**body, field: value}


@pytest.mark.parametrize("body, field", [
    ({"decision": 5}, "decision"),
    ({"decision": ["approve"]}, "decision"),
    ({"decision": {"approve": True}}, "decision"),
    ({"decision": None}, "decision"),
    ({"decision": "approve", "lines": "x"}, "lines"),
    ({"decision": "approve", "lines": {"line_id": 1}}, "lines"),
    ({"decision": "approve", "lines": ["x"]}, "lines[0]"),
    ({"decision": "approve", "lines": [{"line_id": 1, "quantity": True}]}, "lines[0].quantity"),
    ({"decision": "approve", "lines": [{"line_id": 1, "quantity": "2"}]}, "lines[0].quantity"),
    ({"decision": "reject", "reason": []}, "reason"),
    ({"decision": "reject", "reason": {"text": "no"}}, "reason"),
    ({"decision": "reject", "reason": 5}, "reason"),
    ({"decision": "reject", "declined_as": 1}, "declined_as"),
])
def test_a_decision_field_of_the_wrong_type_is_a_422_naming_it(api, body, field):
    response = api(roles=["coordinator"]).post("/requests/1/decision", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("body", [[], ["decision"], "approve", 5, None, True])
def test_json_that_is_not_an_object_is_a_422(api, body):
    response = api(roles=["coordinator"]).post("/requests/1/decision", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {"body": "Must be a JSON object."}


@pytest.mark.parametrize("body, field", [
    ({"amount_pence": True}, "amount_pence"),
    ({"amount_pence": "100"}, "amount_pence"),
    ({"amount_pence": 1.5}, "amount_pence"),
    ({"amount_pence": 100, "memo": ["x"]}, "memo"),
    ({"amount_pence": 100, "date": 20260101}, "date"),
])
def test_ledger_fields_of_the_wrong_type_are_a_422_naming_them(api, body, field):
    response = api(roles=["finance"]).post("/ledger/allocations", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("window", ["10:00:00Z", "10:00+01:00", "10", "1000", "25:00", "10:00 am"])
def test_a_booking_window_must_be_a_plain_time_of_day(api, window):
    response = api(roles=["coordinator"]).post("/jobs", json={
        "request_id": 1, "fitter_id": 1, "scheduled_for": "2099-01-01", "window_starts": window})
    assert response.status_code == 422
    assert "window_starts" in response.get_json()["error"]["details"]["fields"]


def test_a_review_with_more_incidents_than_a_column_holds_is_a_422(api, build):
    caseworker = build.user(roles=["caseworker"])
    case = build.case(caseworker=caseworker)
    response = api(user=caseworker).post(f"/cases/{case.id}/reviews", json={
        "kind": "three_months", "reviewed_on": "2000-01-01", "incidents_since_fitting": 2**40})
    assert response.status_code == 422
    assert "incidents_since_fitting" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("reference", ["x" * 41, "NS" * 100])
def test_a_case_search_longer_than_any_reference_is_a_422(api, reference):
    response = api(roles=["coordinator"]).get(f"/cases?reference={reference}")
    assert response.status_code == 422
    assert "reference" in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("path", ["/cases/0/reviews", f"/cases/{MAX_ID + 1}/reviews", "/jobs/0/complete"])
def test_a_write_to_an_id_no_record_can_have_is_a_404_not_a_wrong_method(api, path):
    response = api(roles=["coordinator"]).post(path, json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
