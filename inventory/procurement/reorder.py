"""Reordering low stock: the types below their reorder level (the rule is stock's,
`stock.queries.below_reorder`), the order lines that would bring each back to its target
level, a draft purchase order made from them in one step, and the daily low-stock job.

A suggestion is priced at the type's standard cost and goes to the supplier that has a
product code for the type (the first one recorded, if several are active); a type no
supplier has a code for waits for the coordinator to choose one. Units already on draft
orders are taken off the suggestion, so drafting twice does not order twice. A draft commits
no money: the coordinator checks it and raises it as usual.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role
from inventory.procurement.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from inventory.procurement.orders import OrderLine, create_purchase_order
from inventory.stock.queries import StockLevel, stock_levels

REORDER_PAGE = "/purchase-orders/reorder"  # procurement.reorder, where the suggestions are


class NothingToReorder(Conflict):
    code = "nothing_to_reorder"

    def __init__(self, message: str = "None of those types needs ordering now: each is back at its "
                                      "reorder level or already on a draft order.", **kwargs):
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class Suggestion:
    level: StockLevel
    supplier_id: int | None  # an active supplier with a product code for the type, if any
    unit_net_pence: int  # the type's standard cost
    on_drafts: int  # units already on draft orders

    @property
    def quantity(self) -> int:
        """Units to order now: to the target level, less what drafts already hold."""
        return max(self.level.to_order - self.on_drafts, 0)

    @property
    def net_pence(self) -> int:
        return self.quantity * self.unit_net_pence


def _first_supplier():
    return (select(SupplierProductCode.supplier_id)
            .join(Supplier, Supplier.id == SupplierProductCode.supplier_id)
            .where(SupplierProductCode.item_type_id == ItemType.id, Supplier.active.is_(True))
            .order_by(SupplierProductCode.id).limit(1).correlate(ItemType).scalar_subquery())


def _on_drafts():
    return (select(func.coalesce(func.sum(PurchaseOrderLine.quantity_ordered), 0))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
            .where(PurchaseOrderLine.item_type_id == ItemType.id, PurchaseOrder.status == PurchaseOrderStatus.DRAFT)
            .correlate(ItemType).scalar_subquery())


def suggestions(item_type_ids=None) -> list[Suggestion]:
    """A suggested order line for each active type below its reorder level (only those of
    `item_type_ids`, if given): two statements, whatever the size of the catalogue."""
    levels = [level for level in stock_levels(low_only=True)
              if item_type_ids is None or level.item_type_id in item_type_ids]
    if not levels:
        return []
    details = {type_id: (cost, supplier_id, drafted) for type_id, cost, supplier_id, drafted in db.session.execute(
        select(ItemType.id, ItemType.standard_cost_pence, _first_supplier(), _on_drafts())
        .where(ItemType.id.in_([level.item_type_id for level in levels])))}
    suggested = []
    for level in levels:
        cost, supplier_id, drafted = details[level.item_type_id]
        suggested.append(Suggestion(level, supplier_id=supplier_id, unit_net_pence=cost, on_drafts=int(drafted)))
    return suggested


def draft_reorder(supplier: Supplier, item_type_ids: list[int], *, actor) -> PurchaseOrder:
    """A draft order from `supplier` for the suggested lines of these types (those still low
    and not yet on a draft); refused with `nothing_to_reorder` if none is left."""
    lines = [OrderLine(suggestion.level.item_type_id, suggestion.quantity, suggestion.unit_net_pence)
             for suggestion in suggestions(set(item_type_ids)) if suggestion.quantity > 0]
    if not lines:
        raise NothingToReorder()
    return create_purchase_order(supplier=supplier, lines=lines, actor=actor,
                                 notes="Reorder of stock below its reorder level")


def low_stock(now: datetime) -> JobOutcome:
    """The job: one notice to coordinators per active type below its reorder level, linking
    to the suggested orders. Stock levels are as they stand; `now` changes nothing here."""
    levels = stock_levels(low_only=True)
    return JobOutcome(counts={"low_types": len(levels)}, notices=[Notice(
        kind="low_stock", subject=f"item_type:{level.item_type_id}",
        message=(f"{level.item_type} is low: {level.in_stock} in stock and {level.on_order} on order, "
                 f"below its reorder level of {level.reorder_level}. Suggested order: {level.to_order}."),
        link=REORDER_PAGE, roles=(str(Role.COORDINATOR),)) for level in levels])
