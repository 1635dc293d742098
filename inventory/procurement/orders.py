"""Purchase orders: drafted, raised, cancelled and closed, and the state machine they share
with receipts and invoices.

    draft -> raised -> partly_received -> received -> closed, or cancelled

Money goes through the budget ledger: raising an order commits its value (refused over
budget, with the shortfall), cancelling releases what is still committed, closing releases
what the invoices did not use. Requests an order is for react through the hooks below, so
procurement never imports them. Functions flush and never commit.
"""
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import MoneyError, check_pence
from inventory.parsing import Fields
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    OPEN_FOR_RECEIPT,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SupplierInvoice,
)
from inventory.states import StateMachine, Transition
from inventory.stock.receiving import check_quantity

P = PurchaseOrderStatus
MAX_LINES = 50

order_raising = Hook(
    "purchase_order_raising",
    "A purchase order is about to be raised: receivers `(order, actor=)` release what its lines now "
    "cover (the commitment of requests it is ordered for), before the order's own value is committed, "
    "so that the budget check sees the money freed.")
lines_ordered_for = Hook(
    "purchase_order_lines_ordered_for",
    "Which requests an order's lines are for: receivers `(request_line_ids)` return "
    "{request line id: a short label (request and case reference, no personal data)}, in one query.")
order_cancelling = Hook(
    "purchase_order_cancelling",
    "A purchase order is about to be cancelled, before any ledger row is touched: receivers "
    "`(order, actor=)` lock what they will change and return a callable to run once it is cancelled "
    "(requests it was ordered for commit again what it no longer brings).")


class OrderNotOpen(Conflict):
    code = "purchase_order_state"


class OrderAction(StrEnum):
    RAISE = "raise"
    RECEIVE = "receive"  # some goods arrive; more are still to come
    RECEIVE_LAST = "receive_last"  # the last goods outstanding arrive
    CANCEL = "cancel"
    CLOSE = "close"
    INVOICE = "invoice"
    CREDIT = "credit"


A = OrderAction
# How a refusal names each action: "PO-00012 is draft, so it cannot be received against."
_DOING = {A.RAISE: "raised", A.RECEIVE: "received against", A.RECEIVE_LAST: "received against",
          A.CANCEL: "cancelled", A.CLOSE: "closed", A.INVOICE: "invoiced", A.CREDIT: "credited"}
INVOICEABLE = frozenset({P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED})

ORDER_MACHINE = StateMachine(
    "purchase order",
    {
        A.RAISE: Transition(frozenset({P.DRAFT}), P.RAISED),
        A.RECEIVE: Transition(frozenset(OPEN_FOR_RECEIPT), P.PARTLY_RECEIVED),
        A.RECEIVE_LAST: Transition(frozenset(OPEN_FOR_RECEIPT), P.RECEIVED),
        A.CANCEL: Transition(frozenset({P.DRAFT, P.RAISED, P.PARTLY_RECEIVED}), P.CANCELLED),
        A.CLOSE: Transition(frozenset({P.RECEIVED}), P.CLOSED),
        A.INVOICE: Transition(INVOICEABLE),
        A.CREDIT: Transition(INVOICEABLE | {P.CLOSED}),
    },
    refusal=OrderNotOpen,
    describe_refusal=lambda order, action: (
        f"{order.reference} is {order.status_label.lower()}, so it cannot be {_DOING[action]}."),
    refusal_details=lambda order: {"status": order.status},
    state_attribute="status",
)


def lock_order(order: PurchaseOrder) -> PurchaseOrder:
    """The order re-read with its row locked until commit."""
    return db.session.execute(select(PurchaseOrder).where(PurchaseOrder.id == order.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def check_amount(value, field_name: str, **rules) -> int:
    """A price or total in pence that the ledger can hold (see `money.check_pence`)."""
    try:
        return check_pence(value, **rules)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field_name: str(error)}) from None


def charged(net: int, vat: int) -> int:
    """What the budget is charged for an amount: gross, or net where VAT is reclaimed."""
    return net if ledger.vat_reclaimed() else net + vat


def outstanding_units():
    """Per item type, the units open orders have still to deliver (for stock levels)."""
    return (select(PurchaseOrderLine.item_type_id,
                   func.sum(PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received).label("units"))
            .join(PurchaseOrder).where(PurchaseOrder.status.in_([str(s) for s in OPEN_FOR_RECEIPT]))
            .group_by(PurchaseOrderLine.item_type_id))


# Drafting ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderLine:
    item_type_id: int
    quantity: int
    unit_net_pence: int
    unit_vat_pence: int = 0
    request_line_id: int | None = None  # the approved request line it is ordered for


def _request_line(line: OrderLine, item_type: ItemType, field_name: str):
    """The request line an order line is for, which must want the same item type. It is read
    through the order line's relationship: requests are built on procurement, which does not
    import them."""
    if line.request_line_id is None:
        return None
    request_line = db.session.get(PurchaseOrderLine.request_line.property.mapper, line.request_line_id)
    if request_line is None or request_line.item_type_id != item_type.id:
        raise InvalidInput("That request line is not for this item type.",
                           fields={field_name: "Not a request line for this item type."})
    return request_line


