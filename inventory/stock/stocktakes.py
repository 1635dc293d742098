"""Stocktakes: count what is really at a location and settle the differences.

While a count is open, people scan or type every code on the shelf. What the records
expect there (items held at the location) is compared with what was counted:
missing (expected, not counted), wrong location (counted here, recorded elsewhere) and
unexpected (counted, but the records say it is issued, written off or not yet received).
"""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory import clock
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.models import (
    HELD_STATES,
    Item,
    ItemState,
    Location,
    ReturnCondition,
    Stocktake,
    StocktakeCount,
    StocktakeStatus,
)


class StocktakeClosed(Conflict):
    code = "stocktake_closed"

    def __init__(self):
        super().__init__("This stocktake is closed.")


def start_stocktake(location: Location, *, actor) -> Stocktake:
    open_count = db.session.scalar(select(Stocktake).where(
        Stocktake.location_id == location.id, Stocktake.status == StocktakeStatus.OPEN))
    if open_count is not None:
        raise Conflict(f"A count of {location.name} is already open.", code="stocktake_open",
                       details={"stocktake_id": open_count.id})
    stocktake = Stocktake(location=location, started_by_id=actor.id, status=StocktakeStatus.OPEN)
    db.session.add(stocktake)
    db.session.flush()
    return stocktake


def _check_open(stocktake: Stocktake) -> None:
    if stocktake.status != StocktakeStatus.OPEN:
        raise StocktakeClosed()


def verdict(stocktake: Stocktake, item: Item) -> str:
    if item.state not in HELD_STATES:
        return "unexpected"
    return "expected" if item.location_id == stocktake.location_id else "wrong_location"


def count_code(stocktake: Stocktake, text: str, *, actor) -> tuple[Item, str, bool]:
    """Record one scanned or typed code. Returns (item, verdict, first time counted)."""
    _check_open(stocktake)
    item = operations.find_by_code(text)
    already = db.session.scalar(select(StocktakeCount.id).where(
        StocktakeCount.stocktake_id == stocktake.id, StocktakeCount.item_id == item.id))
    if already is None:
        db.session.add(StocktakeCount(stocktake_id=stocktake.id, item_id=item.id, counted_by_id=actor.id))
        db.session.flush()
    return item, verdict(stocktake, item), already is None


@dataclass
class Differences:
    counted: int
    missing: list[Item]
    wrong_location: list[Item]
    unexpected: list[Item]


def differences(stocktake: Stocktake) -> Differences:
    """What the count found, in two queries whatever the size of the shelf."""
    counted_ids = select(StocktakeCount.item_id).where(StocktakeCount.stocktake_id == stocktake.id)
    load = (joinedload(Item.item_type), joinedload(Item.location))
    missing = db.session.scalars(select(Item).options(*load).where(
        Item.location_id == stocktake.location_id, Item.state.in_([str(s) for s in HELD_STATES]),
        Item.id.not_in(counted_ids)).order_by(Item.item_type_id, Item.id)).all()
    counted = db.session.scalars(select(Item).options(*load).where(Item.id.in_(counted_ids))
                                 .order_by(Item.item_type_id, Item.id)).all()
    return Differences(
        counted=len(counted), missing=list(missing),
        wrong_location=[i for i in counted if verdict(stocktake, i) == "wrong_location"],
        unexpected=[i for i in counted if verdict(stocktake, i) == "unexpected"],
    )


RESOLUTIONS = ("count_later", "write_off", "move", "found")


def resolve(stocktake: Stocktake, item: Item, action: str, *, actor, reason: str | None = None):
    """Settle one difference: write off a missing item (with a reason), move a
    wrong-location item here, or record an item the records had lost as found here. Or
    count it later: nothing changes, and a missing item stays uncounted until it is scanned."""
    _check_open(stocktake)
    location = stocktake.location
    if action == "count_later":
        return None
    if action == "write_off":
        return operations.write_off(item, reason, actor,
                                    note=f"Stocktake #{stocktake.id}: not found at {location.name}.")
    if action == "move":
        return operations.move_item(item, location, actor=actor, note=f"Stocktake #{stocktake.id}.")
    if action == "found":
        note = f"Stocktake #{stocktake.id}: found at {location.name}."
        if item.state == ItemState.ISSUED:
            return operations.return_item(item, condition=ReturnCondition.GOOD, actor=actor, location=location,
                                          note=note)
        return operations.mark_found(item, location=location, actor=actor, note=note)
    raise InvalidInput("Choose how to settle it.", fields={"action": f"One of: {', '.join(RESOLUTIONS)}."})


def close_stocktake(stocktake: Stocktake) -> None:
    _check_open(stocktake)
    stocktake.status = StocktakeStatus.CLOSED
    stocktake.closed_at = clock.now()
    db.session.flush()
