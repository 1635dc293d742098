"""Purchase orders: drafted, raised, cancelled and closed, and the state machine they share
with receipts and invoices.

    draft -> raised -> partly_received -> received -> closed, or cancelled

Money goes through the budget ledger, one commitment per budget category of the order's
lines: raising commits its value (refused over budget, with the shortfall). From then on
the order commits exactly what it still has to be invoiced for (`settle_commitments`):
invoices release what they charge, cancelling releases what will not come, closing releases
the rest, and reversing an invoice commits it again. A closed or cancelled order commits
nothing. Requests an order is for react through the hooks below, so procurement never
imports them. Functions flush and never commit.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.budget.queries import open_pence_of
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.money import MoneyError, check_pence, format_pence
from inventory.parsing import Fields
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    OPEN_FOR_RECEIPT,
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SupplierInvoice,
    SupplierInvoiceLine,
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
    CANCEL = "cancel"  # nothing has arrived: the whole order is called off
    CANCEL_REST = "cancel_rest"  # what has not arrived is called off; what came awaits its invoice
    CLOSE = "close"
    REOPEN = "reopen"  # an invoice of a closed order was reversed: it awaits invoicing again
    INVOICE = "invoice"
    CREDIT = "credit"


A = OrderAction
# How a refusal names each action: "PO-00012 is draft, so it cannot be received against."
_DOING = {A.RAISE: "raised", A.RECEIVE: "received against", A.RECEIVE_LAST: "received against",
          A.CANCEL: "cancelled", A.CANCEL_REST: "cancelled", A.CLOSE: "closed", A.REOPEN: "reopened",
          A.INVOICE: "invoiced", A.CREDIT: "credited"}
INVOICEABLE = frozenset({P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED})

ORDER_MACHINE = StateMachine(
    "purchase order",
    {
        A.RAISE: Transition(frozenset({P.DRAFT}), P.RAISED),
        A.RECEIVE: Transition(frozenset(OPEN_FOR_RECEIPT), P.PARTLY_RECEIVED),
        A.RECEIVE_LAST: Transition(frozenset(OPEN_FOR_RECEIPT), P.RECEIVED),
        A.CANCEL: Transition(frozenset({P.DRAFT, P.RAISED}), P.CANCELLED),
        A.CANCEL_REST: Transition(frozenset({P.PARTLY_RECEIVED}), P.RECEIVED),
        A.CLOSE: Transition(frozenset({P.RECEIVED}), P.CLOSED),
        A.REOPEN: Transition(frozenset({P.CLOSED}), P.RECEIVED),
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


def cancel_action(order: PurchaseOrder) -> OrderAction:
    """Cancelling an order with goods received calls off only the rest."""
    return A.CANCEL_REST if order.status == P.PARTLY_RECEIVED else A.CANCEL


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


# Orders whose money is still to be invoiced: the only orders that may commit any.
COMMITTING = (P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED)


def orders_owning_commitments(sources: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Of these (source_type, source_id) with money committed, the open purchase orders
    (receiver of the ledger verification's `open_commitment_owners`)."""
    ids = [source_id for source_type, source_id in sources if source_type == SourceType.PURCHASE_ORDER]
    if not ids:
        return set()
    return {(str(SourceType.PURCHASE_ORDER), order_id) for order_id in db.session.scalars(
        select(PurchaseOrder.id).where(PurchaseOrder.id.in_(ids),
                                       PurchaseOrder.status.in_([str(s) for s in COMMITTING])))}


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


# What an order commits -----------------------------------------------------------------------

def line_category(line: PurchaseOrderLine) -> str | None:
    """The budget category an order line's money is held under: the one it took from its item
    type when it was drafted (the one place that says so)."""
    return line.budget_category.name


def order_commitments(order: PurchaseOrder) -> list[LedgerEntry]:
    """The order's commitments, one per budget category (more after a reversal restored
    one), found through the ledger's source index."""
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_type == SourceType.PURCHASE_ORDER, LedgerEntry.source_id == order.id,
        LedgerEntry.kind == EntryKind.COMMITMENT).order_by(LedgerEntry.id)))


def committed_pence(order: PurchaseOrder) -> int:
    """What the order still holds committed, in every category."""
    return open_pence_of(SourceType.PURCHASE_ORDER, order.id)


def category_key(commitments: list[LedgerEntry]):
    """How an order's lines map to its commitments' categories. An order raised before
    commitments were made per category holds one uncategorised commitment for all its lines."""
    if any(commitment.category is None for commitment in commitments):
        return lambda line: None
    return line_category


def _by_category(pairs) -> dict[str | None, int]:
    totals: dict[str | None, int] = defaultdict(int)
    for category, amount in pairs:
        totals[category] += amount
    return dict(totals)


def _sorted(categories):
    return sorted(categories, key=lambda category: category or "")


def expected_value(order: PurchaseOrder, key=line_category) -> dict[str | None, int]:
    """The charged value of what the order expects, by budget category: all it ordered, or
    only what came once the rest was cancelled."""
    return _by_category(
        (key(line), charged(units * line.unit_net_pence, units * line.unit_vat_pence))
        for line in order.lines
        for units in [line.quantity_received if order.rest_cancelled else line.quantity_ordered])


