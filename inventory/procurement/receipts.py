"""Goods receipts: what arrived against a purchase order, each unit becoming an Item in stock."""
from dataclasses import dataclass

from sqlalchemy import select

from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from inventory.procurement.orders import ORDER_MACHINE, OrderAction, charged, lock_order
from inventory.stock.models import Item, Location
from inventory.stock.receiving import NewUnits, check_quantity, clean_serial_numbers, receive_units


@dataclass(frozen=True)
class ReceiptLine:
    line_id: int
    quantity: int
    serial_numbers: tuple[str, ...] = ()


def receive_goods(order: PurchaseOrder, *, lines: list[ReceiptLine] | None, location: Location, actor,
                  note: str | None = None) -> GoodsReceipt:
    """Receive goods line by line (part quantities allowed), or everything outstanding when
    `lines` is None. Each unit becomes an in-stock Item with a new code. Receiving more than
    is outstanding is refused; the order and its lines are locked so two receipts of the
    last unit cannot both succeed."""
    fields = Fields({"note": note})
    note = fields.text("note", required=False)
    fields.check()
    order = lock_order(order)
    ORDER_MACHINE.check(order, OrderAction.RECEIVE)
    order_lines = {line.id: line for line in db.session.scalars(
        select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.id).with_for_update().execution_options(populate_existing=True))}
    if lines is None:
        lines = [ReceiptLine(line.id, line.outstanding) for line in order_lines.values() if line.outstanding]
    if not lines:
        raise InvalidInput("Say what arrived.", fields={"lines": "Receive at least one line."})
    seen = set()
    receipt = GoodsReceipt(purchase_order_id=order.id, location_id=location.id, received_by_id=actor.id, note=note)
    db.session.add(receipt)
    db.session.flush()
    for index, wanted in enumerate(lines):
        prefix = f"lines[{index}]."
        line = order_lines.get(wanted.line_id)
        if line is None or wanted.line_id in seen:
            raise InvalidInput("That line is not on this order (or is given twice).",
                               fields={f"{prefix}line_id": "Not a line of this order."})
        seen.add(line.id)
        quantity = check_quantity(wanted.quantity, f"{prefix}quantity", MAX_LINE_QUANTITY)
        if quantity > line.outstanding:
            message = (f"Only {line.outstanding} of {line.quantity_ordered} {line.item_type.name} still to come; "
                       f"{quantity} is more than was ordered.")
            raise InvalidInput(message, code="more_than_ordered", fields={f"{prefix}quantity": message},
                               details={"outstanding": line.outstanding})
        serials = clean_serial_numbers(wanted.serial_numbers, line.item_type, field=f"{prefix}serial_numbers")
        # Counted as received before the units are reserved: what the order still brings for
        # a request is what keeps its converted commitment from being released again.
        line.quantity_received += quantity
        receive_units(NewUnits(
            item_type=line.item_type, quantity=quantity, location=location, serial_numbers=serials,
            purchase_cost_pence=charged(line.unit_net_pence, line.unit_vat_pence), supplier=order.supplier,
            purchase_order_id=order.id, goods_receipt_id=receipt.id, for_request_line_id=line.request_line_id,
        ), actor=actor)
        receipt.lines.append(GoodsReceiptLine(purchase_order_line_id=line.id, quantity=quantity))
    everything_in = all(line.outstanding == 0 for line in order_lines.values())
    ORDER_MACHINE.apply(order, OrderAction.RECEIVE_LAST if everything_in else OrderAction.RECEIVE, actor=actor)
    db.session.flush()
    return receipt


def receipt_items(receipt: GoodsReceipt) -> list[Item]:
    return list(db.session.scalars(select(Item).where(Item.goods_receipt_id == receipt.id).order_by(Item.id)))
