import pytest
from sqlalchemy import func, select

from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.models import Item, ItemEvent, Stocktake
from tests.support import recorded_selects

VIEW_PAGES = ["/stock/", "/stock/items", "/stock/find", "/stock/locations"]
MANAGE_PAGES = ["/stock/receive", "/stock/transfer", "/stock/stocktakes"]


@pytest.mark.parametrize("role, can_view, can_manage", [
    ("admin", True, False), ("coordinator", True, True), ("finance", True, False),
    ("fitter", False, False), ("caseworker", False, False), ("auditor", False, False),
])
def test_stock_pages_by_role(client, login, role, can_view, can_manage):
    login(roles=[role])
    for path in VIEW_PAGES:
        assert client.get(path).status_code == (200 if can_view else 403), path
    for path in MANAGE_PAGES:
        assert client.get(path).status_code == (200 if can_manage else 403), path


def test_the_levels_page_highlights_low_stock(client, login, build):
    alarm = build.item_type(name="Personal alarm", reorder_level=5)
    build.items(2, item_type=alarm)
    login(roles=["coordinator"])
    html = client.get("/stock/").get_data(as_text=True)
    assert 'class="row--low"' in html and "Low" in html


def test_the_items_list_pages_without_a_query_per_row(client, login, build):
    store = build.location()
    for n in range(3):
        build.items(4, item_type=build.item_type(name=f"Type {n}"), location=store)
    login(roles=["coordinator"])
    with recorded_selects() as few:
        client.get("/stock/items?per_page=2")
    with recorded_selects() as many:
        response = client.get("/stock/items?per_page=12")
    assert response.status_code == 200
    assert len(many) == len(few)


def test_the_item_page_shows_the_full_timeline(client, login, build):
    coordinator = login(roles=["coordinator"])
    item, case = build.item(), build.case()
    operations.issue_item(item, case_id=case.id, actor=coordinator)
    operations.return_item(item, condition="damaged", actor=coordinator)
    db.session.commit()
    html = client.get(f"/stock/items/{item.id}").get_data(as_text=True)
    for text in ("Received", "Issued", "Returned", "Quarantined", "Condition: damaged", coordinator.name,
                 f"case #{case.id}"):
        assert text in html


def test_finance_sees_the_timeline_but_not_which_case(client, login, build):
    item, case = build.item(), build.case()
    operations.issue_item(item, case_id=case.id, actor=None)
    db.session.commit()
    login(roles=["finance"])
    html = client.get(f"/stock/items/{item.id}").get_data(as_text=True)
    assert "Issued" in html and f"case #{case.id}" not in html and "Issued to case" not in html


def test_a_coordinator_confirms_a_wipe_then_puts_the_device_back_in_stock(client, login, build):
    coordinator = login(roles=["coordinator"])
    doorbell = build.item(item_type=build.item_type(category="camera_doorbell", connected_device=True))
    operations.issue_item(doorbell, case_id=build.case().id, actor=coordinator)
    operations.return_item(doorbell, condition="good", actor=coordinator)
    db.session.commit()
    refused = client.post(f"/stock/items/{doorbell.id}/release", data={"note": ""}, follow_redirects=True)
    assert b"confirm its factory reset" in refused.data
    assert client.post(f"/stock/items/{doorbell.id}/confirm-wipe", data={"note": ""}).status_code == 302
    assert client.post(f"/stock/items/{doorbell.id}/release", data={"note": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, doorbell.id).state == "in_stock"


def test_writing_off_from_the_item_page_needs_a_reason(client, login, build):
    login(roles=["coordinator"])
    item = build.item()
    assert client.post(f"/stock/items/{item.id}/write-off", data={"reason": "bored"}).status_code == 422
    assert client.post(f"/stock/items/{item.id}/write-off", data={"reason": "faulty"}).status_code == 302


def test_finding_by_a_mistyped_code_says_it_is_a_typo(client, login, build):
    login(roles=["coordinator"])
    item = build.item()
    data = item.code.replace("-", "")[:-1]
    wrong = "0" if item.code[-1] != "0" else "1"
    response = client.post("/stock/find", data={"code": data + wrong})
    assert response.status_code == 422 and b"has a typo" in response.data
    assert client.post("/stock/find", data={"code": item.code}).headers["Location"] == f"/stock/items/{item.id}"


def test_receiving_stock_by_hand_creates_units_and_offers_their_labels(client, login, build):
    login(roles=["coordinator"])
    item_type, store = build.item_type(), build.location()
    response = client.post("/stock/receive", data={
        "item_type_id": item_type.id, "quantity": "2", "location_id": store.id, "supplier_id": "0",
        "unit_cost": "19.99", "serial_numbers": "SN-1\nSN-2\n"})
    assert response.status_code == 302 and "/stock/labels/print" in response.headers["Location"]
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert [(i.serial_number, i.purchase_cost_pence, i.state) for i in items] == [
        ("SN-1", 1999, "in_stock"), ("SN-2", 1999, "in_stock")]


@pytest.mark.parametrize("quantity, serials, message", [
    ("0", "", b"Number must be between 1 and 500"),
    ("-3", "", b"Number must be between 1 and 500"),
    ("100000", "", b"Number must be between 1 and 500"),
    ("2", "A\nA", b"A is entered twice"),
    ("1", "A\nB", b"2 serial numbers for 1 units"),
])
def test_bad_receiving_input_is_refused_at_the_field_and_nothing_is_written(client, login, build, quantity,
                                                                              serials, message):
    login(roles=["coordinator"])
    item_type, store = build.item_type(), build.location()
    response = client.post("/stock/receive", data={
        "item_type_id": item_type.id, "quantity": quantity, "location_id": store.id, "supplier_id": "0",
        "unit_cost": "", "serial_numbers": serials})
    assert response.status_code == 422 and message in response.data
    assert db.session.scalar(select(Item.id)) is None


def test_a_serial_number_already_recorded_is_refused(client, login, build):
    login(roles=["coordinator"])
    item_type, store = build.item_type(), build.location()
    build.item(item_type=item_type, serial_numbers=["SN-9"])
    response = client.post("/stock/receive", data={
        "item_type_id": item_type.id, "quantity": "1", "location_id": store.id, "supplier_id": "0",
        "serial_numbers": "SN-9"})
    assert response.status_code == 422 and b"SN-9 is already recorded" in response.data


def test_transfer_by_scanning_moves_every_code_to_the_van(client, login, build):
    login(roles=["coordinator"])
    van = build.location(kind="van", name="Van B", fitter=build.user(roles=["fitter"]))
    items = build.items(2)
    response = client.post("/stock/transfer", data={"location_id": van.id,
                                                    "codes": "\n".join(i.code for i in items)})
    assert response.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Item, i.id).location_id for i in items} == {van.id}


