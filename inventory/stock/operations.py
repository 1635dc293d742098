"""The item state machine and the use cases on one item: finding it by its code, setting
it aside, issuing it, taking it back, wiping, writing off, moving, replacing its code.

Every change of an item's state goes through ITEM_MACHINE: the item's row is locked
(SELECT ... FOR UPDATE on PostgreSQL), the move is checked against the table, and an
ItemEvent records it. Functions flush and never commit; the request's unit of work does.

    on_order -> in_stock -> reserved -> issued -> returned -> quarantine -> in_stock
    (and in_stock -> issued directly; anything not yet written off -> written_off;
     a lost item that turns up: written_off -> quarantine)

Moves keep the state but are limited by it too (MOVE_DESTINATIONS): an item in quarantine
goes only to an office store, where it is checked and wiped, never into a fitter's van.
"""
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory import clock
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.parsing import Fields
from inventory.permissions import Permission, can_resolve_any_code, has_permission
from inventory.states import Change, StateMachine, Transition
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
NOTE_LIMIT = 500
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


def _record(change: Change) -> ItemEvent:
    """Make the step's other changes (where the item is, which request or case holds it),
    then write it to the item's timeline, so the event says where the item is now."""
    item = change.record
    for key, value in change.extra.get("changes", {}).items():
        setattr(item, key, value)
    db.session.flush()  # so relationship changes (location) show in the foreign keys below
    event = ItemEvent(item_id=item.id, occurred_at=change.at, actor_id=change.actor.id if change.actor else None,
                      kind=str(change.action), from_state=change.from_state, to_state=item.state,
                      location_id=item.location_id, request_id=change.extra.get("request_id"),
                      case_id=change.extra.get("case_id"), note=change.note)
    db.session.add(event)
    db.session.flush()
    return event


def _unavailable(item: Item, kind: ItemEventKind, message: str, **kwargs) -> ItemNotAvailable:
    return ItemNotAvailable(message, details={"item_id": item.id, "state": item.state, "action": str(kind)}, **kwargs)


ITEM_MACHINE = StateMachine(
    "item",
    {
        K.RECEIVED: Transition(frozenset({S.ON_ORDER}), S.IN_STOCK),
        K.RESERVED: Transition(frozenset({S.IN_STOCK}), S.RESERVED),
        K.RESERVATION_RELEASED: Transition(frozenset({S.RESERVED}), S.IN_STOCK),
        K.ISSUED: Transition(frozenset({S.IN_STOCK, S.RESERVED}), S.ISSUED),
        K.RETURNED: Transition(frozenset({S.ISSUED}), S.RETURNED),
        K.QUARANTINED: Transition(frozenset({S.RETURNED}), S.QUARANTINE),
        K.WIPE_CONFIRMED: Transition(frozenset({S.QUARANTINE})),
        K.RELEASED_FROM_QUARANTINE: Transition(frozenset({S.QUARANTINE}), S.IN_STOCK),
        K.WRITTEN_OFF: Transition(frozenset(set(ItemState) - {S.WRITTEN_OFF}), S.WRITTEN_OFF),
        K.FOUND: Transition(frozenset({S.WRITTEN_OFF}), S.QUARANTINE),
        K.MOVED: Transition(frozenset(HELD_STATES)),
        K.CODE_REPLACED: Transition(frozenset(ItemState)),
    },
    refusal=ItemNotAvailable,
    describe_refusal=lambda item, kind: (
        f"Item {item.code} is {ItemState(item.state).label.lower()}, so it cannot be {kind.label.lower()}."),
    refusal_details=lambda item: {"item_id": item.id},
    recorder=_record,
)


# Where a held item may be moved, by its state. A returned or found unit has not been checked
# (a connected device may still hold the last survivor's account): it goes only to the office,
# where the wipe is done, and never out in a van.
MOVE_DESTINATIONS = {
    S.IN_STOCK: frozenset(LocationKind),
    S.RESERVED: frozenset(LocationKind),
    S.QUARANTINE: frozenset({LocationKind.STORE}),
}


def allowed(item: Item, kind: ItemEventKind) -> bool:
    """May `item` take this step from the state it is in?"""
    return ITEM_MACHINE.allows(item.state, kind)


