"""Units arriving in stock (on a purchase order receipt, or entered by hand): one Item each,
with a fresh code, a cached QR symbol and a 'received' event.

Features built on stock react through the `units_received` hook (requests reserve what
they are waiting for), so stock never imports them.
"""
from dataclasses import dataclass

from sqlalchemy import select

from inventory.catalogue.models import ItemType, Supplier
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import MoneyError, check_pence
from inventory.stock.codes import new_code
from inventory.stock.models import Item, ItemCode, ItemState, Location
from inventory.stock.operations import record_received
from inventory.stock.qr import cache_qr_images, label_payload

MAX_UNITS_AT_ONCE = 500

units_received = Hook(
    "units_received",
    "Units of a type arrived in stock: receivers `(item_type_id, actor=, first_line_id=)` may reserve "
    "them at once (first_line_id: the request line they were ordered for, if any).")


@dataclass(frozen=True)
class NewUnits:
    """What is known about units arriving together (one receipt line, one manual entry)."""

    item_type: ItemType
    quantity: int
    location: Location
    purchase_cost_pence: int | None = None
    supplier: Supplier | None = None
    serial_numbers: tuple[str, ...] = ()
    purchase_order_id: int | None = None
    goods_receipt_id: int | None = None
    for_request_line_id: int | None = None  # ordered for this request line: it gets them first


def check_quantity(quantity, field: str = "quantity", maximum: int = MAX_UNITS_AT_ONCE) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("The quantity must be a whole number.", fields={field: "A whole number."})
    if quantity < 1:
        raise InvalidInput("The quantity must be at least 1.", fields={field: "At least 1."})
    if quantity > maximum:
        raise InvalidInput(f"At most {maximum} units at once.", fields={field: f"At most {maximum}."})
    return quantity


def clean_serial_numbers(serials, item_type: ItemType, *, field: str = "serial_numbers") -> tuple[str, ...]:
    """Strip blanks; refuse a serial typed twice or already on an item of the same type."""
    cleaned = tuple(s.strip() for s in serials if s and s.strip())
    for serial in cleaned:
        if len(serial) > 80:
            raise InvalidInput("A serial number is too long.", fields={field: "At most 80 characters each."})
    repeated = sorted({s for s in cleaned if cleaned.count(s) > 1})
    if repeated:
        raise InvalidInput(f"Serial number {repeated[0]} is entered twice.",
                           fields={field: f"{repeated[0]} is entered twice."}, details={"duplicates": repeated})
    existing = sorted(db.session.scalars(select(Item.serial_number).where(
        Item.item_type_id == item_type.id, Item.serial_number.in_(cleaned))))
    if existing:
        raise InvalidInput(f"Serial number {existing[0]} is already on another {item_type.name}.",
                           fields={field: f"{existing[0]} is already recorded."}, details={"duplicates": existing})
    return cleaned


def receive_units(units: NewUnits, *, actor) -> list[Item]:
    """Put newly arrived units into stock: one Item each, with a fresh code, cached QR and a
    'received' event."""
    quantity = check_quantity(units.quantity)
    serials = clean_serial_numbers(units.serial_numbers, units.item_type)
    if len(serials) > quantity:
        raise InvalidInput("More serial numbers than units.",
                           fields={"serial_numbers": f"{len(serials)} serial numbers for {quantity} units."})
    if units.purchase_cost_pence is not None:
        try:
            check_pence(units.purchase_cost_pence, allow_zero=True)
        except MoneyError as error:
            raise InvalidInput(str(error), fields={"purchase_cost_pence": str(error)}) from None
    if not units.location.active:
        raise InvalidInput("That location is closed.", fields={"location_id": "Choose an open location."})
    items = []
    for index in range(quantity):
        item = Item(code=new_code(), item_type=units.item_type, state=ItemState.ON_ORDER, location=units.location,
                    serial_number=serials[index] if index < len(serials) else None,
                    purchase_cost_pence=units.purchase_cost_pence, supplier=units.supplier,
                    purchase_order_id=units.purchase_order_id, goods_receipt_id=units.goods_receipt_id)
        db.session.add(item)
        items.append(item)
    db.session.flush()
    for item in items:
        db.session.add(ItemCode(code=item.code, item_id=item.id))
        record_received(item, actor=actor)
    cache_qr_images(label_payload(item) for item in items)
    units_received.fire(units.item_type.id, actor=actor, first_line_id=units.for_request_line_id)
    return items
