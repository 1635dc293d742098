"""The print CSS puts every label where the stationery's die-cuts are. These tests parse
the generated CSS, not the tables it came from."""
import re

import pytest

from inventory.stock.labels import FORMATS, sheet_css

# Avery's published sizes: labels per sheet and label size in mm.
AVERY = {"L7160": (21, 63.5, 38.1), "L7163": (14, 99.1, 38.1), "L7651": (65, 38.1, 21.2)}
TOLERANCE = 0.05  # mm


def parse(css: str):
    page = re.search(r"@page \{ size: ([\d.]+)mm ([\d.]+)mm; margin: 0; \}", css)
    label = re.search(r"\.label \{ position: absolute; width: ([\d.]+)mm; height: ([\d.]+)mm;", css)
    slots = {int(n): (float(x), float(y)) for n, x, y in
             re.findall(r"\.slot-(\d+) \{ left: ([\d.]+)mm; top: ([\d.]+)mm; \}", css)}
    return (float(page.group(1)), float(page.group(2))), (float(label.group(1)), float(label.group(2))), slots


@pytest.mark.parametrize("key", sorted(AVERY))
def test_avery_sheets_are_a4_with_the_published_count_and_size(key):
    (page_w, page_h), (w, h), slots = parse(sheet_css(FORMATS[key]))
    count, width, height = AVERY[key]
    assert (page_w, page_h) == (210.0, 297.0)
    assert (w, h) == (width, height)
    assert sorted(slots) == list(range(count))


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_every_label_lies_inside_the_page_and_no_two_overlap(key):
    (page_w, page_h), (w, h), slots = parse(sheet_css(FORMATS[key]))
    for x, y in slots.values():
        assert -TOLERANCE <= x and x + w <= page_w + TOLERANCE
        assert -TOLERANCE <= y and y + h <= page_h + TOLERANCE
    boxes = list(slots.values())
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1:]:
            overlap_x = min(x1 + w, x2 + w) - max(x1, x2)
            overlap_y = min(y1 + h, y2 + h) - max(y1, y2)
            assert overlap_x <= TOLERANCE or overlap_y <= TOLERANCE, f"{key}: labels overlap"


@pytest.mark.parametrize("key", sorted(AVERY))
def test_sheets_are_centred_so_margins_match_on_both_sides(key):
    (page_w, page_h), (w, h), slots = parse(sheet_css(FORMATS[key]))
    xs, ys = [x for x, _ in slots.values()], [y for _, y in slots.values()]
    assert abs(min(xs) - (page_w - (max(xs) + w))) <= TOLERANCE
    assert abs(min(ys) - (page_h - (max(ys) + h))) <= TOLERANCE


def test_slots_run_across_rows_from_the_top_left():
    _, _, slots = parse(sheet_css(FORMATS["L7160"]))
    assert slots[0] == (7.21, 15.15)
    assert slots[1] == (pytest.approx(73.25), 15.15)
    assert slots[3] == (7.21, pytest.approx(53.25))


def test_a_label_printer_page_is_the_size_of_one_label():
    (page_w, page_h), (w, h), slots = parse(sheet_css(FORMATS["DK11209"]))
    assert (page_w, page_h) == (w, h) and slots == {0: (0.0, 0.0)}


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_the_qr_fits_inside_its_label(key):
    fmt = FORMATS[key]
    css = sheet_css(fmt)
    size = float(re.search(r"\.label \.qr \{ width: ([\d.]+)mm;", css).group(1))
    assert 10 <= size <= fmt.label_height - 4  # 2 mm padding; a QR under 10 mm reads badly