def test_a_location_for_a_van_needs_its_fitter(client, login):
    login(roles=["coordinator"])
    response = client.post("/stock/locations", data={"name": "Van C", "kind": "van", "fitter_id": "0"})
    assert response.status_code == 422 and b"Choose the fitter" in response.data


def test_a_stocktake_by_scanning_and_settling_on_the_page(client, login, build):
    login(roles=["coordinator"])
    store = build.location(name="Office store")
    counted, missing = build.items(2, location=store)
    assert client.post("/stock/stocktakes", data={"location_id": store.id}).status_code == 302
    count = db.session.scalar(select(Stocktake))
    assert client.post(f"/stock/stocktakes/{count.id}", data={"code": counted.code}).status_code == 302
    html = client.get(f"/stock/stocktakes/{count.id}").get_data(as_text=True)
    assert "Missing: recorded here, not counted (1)" in html and missing.code in html
    assert client.post(f"/stock/stocktakes/{count.id}", data={"code": "nonsense"}).status_code == 422
    client.post(f"/stock/stocktakes/{count.id}/items/{missing.id}/resolve",
                data={"action": "write_off", "reason": "lost", "confirm": "y"})
    db.session.expire_all()
    assert db.session.get(Item, missing.id).write_off_reason == "lost"
    assert client.post(f"/stock/stocktakes/{count.id}/close").status_code == 302


@pytest.fixture
def open_count(client, login, build):
    """A count of a store with one item counted and one missing, as a coordinator."""
    login(roles=["coordinator"])
    store = build.location(name="Office store")
    counted, missing = build.items(2, location=store)
    client.post("/stock/stocktakes", data={"location_id": store.id})
    count = db.session.scalar(select(Stocktake))
    client.post(f"/stock/stocktakes/{count.id}", data={"code": counted.code})
    return count, missing


def _settle_form(html, item):
    start = html.index(f"/items/{item.id}/resolve")
    return html[start:html.index("</form>", start)]


def test_the_settle_form_of_a_missing_item_chooses_nothing_until_a_person_does(client, open_count):
    count, missing = open_count
    form = _settle_form(client.get(f"/stock/stocktakes/{count.id}").get_data(as_text=True), missing)
    assert "selected" not in form
    assert '<option value="">Choose…</option>' in form and '<option value="">Choose a reason…</option>' in form
    assert 'value="count_later"' in form and 'value="write_off"' in form and 'value="move"' not in form
    assert 'type="checkbox" name="confirm"' in form


@pytest.mark.parametrize("data, message", [
    ({}, "Choose how to settle it."),
    ({"action": "", "reason": "lost"}, "Choose how to settle it."),
    ({"action": "write_off", "reason": "lost"}, "to confirm the write-off"),
    ({"action": "write_off", "reason": "", "confirm": "y"}, "Give a reason for the write-off."),
    ({"action": "write_off", "reason": "stolen", "confirm": "y"}, "Not a valid choice"),
    ({"action": "shred"}, "Not a valid choice"),
])
def test_a_write_off_from_a_count_happens_only_when_chosen_with_a_reason_and_confirmed(client, open_count, data,
                                                                                         message):
    count, missing = open_count
    response = client.post(f"/stock/stocktakes/{count.id}/items/{missing.id}/resolve", data=data)
    assert response.status_code == 302 and response.headers["Location"] == f"/stock/stocktakes/{count.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in html and f"{missing.code}:" in html and "Nothing was changed." in html
    db.session.expire_all()
    assert db.session.get(Item, missing.id).state == "in_stock"


