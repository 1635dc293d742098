"""Printable labels: A4 sheets of Avery-style stationery and single labels for a label
printer. Geometry is in millimetres, written into the print CSS from the tables here, so
labels land where the stationery's die-cuts are.

A label shows the QR, the code grouped for reading and, at most, the item type: never the
service, the organisation or anything about a case.
"""
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.stock.models import Item
from inventory.stock.qr import label_payload, svgs_for

MAX_LABELS = 1000


@dataclass(frozen=True)
class LabelFormat:
    key: str
    name: str
    page_width: float  # mm
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    top: float  # page edge to the first label
    left: float
    pitch_x: float  # from one label's left edge to the next one's
    pitch_y: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def slot_position(self, slot: int) -> tuple[float, float]:
        """(left, top) in mm of slot 0..per_page-1, filled row by row."""
        row, column = divmod(slot, self.columns)
        return (round(self.left + column * self.pitch_x, 2), round(self.top + row * self.pitch_y, 2))

    @property
    def qr_size(self) -> float:
        return round(min(self.label_height - 4, self.label_width * 0.45, 32), 2)

    @property
    def is_sheet(self) -> bool:
        return self.per_page > 1


A4 = (210.0, 297.0)
FORMATS: dict[str, LabelFormat] = {f.key: f for f in [
    LabelFormat("L7160", "Avery L7160: 21 per sheet, 63.5 × 38.1 mm", *A4, columns=3, rows=7,
                label_width=63.5, label_height=38.1, top=15.15, left=7.21, pitch_x=66.04, pitch_y=38.1),
    LabelFormat("L7163", "Avery L7163: 14 per sheet, 99.1 × 38.1 mm", *A4, columns=2, rows=7,
                label_width=99.1, label_height=38.1, top=15.15, left=4.65, pitch_x=101.6, pitch_y=38.1),
    LabelFormat("L7651", "Avery L7651: 65 per sheet, 38.1 × 21.2 mm", *A4, columns=5, rows=13,
                label_width=38.1, label_height=21.2, top=10.7, left=4.75, pitch_x=40.6, pitch_y=21.2),
    LabelFormat("DK11209", "Label printer: one 62 × 29 mm label per page", 62.0, 29.0, columns=1, rows=1,
                label_width=62.0, label_height=29.0, top=0.0, left=0.0, pitch_x=62.0, pitch_y=29.0),
]}
DEFAULT_FORMAT = "L7160"


def sheet_css(fmt: LabelFormat) -> str:
    """The print stylesheet for one format: page size, and an absolute mm box per slot."""
    text_width = round(fmt.label_width - fmt.qr_size - 5, 2)
    font = round(min(fmt.label_height / 6.5, text_width / 10.5, 4.2), 2)
    lines = [
        f"@page {{ size: {fmt.page_width}mm {fmt.page_height}mm; margin: 0; }}",
        "html, body { margin: 0; padding: 0; background: #fff; }",
        f".sheet {{ position: relative; width: {fmt.page_width}mm; height: {fmt.page_height}mm; overflow: hidden;"
        " page-break-after: always; break-after: page; }",
        ".sheet:last-child { page-break-after: auto; break-after: auto; }",
        f".label {{ position: absolute; width: {fmt.label_width}mm; height: {fmt.label_height}mm;"
        " box-sizing: border-box; padding: 2mm; display: flex; align-items: center; gap: 1mm; overflow: hidden;"
        " font-family: ui-monospace, Menlo, Consolas, monospace; color: #000; }",
        f".label .qr {{ width: {fmt.qr_size}mm; height: {fmt.qr_size}mm; flex: none; }}",
        f".label__text {{ width: {text_width}mm; font-size: {font}mm; line-height: 1.2; }}",
        ".label__code { font-weight: 700; letter-spacing: .02em; }",
        ".label__code span { display: inline-block; white-space: nowrap; }",
        f".label__type {{ font-family: system-ui, Arial, sans-serif; font-size: {round(font * 0.8, 2)}mm;"
        " margin-top: .8mm; }",
        "@media screen { body { background: #ccc; } .sheet { background: #fff; margin: 5mm auto;"
        " box-shadow: 0 0 2mm #888; } .label { outline: 0.2mm dashed #bbb; } .print-help { max-width: 200mm;"
        " margin: 5mm auto; font: 1rem/1.4 system-ui, sans-serif; } }",
        "@media print { .print-help { display: none; } }",
    ]
    for slot in range(fmt.per_page):
        left, top = fmt.slot_position(slot)
        lines.append(f".slot-{slot} {{ left: {left}mm; top: {top}mm; }}")
    return "\n".join(lines) + "\n"


@dataclass
class Label:
    slot: int
    code_groups: list[str]
    item_type: str | None
    svg: Markup


def check_format(key: str | None) -> LabelFormat:
    fmt = FORMATS.get(key or DEFAULT_FORMAT)
    if fmt is None:
        raise InvalidInput("Choose a label format.", fields={"format": f"One of: {', '.join(FORMATS)}."})
    return fmt


def check_start(start, fmt: LabelFormat) -> int:
    """The first free position (1-based) on a part-used sheet."""
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= fmt.per_page:
        raise InvalidInput("The start position is not on the sheet.",
                           fields={"start": f"From 1 to {fmt.per_page}."})
    return start


def label_pages(items: list[Item], fmt: LabelFormat, *, start: int = 1, show_type: bool = True) -> list[list[Label]]:
    """Labels laid out on pages, the first page starting at position `start`."""
    if not items:
        raise InvalidInput("Choose at least one item to label.", fields={"items": "No items chosen."})
    if len(items) > MAX_LABELS:
        raise InvalidInput(f"At most {MAX_LABELS} labels at once.", fields={"items": "Too many items."})
    start = check_start(start, fmt)
    payloads = {item.id: label_payload(item) for item in items}
    svgs = svgs_for(payloads.values())
    pages: list[list[Label]] = []
    for position, item in enumerate(items, start=start - 1):
        page, slot = divmod(position, fmt.per_page)
        if page == len(pages):
            pages.append([])
        groups = item.code.split("-")
        pages[page].append(Label(
            slot=slot,
            code_groups=[group + ("-" if index < len(groups) - 1 else "") for index, group in enumerate(groups)],
            item_type=item.item_type.name if show_type else None,
            svg=Markup(svgs[payloads[item.id]]),
        ))
    return pages


def items_for_labels(*, item_ids=(), goods_receipt_id: int | None = None) -> list[Item]:
    """The chosen items (in the order given) or every unit of one goods receipt, in one query."""
    query = select(Item).options(joinedload(Item.item_type), joinedload(Item.location))
    if goods_receipt_id is not None:
        return list(db.session.scalars(query.where(Item.goods_receipt_id == goods_receipt_id).order_by(Item.id)))
    wanted = list(dict.fromkeys(item_ids))
    found = {item.id: item for item in db.session.scalars(query.where(Item.id.in_(wanted)))} if wanted else {}
    return [found[i] for i in wanted if i in found]
