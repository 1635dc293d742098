"""The item state machine and the stock use cases built on it.

Every change of an item's state goes through `_transition`, which checks the move against
TRANSITIONS, locks the item's row (SELECT ... FOR UPDATE on PostgreSQL), and writes an
ItemEvent. Functions flush and never commit; the caller commits once.

    on_order -> in_stock -> reserved -> issued -> returned -> quarantine -> in_stock
    (and in_stock -> issued directly; anything not yet written off -> written_off;
     a lost item that turns up: written_off -> quarantine)
"""
from dataclasses import dataclass

from sqlalchemy import case, func, select

from inventory import clock
from inventory.catalogue.models import ItemType, Supplier, category_label
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import MoneyError, check_pence
from inventory.permissions import Permission, has_permission
from inventory.stock.codes import new_code, parse_code
from inventory.stock.models import (
    HELD_STATES,
    Item,
    ItemCode,
    ItemEvent,
    ItemEventKind,
    ItemState,
    Location,
    LocationKind,
    ReturnCondition,
    WriteOffReason,
)
from inventory.stock.qr import cache_qr_images, label_payload

S = ItemState
K = ItemEventKind
NOT_WRITTEN_OFF = frozenset(set(ItemState) - {S.WRITTEN_OFF})

# kind of event -> (states it may start from, state it ends in; None = unchanged)
TRANSITIONS: dict[ItemEventKind, tuple[frozenset, ItemState | None]] = {
    K.RECEIVED: (frozenset({S.ON_ORDER}), S.IN_STOCK),
    K.RESERVED: (frozenset({S.IN_STOCK}), S.RESERVED),
    K.RESERVATION_RELEASED: (frozenset({S.RESERVED}), S.IN_STOCK),
    K.ISSUED: (frozenset({S.IN_STOCK, S.RESERVED}), S.ISSUED),
    K.RETURNED: (frozenset({S.ISSUED}), S.RETURNED),
    K.QUARANTINED: (frozenset({S.RETURNED}), S.QUARANTINE),
    K.WIPE_CONFIRMED: (frozenset({S.QUARANTINE}), None),
    K.RELEASED_FROM_QUARANTINE: (frozenset({S.QUARANTINE}), S.IN_STOCK),
    K.WRITTEN_OFF: (NOT_WRITTEN_OFF, S.WRITTEN_OFF),
    K.FOUND: (frozenset({S.WRITTEN_OFF}), S.QUARANTINE),
    K.MOVED: (frozenset(HELD_STATES), None),
    K.CODE_REPLACED: (frozenset(ItemState), None),
}

MAX_UNITS_AT_ONCE = 500

units_received = Hook(
    "units_received",
    "Units of a type arrived in stock: receivers `(item_type_id, actor=, first_line_id=)` may reserve "
    "them at once (first_line_id: the request line they were ordered for, if any).")
# Only items written off as missing can turn up again; faulty or damaged ones stay gone.
FINDABLE_REASONS = frozenset({WriteOffReason.LOST, WriteOffReason.NOT_RECOVERED})


class ItemNotAvailable(Conflict):
    code = "item_not_available"


class UnknownCode(NotFound):
    code = "unknown_code"

    def __init__(self):
        super().__init__("No item has that code. Check the label, or scan it again.")


class RetiredCode(Conflict):
    code = "code_retired"

    def __init__(self):
        super().__init__("That code was retired and replaced; it no longer names an item. "
                         "Scan the item's new label.")


