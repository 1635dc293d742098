import pytest
from sqlalchemy import select

from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.codes import check_symbol, new_code
from inventory.stock.models import Item
from tests.qr_reader import decode_svg
from tests.support import recorded_selects


def test_item_types_lists_the_active_catalogue(api, build):
    build.item_type(name="Personal alarm", standard_cost_pence=1999, reorder_level=5)
    build.item_type(name="Old alarm", active=False)
    body = api(roles=["caseworker"]).get("/item-types").get_json()
    assert [t["name"] for t in body["items"]] == ["Personal alarm"]
    assert body["items"][0]["standard_cost_pence"] == 1999
    assert body["items"][0]["category"] == "Personal alarm"


def test_stock_shows_counts_per_type_and_flags_low_stock(api, build):
    alarm = build.item_type(name="Alarm", reorder_level=3)
    build.items(2, item_type=alarm)
    body = api(roles=["coordinator"]).get("/stock").get_json()
    row = body["items"][0]
    assert (row["item_type"], row["in_stock"], row["below_reorder"]) == ("Alarm", 2, True)


@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("coordinator", 200), ("finance", 200), ("fitter", 403), ("caseworker", 403), ("auditor", 403),
])
def test_stock_and_item_lists_are_for_stock_staff(api, build, role, status):
    caller = api(roles=[role])
    assert caller.get("/stock").status_code == status
    assert caller.get("/items").status_code == status


def test_a_fitter_looking_up_a_code_on_their_job_sees_only_the_type_and_state(api, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(name="Window alarm"), 1)])
    item = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    body = api(user=fitter).get(f"/items/by-code/{item.code}").get_json()
    assert body == {"id": item.id, "code": item.code, "item_type": "Window alarm", "state": "reserved"}


def test_a_coordinator_looking_up_a_code_sees_which_case_holds_it(api, build):
    item, case = build.item(), build.case()
    operations.issue_item(item, case_id=case.id, actor=None)
    db.session.commit()
    body = api(roles=["coordinator"]).get(f"/items/by-code/{item.code.lower()}").get_json()
    assert body["case_id"] == case.id


def test_finance_sees_stock_details_but_not_the_case(api, build):
    item = build.item()
    operations.issue_item(item, case_id=build.case().id, actor=None)
    db.session.commit()
    body = api(roles=["finance"]).get(f"/items/by-code/{item.code}").get_json()
    assert body["purchase_cost_pence"] == 2500
    assert "case_id" not in body


@pytest.mark.parametrize("role", ["caseworker", "auditor"])
def test_roles_without_stock_or_scanning_cannot_resolve_a_code(api, build, role):
    item = build.item()
    assert api(roles=[role]).get(f"/items/by-code/{item.code}").status_code == 403


def test_a_mistyped_code_is_a_typo_an_unknown_one_not_found_and_a_retired_one_a_conflict(api, build):
    item = build.item()
    caller = api(roles=["coordinator"])
    data = item.code.replace("-", "")[:-1]
    wrong = next(c for c in "0123456789" if c != check_symbol(data))
    typo = caller.get(f"/items/by-code/{data}{wrong}")
    assert (typo.status_code, typo.get_json()["error"]["code"]) == (422, "code_typo")
    assert "code" in typo.get_json()["error"]["details"]["fields"]
    unknown = caller.get(f"/items/by-code/{new_code()}")
    assert (unknown.status_code, unknown.get_json()["error"]["code"]) == (404, "unknown_code")
    rubbish = caller.get("/items/by-code/hello")
    assert (rubbish.status_code, rubbish.get_json()["error"]["code"]) == (422, "invalid_code")
    old = item.code
    operations.replace_code(item, actor=None, reason="Label torn")
    db.session.commit()
    retired = caller.get(f"/items/by-code/{old}")
    assert (retired.status_code, retired.get_json()["error"]["code"]) == (409, "code_retired")