def test_counting_later_leaves_the_item_missing_and_unchanged_until_it_is_scanned(client, open_count):
    count, missing = open_count
    response = client.post(f"/stock/stocktakes/{count.id}/items/{missing.id}/resolve",
                           data={"action": "count_later", "reason": "lost"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{missing.code}: left uncounted for now" in html
    assert "Missing: recorded here, not counted (1)" in html
    db.session.expire_all()
    assert db.session.get(Item, missing.id).state == "in_stock"
    assert db.session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.item_id == missing.id,
                                                                    ItemEvent.kind != "received")) == 0
    client.post(f"/stock/stocktakes/{count.id}", data={"code": missing.code})
    assert "Nothing missing." in client.get(f"/stock/stocktakes/{count.id}").get_data(as_text=True)


def test_a_confirmed_write_off_from_a_count_says_which_item_went(client, open_count):
    count, missing = open_count
    response = client.post(f"/stock/stocktakes/{count.id}/items/{missing.id}/resolve",
                           data={"action": "write_off", "reason": "lost", "confirm": "y"})
    assert f"{missing.code}: written off." in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Item, missing.id).state, db.session.get(Item, missing.id).write_off_reason) == (
        "written_off", "lost")


def test_a_count_of_a_van_does_not_offer_to_move_a_quarantined_item_into_it(client, login, build):
    login(roles=["coordinator"])
    office = build.location(name="Office store")
    van = build.location(kind="van", name="Van S", fitter=build.user(roles=["fitter"]))
    returned = build.item(location=office)
    operations.issue_item(returned, case_id=build.case().id, actor=None)
    operations.return_item(returned, condition="good", actor=None, location=office)
    db.session.commit()
    client.post("/stock/stocktakes", data={"location_id": van.id})
    count = db.session.scalar(select(Stocktake))
    client.post(f"/stock/stocktakes/{count.id}", data={"code": returned.code})
    html = client.get(f"/stock/stocktakes/{count.id}").get_data(as_text=True)
    assert f"/items/{returned.id}/resolve" not in html and "In quarantine: it goes only to an office store" in html


def test_replacing_a_code_on_the_item_page_keeps_the_old_one_on_record(client, login, build):
    login(roles=["coordinator"])
    item = build.item()
    old = item.code
    assert client.post(f"/stock/items/{item.id}/replace-code", data={"reason": ""}).status_code == 422
    assert client.post(f"/stock/items/{item.id}/replace-code", data={"reason": "Label torn"}).status_code == 302
    db.session.expire_all()
    html = client.get(f"/stock/items/{item.id}").get_data(as_text=True)
    assert db.session.get(Item, item.id).code != old
    assert old in html and "retired" in html and "Label torn" in html


def test_starting_a_second_count_of_a_location_carries_on_with_the_open_one(client, login, build):
    login(roles=["coordinator"])
    store = build.location()
    first = client.post("/stock/stocktakes", data={"location_id": store.id})
    second = client.post("/stock/stocktakes", data={"location_id": store.id})
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count(Stocktake.id))) == 1


def test_item_filters_the_page_cannot_read_filter_nothing(client, login, build):
    item = build.item()
    login(roles=["coordinator"])
    response = client.get("/stock/items", query_string={"item_type_id": str(2**63), "location_id": "x",
                                                        "state": "lost"})
    assert response.status_code == 200 and item.code in response.get_data(as_text=True)


def test_a_step_the_items_state_refuses_is_said_on_the_item_and_writes_nothing(client, login, build):
    login(roles=["coordinator"])
    item = build.item()
    events = db.session.scalar(select(func.count(ItemEvent.id)))
    response = client.post(f"/stock/items/{item.id}/release", data={"note": "checked"})
    assert response.status_code == 302 and response.headers["Location"] == f"/stock/items/{item.id}"
    assert b"so it cannot be released from quarantine" in client.get(response.headers["Location"]).data
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ItemEvent.id))) == events
    assert db.session.get(Item, item.id).state == "in_stock"


def test_the_item_page_moves_a_doorbell_in_quarantine_only_to_an_office_store(client, login, build):
    login(roles=["coordinator"])
    office = build.location(name="Office store")
    van = build.location(kind="van", name="Van Q", fitter=build.user(roles=["fitter"]))
    doorbell = build.item(item_type=build.item_type(category="camera_doorbell", connected_device=True),
                          location=office)
    operations.issue_item(doorbell, case_id=build.case().id, actor=None)
    operations.return_item(doorbell, condition="good", actor=None, location=office)
    db.session.commit()
    html = client.get(f"/stock/items/{doorbell.id}").get_data(as_text=True)
    move_form = html[html.index("/move"):]
    assert "Office store (office store)" in move_form and "Van Q" not in move_form
    response = client.post(f"/stock/items/{doorbell.id}/move", data={"location_id": van.id})
    assert response.status_code == 422 and b"goes only to an office store" in response.data
    db.session.expire_all()
    assert db.session.get(Item, doorbell.id).location_id == office.id
