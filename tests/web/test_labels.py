import re

import pytest

from tests.qr_reader import decode_svg
from tests.support import recorded_statements


def test_a_sheet_shows_each_code_grouped_and_its_qr_decodes_to_exactly_that_code(client, login, build):
    items = build.items(3, item_type=build.item_type(name="Window alarm"))
    login(roles=["coordinator"])
    response = client.get("/stock/labels/print", query_string={"item": [i.id for i in items], "format": "L7163",
                                                                 "show_type": "y", "start": "1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert [decode_svg(svg) for svg in svgs] == [i.code for i in items]
    for item in items:
        groups = item.code.split("-")
        assert "".join(f"<span>{g}{'-' if n < 3 else ''}</span>" for n, g in enumerate(groups)) in html
    assert html.count("Window alarm") == 3
    assert 'href="/stock/labels/L7163.css"' in html


def test_a_label_says_nothing_about_the_service_the_organisation_or_a_case(client, login, build, app):
    item = build.item(item_type=build.item_type(name="Personal alarm"))
    user = login(roles=["coordinator"])
    html = client.get("/stock/labels/print", query_string={"item": item.id, "format": "L7160", "show_type": "y"}) \
        .get_data(as_text=True)
    sheet = re.search(r'<div class="sheet">(.*)</body>', html, re.S).group(1)
    svg = re.search(r"<svg .*?</svg>", sheet, re.S).group(0)
    printed_text = " ".join(re.sub(r"<[^>]+>", "", sheet.replace(svg, "")).split())
    assert printed_text == f"{item.code} Personal alarm"
    assert decode_svg(svg) == item.code
    for secret in (app.config["SERVICE_NAME"], user.organisation.name):
        assert secret.lower() not in sheet.lower()


def test_the_item_type_can_be_left_off_the_label(client, login, build):
    item = build.item(item_type=build.item_type(name="Camera doorbell"))
    login(roles=["coordinator"])
    html = client.get("/stock/labels/print", query_string={"item": item.id, "format": "L7160", "start": "1"}) \
        .get_data(as_text=True)
    assert "Camera doorbell" not in html


def test_a_part_used_sheet_starts_at_the_chosen_position_and_spills_onto_a_new_sheet(client, login, build):
    items = build.items(3)
    login(roles=["coordinator"])
    html = client.get("/stock/labels/print", query_string={"item": [i.id for i in items], "format": "L7160",
                                                           "start": "20"}).get_data(as_text=True)
    assert re.findall(r'class="label (slot-\d+)"', html) == ["slot-19", "slot-20", "slot-0"]
    assert html.count('<div class="sheet">') == 2


@pytest.mark.parametrize("start", ["0", "22", "-1"])
def test_a_start_position_off_the_sheet_is_refused_at_the_field(client, login, build, start):
    item = build.item()
    login(roles=["coordinator"])
    response = client.get("/stock/labels/print", query_string={"item": item.id, "format": "L7160", "start": start})
    assert response.status_code == 422
    assert b"From 1 to 21" in response.data or b"Number must be between" in response.data


def test_labels_can_be_chosen_by_typed_codes_and_an_unknown_code_is_explained(client, login, build):
    item = build.item()
    login(roles=["coordinator"])
    ok = client.get("/stock/labels/print", query_string={"codes": item.code.lower(), "format": "L7651"})
    assert ok.status_code == 200
    assert decode_svg(re.search(r"<svg .*?</svg>", ok.get_data(as_text=True), re.S).group(0)) == item.code
    bad = client.get("/stock/labels/print", query_string={"codes": "0000-0000-0000-0", "format": "L7651"})
    assert bad.status_code == 404 and b"No item has that code" in bad.data


def test_a_whole_receipt_can_be_labelled(client, login, build):
    from inventory.procurement.receipts import receipt_items

    receipt = build.receipt(build.purchase_order(lines=[(build.item_type(), 4, 1000, 200)]))
    build.items(2)
    login(roles=["coordinator"])
    html = client.get("/stock/labels/print", query_string={"receipt": receipt.id}).get_data(as_text=True)
    codes = [item.code for item in receipt_items(receipt)]
    assert len(codes) == 4
    assert [decode_svg(s) for s in re.findall(r"<svg .*?</svg>", html, re.S)] == codes


def test_the_label_css_is_served_per_format(client, login):
    login(roles=["admin"])
    css = client.get("/stock/labels/L7651.css")
    assert css.mimetype == "text/css" and b".slot-64 " in css.data
    assert client.get("/stock/labels/L9999.css").status_code == 404


@pytest.mark.parametrize("role, status", [("admin", 200), ("coordinator", 200), ("fitter", 403),
                                          ("caseworker", 403), ("finance", 403)])
def test_printing_labels_needs_the_print_labels_permission(client, login, build, role, status):
    item = build.item()
    login(roles=[role])
    assert client.get("/stock/labels/print", query_string={"item": item.id}).status_code == status


def test_a_sheet_of_500_labels_costs_the_statements_of_a_sheet_of_10(client, login, build):
    """Every label's item, code and cached QR image come in batches: no statement per label
    (how long a cold sheet takes is the benchmark's "500-label sheet, cold", not a test's)."""
    light = build.item_type(name="PIR light", category="pir_light")
    few, many = build.items(10, item_type=light), build.items(500, item_type=light)
    login(roles=["coordinator"])

    def sheet(chosen):
        with recorded_statements() as statements:
            response = client.get("/stock/labels/print", query_string={"item": chosen, "format": "L7651"})
        assert response.status_code == 200
        return response.get_data(as_text=True), len(statements)

    _, for_10 = sheet([i.id for i in few])
    html, for_500 = sheet([i.id for i in many])
    assert html.count('class="label slot-') == 500
    assert for_500 == for_10


def test_an_item_id_beyond_any_record_chooses_nothing(client, login):
    login(roles=["coordinator"])
    response = client.get("/stock/labels/print", query_string={"item": str(2**64), "format": "L7160"})
    assert response.status_code == 422 and b"Choose at least one item" in response.data


def test_a_symbol_a_sheet_had_to_draw_is_stored_for_the_next_sheet_and_still_decodes(client, login, build):
    from sqlalchemy import delete, select

    from inventory.extensions import db
    from inventory.stock.models import QrImage

    item = build.item()
    db.session.execute(delete(QrImage).where(QrImage.payload == item.code))
    db.session.commit()
    login(roles=["coordinator"])
    html = client.get("/stock/labels/print", query_string={"item": item.id}).get_data(as_text=True)
    drawn = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert decode_svg(drawn) == item.code
    assert db.session.scalar(select(QrImage.svg).where(QrImage.payload == item.code)) == drawn