def lock_item(item: Item) -> Item:
    """The item re-read with its row locked until commit (a no-op lock on SQLite, whose
    writers are already serialised by BEGIN IMMEDIATE)."""
    return db.session.execute(
        select(Item).where(Item.id == item.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _step(item: Item, kind: ItemEventKind, *, actor, note: str | None = None, request_id: int | None = None,
          case_id: int | None = None, **changes) -> ItemEvent:
    """Move `item` along the machine (or refuse), apply `changes`, record the event."""
    fields = Fields({"note": note})
    note = fields.text("note", required=False, max_length=NOTE_LIMIT)
    fields.check()
    return ITEM_MACHINE.apply(lock_item(item), kind, actor=actor, note=note, request_id=request_id,
                              case_id=case_id, changes=changes)


def record_received(item: Item, *, actor) -> ItemEvent:
    """A new unit (on order) is in stock."""
    return _step(item, K.RECEIVED, actor=actor)


# Finding items ---------------------------------------------------------------------------

item_on_jobs_of = Hook(
    "item_on_jobs_of",
    "May a fitter resolve this item's code? Receivers `(user, item)` answer True when the item is on one "
    "of the user's open jobs (jobs: reserved for it, handed over on it, or being collected on it).")


def find_by_code(text: str) -> Item:
    """The item a typed or scanned code names, whoever asks (the caller has decided they
    may). Raises InvalidCode / CodeTypo / WebAddress (422), UnknownCode (404) or RetiredCode (409)."""
    retired, item = _named_by(text)
    if item is None:
        raise UnknownCode()
    if retired:
        raise RetiredCode()
    return item


def resolve_code(text: str, *, viewer) -> Item:
    """`find_by_code` for someone looking a code up. Stock staff resolve any code; anyone
    else (a fitter) only the codes of items on their own open jobs: any other code is
    unknown to them, exactly as if no item had it (a retired one too)."""
    retired, item = _named_by(text)
    if item is None or not (can_resolve_any_code(viewer) or any(item_on_jobs_of.fire(viewer, item))):
        raise UnknownCode()
    if retired:
        raise RetiredCode()
    return item


def _named_by(text: str) -> tuple[bool, Item | None]:
    """(retired?, the item) for the code in `text`; (False, None) when no item ever had it."""
    code = parse_code(text, url_base=current_app.config.get("LABEL_QR_URL_BASE"))
    row = db.session.execute(
        select(ItemCode.retired_at, Item).join(Item, Item.id == ItemCode.item_id).where(ItemCode.code == code)
        .options(joinedload(Item.item_type), joinedload(Item.location))  # what an answer shows, in one statement
    ).first()
    return (False, None) if row is None else (row.retired_at is not None, row.Item)


def replace_code(item: Item, *, actor, reason: str) -> str:
    """Retire the item's code (a damaged label, a code seen by the wrong person) and give it
    a new one. The old code stays on record and never names anything again."""
    fields = Fields({"reason": reason})
    reason = fields.text("reason", max_length=200)
    fields.check()
    old = db.session.scalar(select(ItemCode).where(ItemCode.item_id == item.id, ItemCode.retired_at.is_(None)))
    old.retired_at, old.retired_reason = clock.now(), reason
    db.session.flush()
    code = new_code()
    _step(item, K.CODE_REPLACED, actor=actor, note=f"New code replaces {item.code}: {reason}", code=code)
    db.session.add(ItemCode(code=code, item_id=item.id))
    cache_qr_images([label_payload(item)])
    return code


# Requests, cases and returns ----------------------------------------------------------------

def reserve_item(item: Item, *, for_request_id: int, actor) -> ItemEvent:
    """Set an in-stock unit aside for an approved request."""
    return _step(item, K.RESERVED, actor=actor, request_id=for_request_id, reserved_for_request_id=for_request_id)


def release_reservation(item: Item, *, actor, note: str | None = None) -> ItemEvent:
    """A reserved unit goes back to general stock (request rejected, withdrawn, or changed)."""
    return _step(item, K.RESERVATION_RELEASED, actor=actor, request_id=item.reserved_for_request_id, note=note,
                 reserved_for_request_id=None)


def issue_item(item: Item, *, case_id: int, actor, request_id: int | None = None, note: str | None = None) -> ItemEvent:
    """Hand a unit to a case (fitted or loaned). A unit reserved for one request cannot be
    issued against another."""
    item = lock_item(item)
    if item.state == S.RESERVED and request_id is not None and item.reserved_for_request_id != request_id:
        raise _unavailable(item, K.ISSUED, f"Item {item.code} is reserved for another request.")
    return _step(item, K.ISSUED, actor=actor, case_id=case_id, note=note,
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


def return_item(item: Item, *, condition: ReturnCondition, actor, location: Location | None = None,
                note: str | None = None) -> ItemEvent:
    """A unit comes back from a case. It always goes to quarantine first; a connected
    device is marked as awaiting a wipe, and cannot leave quarantine until one is confirmed."""
    case_id = item.issued_case_id
    place = _return_location(actor, location)
    remark = f"Condition: {condition}." + (f" {note.strip()}" if note and note.strip() else "")
    _step(item, K.RETURNED, actor=actor, case_id=case_id, note=remark, issued_case_id=None, location=place)
    return _step(item, K.QUARANTINED, actor=actor, awaiting_wipe=item.item_type.connected_device)


def confirm_wipe(item: Item, actor, *, note: str | None = None) -> ItemEvent:
    """A named person confirms the factory reset and removal of the last user's account."""
    if not has_permission(actor, Permission.CONFIRM_WIPE):
        raise NotAllowed("Only someone allowed to confirm wipes can do this.")
    item = lock_item(item)
    if not item.awaiting_wipe:
        raise _unavailable(item, K.WIPE_CONFIRMED, f"Item {item.code} is not waiting for a wipe.")
    return _step(item, K.WIPE_CONFIRMED, actor=actor, note=note or "Factory reset and account removal done.",
                 awaiting_wipe=False)


def release_from_quarantine(item: Item, *, actor, note: str | None = None) -> ItemEvent:
    """Checked and fit for the next person: back into stock."""
    item = lock_item(item)
    if item.awaiting_wipe:
        raise _unavailable(
            item, K.RELEASED_FROM_QUARANTINE,
            f"Item {item.code} is a connected device: confirm its factory reset and account removal first.",
            code="wipe_required")
    return _step(item, K.RELEASED_FROM_QUARANTINE, actor=actor, note=note)


def write_off(item: Item, reason: WriteOffReason, actor, *, note: str | None = None) -> ItemEvent:
    """Take a unit out of stock for good, with a reason (faulty, damaged, lost, ...)."""
    try:
        reason = WriteOffReason(reason)
    except ValueError:
        choices = ", ".join(r.value for r in WriteOffReason)
        raise InvalidInput("Give a reason for the write-off.", fields={"reason": f"One of: {choices}."}) from None
    return _step(item, K.WRITTEN_OFF, actor=actor, note=note, case_id=item.issued_case_id,
                 write_off_reason=str(reason), reserved_for_request_id=None, issued_case_id=None)


def mark_found(item: Item, *, location: Location, actor, note: str | None = None) -> ItemEvent:
    """A unit written off as lost or not recovered turns up: it goes to quarantine to be checked."""
    item = lock_item(item)
    if item.state == S.WRITTEN_OFF and item.write_off_reason not in FINDABLE_REASONS:
        raise _unavailable(item, K.FOUND, f"Item {item.code} was written off as {item.write_off_reason}, not lost.")
    return _step(item, K.FOUND, actor=actor, note=note, write_off_reason=None, location=location,
                 awaiting_wipe=item.item_type.connected_device)


def may_move_to(item: Item, location: Location) -> bool:
    """May `item`, in the state it is in, be moved to a location of that kind?"""
    return location.kind in MOVE_DESTINATIONS.get(item.state, ())


def move_item(item: Item, location: Location, *, actor, note: str | None = None) -> ItemEvent:
    """Move a unit on a shelf or in a van to another location (see MOVE_DESTINATIONS)."""
    if not location.active:
        raise InvalidInput("That location is closed.", fields={"location_id": "Choose an open location."})
    item = lock_item(item)
    if item.state == S.QUARANTINE and not may_move_to(item, location):
        raise InvalidInput(
            f"Item {item.code} is in quarantine: it goes only to an office store, to be checked and wiped.",
            fields={"location_id": "An item in quarantine goes only to an office store, to be checked and wiped."},
            code="quarantine_stays_in_store")
    if item.location_id == location.id:
        raise _unavailable(item, K.MOVED, f"Item {item.code} is already at {location.name}.")
    return _step(item, K.MOVED, actor=actor, note=note, location=location)