def test_items_filter_by_state_and_type_and_page(api, build):
    alarm, lock = build.item_type(), build.item_type(category="lock")
    alarms = build.items(3, item_type=alarm)
    build.items(2, item_type=lock)
    operations.issue_item(alarms[0], case_id=build.case().id, actor=None)
    db.session.commit()
    caller = api(roles=["coordinator"])
    body = caller.get(f"/items?state=in_stock&item_type_id={alarm.id}&per_page=1").get_json()
    assert (body["total"], len(body["items"]), body["per_page"]) == (2, 1, 1)
    assert caller.get("/items?state=lost").status_code == 422
    assert caller.get("/items?item_type_id=x").status_code == 422


def test_the_qr_endpoint_serves_the_printed_symbol_which_decodes_to_exactly_the_code(api, build):
    item = build.item()
    response = api(roles=["coordinator"]).get(f"/items/{item.id}/qr")
    assert response.mimetype == "image/svg+xml"
    assert decode_svg(response.get_data(as_text=True)) == item.code


def test_the_qr_of_an_unknown_item_is_not_found(api):
    assert api(roles=["coordinator"]).get("/items/999/qr").status_code == 404


def test_office_labels_may_encode_a_url_when_the_installation_opts_in(app, api, build):
    app.config["LABEL_QR_URL_BASE"] = "https://stock.example.org/s/"
    store_item = build.item()
    van_item = build.item(location=build.location(kind="van", fitter=build.user(roles=["fitter"])))
    caller = api(roles=["coordinator"])
    assert decode_svg(caller.get(f"/items/{store_item.id}/qr").get_data(as_text=True)) == \
        f"https://stock.example.org/s/{store_item.code}"
    assert decode_svg(caller.get(f"/items/{van_item.id}/qr").get_data(as_text=True)) == van_item.code
    assert operations.find_by_code(f"https://stock.example.org/s/{store_item.code}") is store_item


def test_a_web_address_is_a_code_only_under_the_installations_label_base(app, api, build):
    item = build.item()
    caller = api(roles=["coordinator"])
    foreign = caller.post("/scans", json={"action": "lookup", "code": f"https://evil.example.com/s/{item.code}"})
    assert (foreign.status_code, foreign.get_json()["error"]["code"]) == (422, "web_address")
    assert foreign.get_json()["error"]["message"] == "That is a web address, not a SafeHold label."
    app.config["LABEL_QR_URL_BASE"] = "https://stock.example.org/s/"
    ours = caller.post("/scans", json={"action": "lookup", "code": f"https://stock.example.org/s/{item.code}"})
    assert ours.status_code == 200 and ours.get_json()["item"]["id"] == item.id
    foreign = caller.post("/scans", json={"action": "lookup", "code": f"https://evil.example.com/s/{item.code}"})
    assert foreign.get_json()["error"]["code"] == "web_address"


def test_the_openapi_document_describes_the_stock_and_procurement_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/item-types", "get"), ("/stock", "get"), ("/items/by-code/{code}", "get"),
                         ("/items", "get"), ("/items/{item_id}/qr", "get"), ("/purchase-orders", "post"),
                         ("/purchase-orders/{order_id}/raise", "post"),
                         ("/purchase-orders/{order_id}/receipts", "post"), ("/invoices", "post")]:
        assert method in paths[path], path
    assert "image/svg+xml" in paths["/items/{item_id}/qr"]["get"]["responses"]["200"]["content"]


def test_the_items_list_runs_the_same_queries_whatever_the_page_size(api, build):
    store = build.location()
    for n in range(3):
        build.items(3, item_type=build.item_type(name=f"Type {n}"), location=store)
    caller = api(roles=["coordinator"])
    caller.get("/items?per_page=1")  # signs in, so both measured calls do the same work for that
    with recorded_selects() as few:
        caller.get("/items?per_page=1")
    with recorded_selects() as many:
        caller.get("/items?per_page=9")
    assert len(many) == len(few)


@pytest.mark.parametrize("query, field", [
    ({"item_type_id": str(2**63)}, "item_type_id"), ({"location_id": "-1"}, "location_id"),
    ({"state": "lost"}, "state"),
])
def test_an_items_filter_that_names_nothing_is_a_422_naming_it(api, query, field):
    response = api(roles=["coordinator"]).get("/items", query_string=query)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