def lock_item(item: Item) -> Item:
    """The item re-read with its row locked until commit (a no-op lock on SQLite, whose
    writers are already serialised by BEGIN IMMEDIATE)."""
    return db.session.execute(
        select(Item).where(Item.id == item.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def allowed(item: Item, kind: ItemEventKind) -> bool:
    return item.state in TRANSITIONS[kind][0]


def _transition(item: Item, kind: ItemEventKind, *, actor, note: str | None = None, request_id: int | None = None,
                case_id: int | None = None, **changes) -> ItemEvent:
    """Move `item` along the state machine (or refuse), apply `changes`, record the event."""
    sources, target = TRANSITIONS[kind]
    item = lock_item(item)
    if item.state not in sources:
        raise ItemNotAvailable(
            f"Item {item.code} is {ItemState(item.state).label.lower()}, so it cannot be {kind.label.lower()}.",
            details={"item_id": item.id, "state": item.state, "action": str(kind)},
        )
    from_state = item.state
    if target is not None:
        item.state = target
    for key, value in changes.items():
        setattr(item, key, value)
    db.session.flush()  # so relationship changes (location) show in the foreign keys below
    event = ItemEvent(item_id=item.id, actor_id=actor.id if actor is not None else None, kind=str(kind),
                      from_state=from_state, to_state=item.state, location_id=item.location_id,
                      request_id=request_id, case_id=case_id, note=_note(note))
    db.session.add(event)
    db.session.flush()
    return event


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput("The note is too long.", fields={"note": "At most 500 characters."})
    return note or None


def _positive_id(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"A valid {field.replace('_', ' ')} is needed.", fields={field: "A positive whole number."})
    return value


# Finding items ---------------------------------------------------------------------------

def find_by_code(text: str) -> Item:
    """The item a typed or scanned code names. Raises InvalidCode / CodeTypo (422),
    UnknownCode (404) or RetiredCode (409)."""
    code = parse_code(text)
    row = db.session.execute(
        select(ItemCode.retired_at, Item).join(Item, Item.id == ItemCode.item_id).where(ItemCode.code == code)
    ).first()
    if row is None:
        raise UnknownCode()
    if row.retired_at is not None:
        raise RetiredCode()
    return row.Item


# Creating items --------------------------------------------------------------------------

@dataclass
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
        item = Item(code=new_code(), item_type=units.item_type, state=S.ON_ORDER, location=units.location,
                    serial_number=serials[index] if index < len(serials) else None,
                    purchase_cost_pence=units.purchase_cost_pence, supplier=units.supplier,
                    purchase_order_id=units.purchase_order_id, goods_receipt_id=units.goods_receipt_id)
        db.session.add(item)
        items.append(item)
    db.session.flush()
    for item in items:
        db.session.add(ItemCode(code=item.code, item_id=item.id))
        _transition(item, K.RECEIVED, actor=actor)
    cache_qr_images(label_payload(item) for item in items)
    units_received.fire(units.item_type.id, actor=actor, first_line_id=units.for_request_line_id)
    return items


def replace_code(item: Item, *, actor, reason: str) -> str:
    """Retire the item's code (a damaged label, a code seen by the wrong person) and give it
    a new one. The old code stays on record and never names anything again."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the code is being replaced.", fields={"reason": "Give a reason."})
    if len(reason) > 200:
        raise InvalidInput("The reason is too long.", fields={"reason": "At most 200 characters."})
    old = db.session.scalar(select(ItemCode).where(ItemCode.item_id == item.id, ItemCode.retired_at.is_(None)))
    old.retired_at, old.retired_reason = clock.now(), reason
    db.session.flush()
    code = new_code()
    _transition(item, K.CODE_REPLACED, actor=actor, note=f"New code replaces {item.code}: {reason}", code=code)
    db.session.add(ItemCode(code=code, item_id=item.id))
    cache_qr_images([label_payload(item)])
    return code


# Requests, cases and returns ----------------------------------------------------------------

def reserve_item(item: Item, *, for_request_id: int, actor) -> ItemEvent:
    """Set an in-stock unit aside for an approved request."""
    request_id = _positive_id(for_request_id, "request_id")
    return _transition(item, K.RESERVED, actor=actor, request_id=request_id, reserved_for_request_id=request_id)


def release_reservation(item: Item, *, actor, note: str | None = None) -> ItemEvent:
    """A reserved unit goes back to general stock (request rejected, withdrawn, or changed)."""
    return _transition(item, K.RESERVATION_RELEASED, actor=actor, request_id=item.reserved_for_request_id,
                       note=note, reserved_for_request_id=None)


def issue_item(item: Item, *, case_id: int, actor, request_id: int | None = None, note: str | None = None) -> ItemEvent:
    """Hand a unit to a case (fitted or loaned). A unit reserved for one request cannot be
    issued against another."""
    case_id = _positive_id(case_id, "case_id")
    item = lock_item(item)
    if item.state == S.RESERVED and request_id is not None and item.reserved_for_request_id != request_id:
        raise ItemNotAvailable(f"Item {item.code} is reserved for another request.",
                               details={"item_id": item.id, "state": item.state, "action": "issued"})
    return _transition(item, K.ISSUED, actor=actor, case_id=case_id, note=note,
                       request_id=request_id or item.reserved_for_request_id,
                       issued_case_id=case_id, reserved_for_request_id=None, location_id=None)


def _return_location(actor, location: Location | None) -> Location:
    if location is not None:
        return location
    query = select(Location).where(Location.active.is_(True))
    van = db.session.scalar(query.where(Location.fitter_id == actor.id).order_by(Location.id)) if actor else None
    store = van or db.session.scalar(query.where(Location.kind == LocationKind.STORE).order_by(Location.id))
    if store is None:
        raise InvalidInput("Set up a stock location first.", fields={"location_id": "No open location."})
    return store


def return_item(item: Item, *, condition: str, actor, location: Location | None = None,
                note: str | None = None) -> ItemEvent:
    """A unit comes back from a case. It always goes to quarantine first; a connected
    device is marked as awaiting a wipe, and cannot leave quarantine until one is confirmed."""
    try:
        condition = ReturnCondition(condition)
    except ValueError:
        raise InvalidInput("Say what condition it came back in.",
                           fields={"condition": "One of: good, damaged, faulty."}) from None
    case_id = item.issued_case_id
    place = _return_location(actor, location)
    remark = f"Condition: {condition}." + (f" {note.strip()}" if note and note.strip() else "")
    _transition(item, K.RETURNED, actor=actor, case_id=case_id, note=remark, issued_case_id=None, location=place)
    return _transition(item, K.QUARANTINED, actor=actor, awaiting_wipe=item.item_type.connected_device)


def confirm_wipe(item: Item, actor, *, note: str | None = None) -> ItemEvent:
    """A named person confirms the factory reset and removal of the last user's account."""
    if not has_permission(actor, Permission.CONFIRM_WIPE):
        raise NotAllowed("Only someone allowed to confirm wipes can do this.")
    item = lock_item(item)
    if not item.awaiting_wipe:
        raise ItemNotAvailable(f"Item {item.code} is not waiting for a wipe.",
                               details={"item_id": item.id, "state": item.state, "action": "wipe_confirmed"})
    return _transition(item, K.WIPE_CONFIRMED, actor=actor, note=note or "Factory reset and account removal done.",
                       awaiting_wipe=False)


def release_from_quarantine(item: Item, *, actor, note: str | None = None) -> ItemEvent:
    """Checked and fit for the next person: back into stock."""
    item = lock_item(item)
    if item.awaiting_wipe:
        raise ItemNotAvailable(
            f"Item {item.code} is a connected device: confirm its factory reset and account removal first.",
            code="wipe_required", details={"item_id": item.id, "state": item.state, "action": "released"},
        )
    return _transition(item, K.RELEASED_FROM_QUARANTINE, actor=actor, note=note)


def write_off(item: Item, reason: str, actor, *, note: str | None = None) -> ItemEvent:
    """Take a unit out of stock for good, with a reason (faulty, damaged, lost, ...)."""
    try:
        reason = WriteOffReason(reason)
    except ValueError:
        choices = ", ".join(r.value for r in WriteOffReason)
        raise InvalidInput("Give a reason for the write-off.", fields={"reason": f"One of: {choices}."}) from None
    return _transition(item, K.WRITTEN_OFF, actor=actor, note=note, case_id=item.issued_case_id,
                       write_off_reason=str(reason), reserved_for_request_id=None, issued_case_id=None)


def mark_found(item: Item, *, location: Location, actor, note: str | None = None) -> ItemEvent:
    """A unit written off as lost or not recovered turns up: it goes to quarantine to be checked."""
    item = lock_item(item)
    if item.state == S.WRITTEN_OFF and item.write_off_reason not in FINDABLE_REASONS:
        raise ItemNotAvailable(f"Item {item.code} was written off as {item.write_off_reason}, not lost.",
                               details={"item_id": item.id, "state": item.state, "action": "found"})
    return _transition(item, K.FOUND, actor=actor, note=note, write_off_reason=None, location=location,
                       awaiting_wipe=item.item_type.connected_device)


def move_item(item: Item, location: Location, *, actor, note: str | None = None) -> ItemEvent:
    """Move a unit on a shelf or in a van to another location."""
    if not location.active:
        raise InvalidInput("That location is closed.", fields={"location_id": "Choose an open location."})
    if item.location_id == location.id:
        raise ItemNotAvailable(f"Item {item.code} is already at {location.name}.",
                               details={"item_id": item.id, "state": item.state, "action": "moved"})
    return _transition(item, K.MOVED, actor=actor, note=note, location=location)


def transfer_codes(texts, location: Location, *, actor) -> list[Item]:
    """Move every item named by the typed or scanned codes to `location`. All or nothing:
    one bad code refuses the lot, naming the line."""
    lines = [t for t in (text.strip() for text in texts) if t]
    if not lines:
        raise InvalidInput("Scan or type at least one code.", fields={"codes": "No codes given."})
    if len(lines) > MAX_UNITS_AT_ONCE:
        raise InvalidInput(f"At most {MAX_UNITS_AT_ONCE} codes at once.", fields={"codes": "Too many codes."})
    moved = []
    for number, line in enumerate(lines, start=1):
        try:
            item = find_by_code(line)
            move_item(item, location, actor=actor)
        except (InvalidInput, NotFound, Conflict) as error:
            raise InvalidInput(f"Line {number} ({line}): {error.message}",
                               fields={"codes": f"Line {number}: {error.message}"}, code=error.code) from None
        moved.append(item)
    return moved


# Locations ------------------------------------------------------------------------------

def create_location(*, name: str, kind: str, fitter=None) -> Location:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("Name the location (at most 80 characters).", fields={"name": "Enter a name."})
    if db.session.scalar(select(Location.id).where(func.lower(Location.name) == name.lower())):
        raise InvalidInput("A location with that name already exists.", fields={"name": "Already in use."})
    try:
        kind = LocationKind(kind)
    except ValueError:
        raise InvalidInput("Choose the kind of location.", fields={"kind": "Office store or fitter's van."}) from None
    if kind == LocationKind.VAN and fitter is None:
        raise InvalidInput("Say whose van it is.", fields={"fitter_id": "Choose the fitter."})
    location = Location(name=name, kind=str(kind), fitter=fitter if kind == LocationKind.VAN else None)
    db.session.add(location)
    db.session.flush()
    return location


# Stock levels ---------------------------------------------------------------------------

@dataclass
class StockLevel:
    item_type_id: int
    item_type: str
    category: str
    reorder_level: int
    in_stock: int
    reserved: int
    issued: int
    quarantine: int
    on_order: int

    @property
    def below_reorder(self) -> bool:
        return self.in_stock < self.reorder_level

    @classmethod
    def from_row(cls, row) -> "StockLevel":
        (type_id, name, category, other, reorder, in_stock, reserved, issued, quarantine, on_order) = row
        return cls(type_id, name, category_label(category, other), reorder, int(in_stock), int(reserved),
                   int(issued), int(quarantine), int(on_order))


def _count(*states: ItemState):
    return func.coalesce(func.sum(case((Item.state.in_([str(s) for s in states]), 1), else_=0)), 0)


def stock_levels_query(*, include_inactive: bool = False):
    """Units per state for every item type, counted in one statement (rows for StockLevel).
    On order = units still to come on raised purchase orders."""
    from inventory.procurement.models import OPEN_FOR_RECEIPT, PurchaseOrder, PurchaseOrderLine

    outstanding = (
        select(PurchaseOrderLine.item_type_id,
               func.sum(PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received).label("units"))
        .join(PurchaseOrder).where(PurchaseOrder.status.in_([str(s) for s in OPEN_FOR_RECEIPT]))
        .group_by(PurchaseOrderLine.item_type_id).subquery()
    )
    query = (
        select(ItemType.id, ItemType.name, ItemType.category, ItemType.other_category, ItemType.reorder_level,
               _count(S.IN_STOCK), _count(S.RESERVED), _count(S.ISSUED), _count(S.QUARANTINE, S.RETURNED),
               _count(S.ON_ORDER) + func.coalesce(func.max(outstanding.c.units), 0))
        .outerjoin(Item, Item.item_type_id == ItemType.id)
        .outerjoin(outstanding, outstanding.c.item_type_id == ItemType.id)
        .group_by(ItemType.id, ItemType.name, ItemType.category, ItemType.other_category, ItemType.reorder_level)
        .order_by(ItemType.name, ItemType.id)
    )
    return query if include_inactive else query.where(ItemType.active.is_(True))


def stock_levels(*, include_inactive: bool = False) -> list[StockLevel]:
    return [StockLevel.from_row(row) for row in db.session.execute(stock_levels_query(
        include_inactive=include_inactive))]