def create_purchase_order(*, supplier: Supplier, lines: list[OrderLine], actor, notes: str | None = None
                          ) -> PurchaseOrder:
    """A draft order: nothing is committed until it is raised."""
    if not supplier.active:
        raise InvalidInput("That supplier is inactive.", fields={"supplier_id": "Choose an active supplier."})
    if not lines:
        raise InvalidInput("An order needs at least one line.", fields={"lines": "Add at least one line."})
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines.", fields={"lines": f"At most {MAX_LINES} lines."})
    fields = Fields({"notes": notes})
    notes = fields.text("notes", required=False)
    fields.check()
    order = PurchaseOrder(supplier=supplier, status=P.DRAFT, created_by_id=actor.id, notes=notes)
    codes = dict(db.session.execute(select(SupplierProductCode.item_type_id, SupplierProductCode.product_code)
                                    .where(SupplierProductCode.supplier_id == supplier.id)).all())
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]."
        item_type = db.session.get(ItemType, line.item_type_id)
        if item_type is None or not item_type.active:
            raise InvalidInput("Unknown item type.", fields={f"{prefix}item_type_id": "Choose an active item type."})
        quantity = check_quantity(line.quantity, f"{prefix}quantity", MAX_LINE_QUANTITY)
        order.lines.append(PurchaseOrderLine(
            item_type=item_type, budget_category_id=item_type.budget_category_id, quantity_ordered=quantity,
            supplier_product_code=codes.get(item_type.id),
            request_line=_request_line(line, item_type, f"{prefix}request_line_id"),
            unit_net_pence=check_amount(line.unit_net_pence, f"{prefix}unit_net_pence", allow_zero=True),
            unit_vat_pence=check_amount(line.unit_vat_pence, f"{prefix}unit_vat_pence", allow_zero=True),
        ))
    if charged(order.net_pence, order.vat_pence) <= 0:
        raise InvalidInput("The order is worth nothing.", fields={"lines": "Give the lines their prices."})
    check_amount(order.gross_pence, "lines")  # refuses an absurd total
    db.session.add(order)
    db.session.flush()
    return order


# Raising, cancelling, closing ---------------------------------------------------------------

def raise_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Send the order: its value is committed in the budget, or the raise is refused with
    the shortfall (BudgetExceeded, 409). What its lines take over from requests is released
    first (`order_raising`), in the same transaction, so the same need is never committed
    twice and only a price above standard cost needs more budget."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, A.RAISE)
    order_raising.fire(order, actor=actor)
    commitment = ledger.commit(
        charged(order.net_pence, order.vat_pence), on=clock.today(), actor=actor,
        memo=f"{order.reference} to {order.supplier.name}", source_type="purchase_order", source_id=order.id,
    )
    ORDER_MACHINE.apply(order, A.RAISE, actor=actor)
    order.raised_at, order.raised_by_id, order.commitment_id = clock.now(), actor.id, commitment.id
    db.session.flush()
    return order


def _outstanding_value(order: PurchaseOrder) -> int:
    return sum(charged(line.outstanding * line.unit_net_pence, line.outstanding * line.unit_vat_pence)
               for line in order.lines)


def cancel_purchase_order(order: PurchaseOrder, *, actor, reason: str) -> PurchaseOrder:
    """Cancel what has not arrived. Releases the commitment for the goods still outstanding
    (goods already received stay committed until their invoice posts).

    Units it was bringing for a request that still awaits them are owed again: their
    standard cost is committed to the request again, as at approval, in the same
    transaction (`order_cancelling`; refused with `budget_exceeded` if the budget cannot
    hold it, and then nothing is cancelled). Each pound thus stays in one state that tells
    the truth: the approved need is committed, the order's is not; leaving it uncommitted
    would let the money be spent twice, once on someone else and again when this request
    is met."""
    fields = Fields({"reason": reason})
    reason = fields.text("reason")
    fields.check()
    order = lock_order(order)
    ORDER_MACHINE.check(order, A.CANCEL)
    once_cancelled = order_cancelling.fire(order, actor=actor)
    if order.commitment is not None:
        to_release = min(ledger.open_amount_pence(order.commitment), _outstanding_value(order))
        if to_release > 0:
            ledger.release(order.commitment, to_release, on=clock.today(), actor=actor,
                           memo=f"{order.reference} cancelled: {reason}"[:ledger.MEMO_MAX])
    ORDER_MACHINE.apply(order, A.CANCEL, actor=actor, note=reason)
    order.cancelled_at, order.cancel_reason = clock.now(), reason
    db.session.flush()
    for then in once_cancelled:
        then()
    return order


def close_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Everything arrived and is invoiced: release whatever of the commitment is left."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, A.CLOSE)
    awaiting = db.session.scalar(select(SupplierInvoice.id).where(
        SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.status == InvoiceStatus.AWAITING_APPROVAL))
    if awaiting is not None:
        raise OrderNotOpen(f"{order.reference} has an invoice awaiting finance's approval.",
                           details={"status": order.status})
    left = ledger.open_amount_pence(order.commitment)
    if left > 0:
        ledger.release(order.commitment, left, on=clock.today(), actor=actor, memo=f"{order.reference} closed")
    ORDER_MACHINE.apply(order, A.CLOSE, actor=actor)
    order.closed_at = clock.now()
    db.session.flush()
    return order
