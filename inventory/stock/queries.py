"""Reading stock: units per state for each item type, the low-stock rule, and lists of items.

What is still to come on order belongs to the features that order it (procurement): they
answer the `units_on_order` hook, so stock never imports them.
"""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from inventory.catalogue.models import ItemType, category_label
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.parsing import Fields
from inventory.stock.models import Item, ItemCode, ItemEvent, ItemState

S = ItemState

units_on_order = Hook(
    "units_on_order",
    "Units still to come into stock: each receiver `()` returns a query of rows (item_type_id, units), "
    "at most one row per item type (procurement: what open purchase orders have still to deliver).")


def below_reorder(in_stock, on_order, reorder_level):
    """The low-stock rule, the one place it is written: units free on the shelf (in stock; a
    reserved unit is counted apart, as reserved) plus units on order fall below the type's
    reorder level. Works on ints and on SQL expressions alike, so pages and the query agree."""
    return in_stock + on_order < reorder_level


def reorder_target(reorder_level: int) -> int:
    """The level a suggested order brings a low type back to (`REORDER_TARGET_FACTOR` × its
    reorder level)."""
    return reorder_level * current_app.config["REORDER_TARGET_FACTOR"]


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
        return below_reorder(self.in_stock, self.on_order, self.reorder_level)

    @property
    def to_order(self) -> int:
        """Units to order to bring a low type back to its target level (0 if it is not low)."""
        if not self.below_reorder:
            return 0
        return max(reorder_target(self.reorder_level) - self.in_stock - self.on_order, 1)

    @classmethod
    def from_row(cls, row) -> "StockLevel":
        (type_id, name, category, other, reorder, in_stock, reserved, issued, quarantine, on_order) = row
        return cls(type_id, name, category_label(category, other), reorder, int(in_stock), int(reserved),
                   int(issued), int(quarantine), int(on_order))


def _count(*states: ItemState):
    return func.coalesce(func.sum(case((Item.state.in_([str(s) for s in states]), 1), else_=0)), 0)


def stock_levels_query(*, include_inactive: bool = False, low_only: bool = False):
    """Units per state for every item type, counted in one statement (rows for StockLevel).
    On order = units not yet received, and units still to come on order (`units_on_order`).
    `low_only` keeps the types below their reorder level, decided in the same statement."""
    coming = [query.subquery() for query in units_on_order.fire()]
    on_order = sum((func.coalesce(func.max(units.c.units), 0) for units in coming), _count(S.ON_ORDER))
    query = (
        select(ItemType.id, ItemType.name, ItemType.category, ItemType.other_category, ItemType.reorder_level,
               _count(S.IN_STOCK), _count(S.RESERVED), _count(S.ISSUED), _count(S.QUARANTINE, S.RETURNED), on_order)
        .outerjoin(Item, Item.item_type_id == ItemType.id)
    )
    for units in coming:
        query = query.outerjoin(units, units.c.item_type_id == ItemType.id)
    query = (query.group_by(ItemType.id, ItemType.name, ItemType.category, ItemType.other_category,
                            ItemType.reorder_level)
             .order_by(ItemType.name, ItemType.id))
    if low_only:
        query = query.having(below_reorder(_count(S.IN_STOCK), on_order, ItemType.reorder_level))
    return query if include_inactive else query.where(ItemType.active.is_(True))


def stock_levels(*, include_inactive: bool = False, low_only: bool = False) -> list[StockLevel]:
    return [StockLevel.from_row(row) for row in db.session.execute(stock_levels_query(
        include_inactive=include_inactive, low_only=low_only))]


@dataclass(frozen=True)
class ItemFilters:
    """Which items a list shows (each filter optional)."""

    state: ItemState | None = None
    item_type_id: int | None = None
    location_id: int | None = None

    @classmethod
    def read(cls, args: Fields) -> "ItemFilters":
        """From a query string; a bad value is noted in `args` and filters nothing."""
        return cls(state=args.choice("state", ItemState, required=False),
                   item_type_id=args.record_id("item_type_id", required=False),
                   location_id=args.record_id("location_id", required=False))


def items_query(filters: ItemFilters):
    """Items, newest first, each with its type and location loaded in the same query."""
    query = select(Item).options(joinedload(Item.item_type), joinedload(Item.location)).order_by(Item.id.desc())
    if filters.state is not None:
        query = query.where(Item.state == filters.state)
    if filters.item_type_id is not None:
        query = query.where(Item.item_type_id == filters.item_type_id)
    if filters.location_id is not None:
        query = query.where(Item.location_id == filters.location_id)
    return query


def item_history(item: Item) -> list[ItemEvent]:
    """An item's events, newest first, each with who and where."""
    return db.session.scalars(
        select(ItemEvent).options(selectinload(ItemEvent.actor), selectinload(ItemEvent.location))
        .where(ItemEvent.item_id == item.id).order_by(ItemEvent.occurred_at.desc(), ItemEvent.id.desc())
    ).all()


def item_codes(item: Item) -> list[ItemCode]:
    """Every code an item has been given, oldest first (retired ones too)."""
    return db.session.scalars(select(ItemCode).where(ItemCode.item_id == item.id).order_by(ItemCode.id)).all()