def still_to_invoice(order: PurchaseOrder, key=line_category) -> dict[str | None, int]:
    """What the order has still to be invoiced for, by budget category: what it expects less
    what its posted invoices charged. Nothing once it is closed or cancelled, or while a draft."""
    if order.status in (P.DRAFT, P.CLOSED, P.CANCELLED):
        return {}
    invoiced = _by_category(
        (key(line.purchase_order_line), charged(line.net_pence, line.vat_pence))
        for line in db.session.scalars(
            select(SupplierInvoiceLine).join(SupplierInvoice).where(
                SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.kind == InvoiceKind.INVOICE,
                SupplierInvoice.status == InvoiceStatus.POSTED)))
    return {category: max(value - invoiced.get(category, 0), 0)
            for category, value in expected_value(order, key).items()}


def settle_commitments(order: PurchaseOrder, *, on: date, actor, why: str, may_commit: bool = False) -> None:
    """Bring the order's open commitments, category by category, to what it still has to be
    invoiced for: release any excess and, with `may_commit`, commit any shortfall again
    (refused with `budget_exceeded` if the budget cannot hold it)."""
    commitments = order_commitments(order)
    target = still_to_invoice(order, category_key(commitments))
    held: dict[str | None, list[tuple[LedgerEntry, int]]] = defaultdict(list)
    for commitment in commitments:
        still_open = ledger.open_amount_pence(commitment)
        if still_open:
            held[commitment.category].append((commitment, still_open))
    memo = f"{order.reference} {why}"[:ledger.MEMO_MAX]
    for category in _sorted(set(target) | set(held)):
        excess = sum(amount for _, amount in held[category]) - target.get(category, 0)
        for commitment, still_open in held[category]:
            if excess <= 0:
                break
            part = min(still_open, excess)
            ledger.release(commitment, part, on=on, actor=actor, memo=memo)
            excess -= part
        if excess < 0 and may_commit:
            try:
                ledger.commit(-excess, on=on, actor=actor, memo=memo, source_type=SourceType.PURCHASE_ORDER,
                              source_id=order.id, category=category)
            except ledger.BudgetExceeded as refused:
                raise Conflict(f"{order.reference} would commit again the {format_pence(-excess)} it still has "
                               f"to be invoiced for. {refused.message}", code="budget_exceeded",
                               details={**refused.details, "purchase_order_id": order.id}) from None


# Raising, cancelling, closing ---------------------------------------------------------------

def raise_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Send the order: its value is committed in the budget, one commitment per budget
    category of its lines, or the raise is refused with the shortfall (BudgetExceeded, 409).
    What its lines take over from requests is released first (`order_raising`), in the same
    transaction, so the same need is never committed twice and only a price above standard
    cost needs more budget."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, A.RAISE)
    order_raising.fire(order, actor=actor)
    values = expected_value(order)
    committed = 0
    for category in _sorted(values):
        if values[category] <= 0:
            continue
        try:
            ledger.commit(values[category], on=clock.today(), actor=actor,
                          memo=f"{order.reference} to {order.supplier.name}"[:ledger.MEMO_MAX],
                          source_type=SourceType.PURCHASE_ORDER, source_id=order.id, category=category)
        except ledger.BudgetExceeded as refused:
            # Refused for the order as a whole: what was available before it, and all it needs.
            raise ledger.BudgetExceeded(available_pence=refused.details["available_pence"] + committed,
                                        needed_pence=sum(values.values()),
                                        overspend_alert_id=refused.details.get("overspend_alert_id")) from None
        committed += values[category]
    ORDER_MACHINE.apply(order, A.RAISE, actor=actor)
    order.raised_at, order.raised_by_id = clock.now(), actor.id
    db.session.flush()
    return order


def cancel_purchase_order(order: PurchaseOrder, *, actor, reason: str) -> PurchaseOrder:
    """Call off what has not arrived. An order with nothing received is cancelled and
    releases everything; one with goods received becomes received (awaiting the invoice for
    what came) and releases the value of the rest. A cancelled order never commits money.

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
    action = cancel_action(order)
    ORDER_MACHINE.check(order, action)
    once_cancelled = order_cancelling.fire(order, actor=actor)
    ORDER_MACHINE.apply(order, action, actor=actor, note=reason)
    order.cancelled_at, order.cancel_reason = clock.now(), reason
    db.session.flush()
    settle_commitments(order, on=clock.today(), actor=actor, why=f"cancelled: {reason}")
    for then in once_cancelled:
        then()
    return order


def close_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Everything arrived and is invoiced: release whatever it still commits."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, A.CLOSE)
    awaiting = db.session.scalar(select(SupplierInvoice.id).where(
        SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.status == InvoiceStatus.AWAITING_APPROVAL))
    if awaiting is not None:
        raise OrderNotOpen(f"{order.reference} has an invoice awaiting finance's approval.",
                           details={"status": order.status})
    ORDER_MACHINE.apply(order, A.CLOSE, actor=actor)
    order.closed_at = clock.now()
    db.session.flush()
    settle_commitments(order, on=clock.today(), actor=actor, why="closed")
    return order


def reopen_for_invoicing(order: PurchaseOrder, *, on: date, actor, why: str) -> None:
    """An invoice of the order was reversed: a closed order reopens as received, and the
    order commits again what it still has to be invoiced for (a cancelled one, nothing)."""
    if order.status == P.CLOSED:
        ORDER_MACHINE.apply(order, A.REOPEN, actor=actor, note=why)
        order.closed_at = None
        db.session.flush()
    settle_commitments(order, on=on, actor=actor, why=why, may_commit=True)
