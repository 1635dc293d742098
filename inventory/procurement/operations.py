"""Use cases for purchase orders, goods receipts and supplier invoices.

Money goes through the budget ledger: raising an order commits its value (refused over
budget, with the shortfall), cancelling releases what is still committed, and posting an
invoice writes the actual and releases the matching part of the commitment. Functions
flush and never commit; the caller commits once.
"""
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.catalogue.models import ItemType, Supplier, SupplierProductCode
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.money import MoneyError, check_pence, format_pence
from inventory.permissions import Permission, has_permission
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    OPEN_FOR_RECEIPT,
    GoodsReceipt,
    GoodsReceiptLine,
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from inventory.requests import holdings
from inventory.requests import operations as requests
from inventory.requests.models import EquipmentRequest, RequestLine
from inventory.stock.models import Item, Location
from inventory.stock.operations import NewUnits, check_quantity, clean_serial_numbers, receive_units

P = PurchaseOrderStatus
MAX_LINES = 50


class OrderNotOpen(Conflict):
    code = "purchase_order_state"


def _state(order: PurchaseOrder, allowed, doing: str) -> None:
    if order.status not in allowed:
        raise OrderNotOpen(f"{order.reference} is {order.status_label.lower()}, so it cannot be {doing}.",
                           details={"status": order.status})


def _locked_order(order: PurchaseOrder) -> PurchaseOrder:
    return db.session.execute(select(PurchaseOrder).where(PurchaseOrder.id == order.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _pence_field(value, field_name: str, **rules) -> int:
    try:
        return check_pence(value, **rules)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field_name: str(error)}) from None


def _text(value, field_name: str, limit: int = 500, *, required: str | None = None) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(required, fields={field_name: required})
    if len(value) > limit:
        raise InvalidInput("That text is too long.", fields={field_name: f"At most {limit} characters."})
    return value or None


def _charged(net: int, vat: int) -> int:
    """What the budget is charged for an amount: gross, or net where VAT is reclaimed."""
    return net if ledger.vat_reclaimed() else net + vat


# Orders ---------------------------------------------------------------------------------

@dataclass
class OrderLine:
    item_type_id: int
    quantity: int
    unit_net_pence: int
    unit_vat_pence: int = 0
    request_line_id: int | None = None  # the approved request line it is ordered for


def _request_line(line: OrderLine, item_type: ItemType, prefix: str) -> RequestLine | None:
    if line.request_line_id is None:
        return None
    valid_id = isinstance(line.request_line_id, int) and not isinstance(line.request_line_id, bool)
    request_line = db.session.get(RequestLine, line.request_line_id) if valid_id else None
    if request_line is None or request_line.item_type_id != item_type.id:
        raise InvalidInput("That request line is not for this item type.",
                           fields={f"{prefix}.request_line_id": "Not a request line for this item type."})
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
    order = PurchaseOrder(supplier=supplier, status=P.DRAFT, created_by_id=actor.id, notes=_text(notes, "notes"))
    codes = dict(db.session.execute(select(SupplierProductCode.item_type_id, SupplierProductCode.product_code)
                                    .where(SupplierProductCode.supplier_id == supplier.id)).all())
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        valid_id = isinstance(line.item_type_id, int) and not isinstance(line.item_type_id, bool)
        item_type = db.session.get(ItemType, line.item_type_id) if valid_id else None
        if item_type is None or not item_type.active:
            raise InvalidInput("Unknown item type.", fields={f"{prefix}.item_type_id": "Choose an active item type."})
        quantity = check_quantity(line.quantity, f"{prefix}.quantity", MAX_LINE_QUANTITY)
        order.lines.append(PurchaseOrderLine(
            item_type=item_type, quantity_ordered=quantity, supplier_product_code=codes.get(item_type.id),
            request_line=_request_line(line, item_type, prefix),
            unit_net_pence=_pence_field(line.unit_net_pence, f"{prefix}.unit_net_pence", allow_zero=True),
            unit_vat_pence=_pence_field(line.unit_vat_pence, f"{prefix}.unit_vat_pence", allow_zero=True),
        ))
    if _charged(order.net_pence, order.vat_pence) <= 0:
        raise InvalidInput("The order is worth nothing.", fields={"lines": "Give the lines their prices."})
    _pence_field(order.gross_pence, "lines")  # refuses an absurd total
    db.session.add(order)
    db.session.flush()
    return order


@dataclass(frozen=True)
class ToOrder:
    """A request line's units awaiting stock that no open order is bringing yet."""

    line: RequestLine
    quantity: int

    @property
    def cost_pence(self) -> int:
        return self.quantity * self.line.item_type.standard_cost_pence


def still_to_order(request: EquipmentRequest) -> list[ToOrder]:
    """What an order for this request would carry: each line's uncovered units."""
    covered = holdings.covered_quantities(line.id for line in request.lines)
    wanted = [ToOrder(line, holdings.uncovered_quantity(line, covered)) for line in request.lines]
    return [row for row in wanted if row.quantity]


def draft_order_for_request(request_id: int, supplier_id, *, actor) -> PurchaseOrder:
    """A draft order for what an approved request still awaits and no open order brings,
    at standard cost, each line naming the request line it is for. Raising it converts the
    request's commitment."""
    if not has_permission(actor, Permission.MANAGE_PURCHASE_ORDERS):
        raise NotAllowed("Only coordinators and finance raise purchase orders.")
    request = requests.get_request(actor, request_id)
    if request.state_enum not in holdings.HOLDING_STATES:
        raise Conflict(f"This request is {request.state_enum.label.lower()}: it awaits nothing to order.",
                       code="wrong_state", details={"state": request.state})
    valid_id = isinstance(supplier_id, int) and not isinstance(supplier_id, bool)
    supplier = db.session.get(Supplier, supplier_id) if valid_id else None
    if supplier is None:
        raise InvalidInput("Choose a supplier.", fields={"supplier_id": "Choose an active supplier."})
    wanted = still_to_order(request)
    if not wanted:
        raise Conflict("Everything this request awaits is already on order.", code="nothing_to_order")
    return create_purchase_order(
        supplier=supplier, actor=actor, notes=f"For request {request.id} (case {request.case.reference})",
        lines=[OrderLine(row.line.item_type_id, row.quantity, row.line.item_type.standard_cost_pence,
                         request_line_id=row.line.id) for row in wanted])


def raise_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Send the order: its value is committed in the budget, or the raise is refused with
    the shortfall (BudgetExceeded, 409). The commitment of the requests it is ordered for is
    converted first, in the same transaction, so the same need is never committed twice and
    only a price above standard cost needs more budget."""
    order = _locked_order(order)
    _state(order, (P.DRAFT,), "raised")
    holdings.convert_for_order(order, holdings.lock_requests_of(order), actor=actor)
    commitment = ledger.commit(
        _charged(order.net_pence, order.vat_pence), on=clock.today(), actor=actor,
        memo=f"{order.reference} to {order.supplier.name}", source_type="purchase_order", source_id=order.id,
    )
    order.status, order.raised_at, order.raised_by_id, order.commitment_id = (
        P.RAISED, clock.now(), actor.id, commitment.id)
    db.session.flush()
    return order


def _outstanding_value(order: PurchaseOrder) -> int:
    return sum(_charged(line.outstanding * line.unit_net_pence, line.outstanding * line.unit_vat_pence)
               for line in order.lines)


def cancel_purchase_order(order: PurchaseOrder, *, actor, reason: str) -> PurchaseOrder:
    """Cancel what has not arrived. Releases the commitment for the goods still outstanding
    (goods already received stay committed until their invoice posts).

    Units it was bringing for a request that still awaits them are owed again: their
    standard cost is committed to the request again, as at approval, in the same
    transaction (refused with `budget_exceeded` if the budget cannot hold it, and then
    nothing is cancelled). Each pound thus stays in one state that tells the truth: the
    approved need is committed, the order's is not; leaving it uncommitted would let the
    money be spent twice, once on someone else and again when this request is met."""
    reason = _text(reason, "reason", required="Say why the order is cancelled.")
    order = _locked_order(order)
    _state(order, (P.DRAFT, P.RAISED, P.PARTLY_RECEIVED), "cancelled")
    requests = holdings.lock_requests_of(order) if order.status != P.DRAFT else []
    need = holdings.need_covered_by(order, requests)
    if order.commitment is not None:
        to_release = min(ledger.open_amount_pence(order.commitment), _outstanding_value(order))
        if to_release > 0:
            ledger.release(order.commitment, to_release, on=clock.today(), actor=actor,
                           memo=f"{order.reference} cancelled: {reason}"[:ledger.MEMO_MAX])
    order.status, order.cancelled_at, order.cancel_reason = P.CANCELLED, clock.now(), reason
    db.session.flush()
    holdings.recommit_after_cancel(order, requests, need, actor=actor)
    return order


def close_purchase_order(order: PurchaseOrder, *, actor) -> PurchaseOrder:
    """Everything arrived and is invoiced: release whatever of the commitment is left."""
    order = _locked_order(order)
    _state(order, (P.RECEIVED,), "closed")
    awaiting = db.session.scalar(select(SupplierInvoice.id).where(
        SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.status == InvoiceStatus.AWAITING_APPROVAL))
    if awaiting is not None:
        raise OrderNotOpen(f"{order.reference} has an invoice awaiting finance's approval.",
                           details={"status": order.status})
    left = ledger.open_amount_pence(order.commitment)
    if left > 0:
        ledger.release(order.commitment, left, on=clock.today(), actor=actor, memo=f"{order.reference} closed")
    order.status, order.closed_at = P.CLOSED, clock.now()
    db.session.flush()
    return order


# Receipts --------------------------------------------------------------------------------

@dataclass
class ReceiptLine:
    line_id: int
    quantity: int
    serial_numbers: list[str] = field(default_factory=list)


def receive_goods(order: PurchaseOrder, *, lines: list[ReceiptLine] | None, location: Location, actor,
                  note: str | None = None) -> GoodsReceipt:
    """Receive goods line by line (part quantities allowed), or everything outstanding when
    `lines` is None. Each unit becomes an in-stock Item with a new code. Receiving more than
    is outstanding is refused; the order and its lines are locked so two receipts of the
    last unit cannot both succeed."""
    order = _locked_order(order)
    _state(order, OPEN_FOR_RECEIPT, "received against")
    order_lines = {line.id: line for line in db.session.scalars(
        select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.id).with_for_update().execution_options(populate_existing=True))}
    if lines is None:
        lines = [ReceiptLine(line.id, line.outstanding) for line in order_lines.values() if line.outstanding]
    if not lines:
        raise InvalidInput("Say what arrived.", fields={"lines": "Receive at least one line."})
    seen = set()
    receipt = GoodsReceipt(purchase_order_id=order.id, location_id=location.id, received_by_id=actor.id,
                           note=_text(note, "note"))
    db.session.add(receipt)
    db.session.flush()
    for index, wanted in enumerate(lines):
        prefix = f"lines.{index}"
        line = order_lines.get(wanted.line_id)
        if line is None or wanted.line_id in seen:
            raise InvalidInput("That line is not on this order (or is given twice).",
                               fields={f"{prefix}.line_id": "Not a line of this order."})
        seen.add(line.id)
        quantity = check_quantity(wanted.quantity, f"{prefix}.quantity", MAX_LINE_QUANTITY)
        if quantity > line.outstanding:
            message = (f"Only {line.outstanding} of {line.quantity_ordered} {line.item_type.name} still to come; "
                       f"{quantity} is more than was ordered.")
            raise InvalidInput(message, code="more_than_ordered", fields={f"{prefix}.quantity": message},
                               details={"outstanding": line.outstanding})
        serials = clean_serial_numbers(wanted.serial_numbers, line.item_type, field=f"{prefix}.serial_numbers")
        # Counted as received before the units are reserved: what the order still brings for
        # a request is what keeps its converted commitment from being released again.
        line.quantity_received += quantity
        receive_units(NewUnits(
            item_type=line.item_type, quantity=quantity, location=location, serial_numbers=serials,
            purchase_cost_pence=_charged(line.unit_net_pence, line.unit_vat_pence), supplier=order.supplier,
            purchase_order_id=order.id, goods_receipt_id=receipt.id, for_request_line_id=line.request_line_id,
        ), actor=actor)
        receipt.lines.append(GoodsReceiptLine(purchase_order_line_id=line.id, quantity=quantity))
    order.status = P.RECEIVED if all(line.outstanding == 0 for line in order_lines.values()) else P.PARTLY_RECEIVED
    db.session.flush()
    return receipt


def receipt_items(receipt: GoodsReceipt) -> list[Item]:
    return list(db.session.scalars(select(Item).where(Item.goods_receipt_id == receipt.id).order_by(Item.id)))


# Invoices --------------------------------------------------------------------------------

@dataclass
class InvoiceLine:
    line_id: int
    quantity: int
    unit_net_pence: int
    unit_vat_pence: int = 0


def three_way_mismatches(order: PurchaseOrder, lines: list[tuple[PurchaseOrderLine, InvoiceLine]]) -> list[dict]:
    """Compare each invoiced line with what was ordered and received, and with what earlier
    invoices already billed. A price may differ by the tolerance setting; quantities not at all."""
    tolerance_bp = current_app.config["INVOICE_PRICE_TOLERANCE_BP"]
    billed: dict[int, int] = {}
    for line_id, quantity in db.session.execute(
            select(SupplierInvoiceLine.purchase_order_line_id, SupplierInvoiceLine.quantity)
            .join(SupplierInvoice).where(SupplierInvoice.purchase_order_id == order.id,
                                         SupplierInvoice.kind == InvoiceKind.INVOICE)):
        billed[line_id] = billed.get(line_id, 0) + quantity
    problems = []
    for po_line, invoiced in lines:
        name = po_line.item_type.name
        total = billed.get(po_line.id, 0) + invoiced.quantity
        if total > po_line.quantity_ordered:
            problems.append({"line_id": po_line.id, "problem": (
                f"{name}: {total} invoiced in all, but {po_line.quantity_ordered} ordered.")})
        elif total > po_line.quantity_received:
            problems.append({"line_id": po_line.id, "problem": (
                f"{name}: {total} invoiced in all, but only {po_line.quantity_received} received.")})
        for label, ordered, charged in (("net", po_line.unit_net_pence, invoiced.unit_net_pence),
                                        ("VAT", po_line.unit_vat_pence, invoiced.unit_vat_pence)):
            if abs(charged - ordered) * 10_000 > ordered * tolerance_bp:
                problems.append({"line_id": po_line.id, "problem": (
                    f"{name}: unit {label} {format_pence(charged)} against {format_pence(ordered)} ordered, "
                    f"beyond the {tolerance_bp / 100:g}% tolerance.")})
    return problems


def _invoice_number(supplier: Supplier, kind: InvoiceKind, number: str) -> str:
    number = _text(number, "number", 60, required="Enter the supplier's document number.")
    if db.session.scalar(select(SupplierInvoice.id).where(
            SupplierInvoice.supplier_id == supplier.id, SupplierInvoice.kind == kind,
            SupplierInvoice.number == number)) is not None:
        raise InvalidInput(f"{number} from {supplier.name} is already recorded.",
                           fields={"number": "Already recorded for this supplier."}, code="duplicate_invoice")
    return number


def _invoice_date(value) -> date:
    if not isinstance(value, date):
        raise InvalidInput("Give the document's date.", fields={"invoice_date": "Enter a date."})
    return value


INVOICEABLE = (P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED)


def record_invoice(order: PurchaseOrder, *, number: str, invoice_date: date, lines: list[InvoiceLine], actor
                   ) -> SupplierInvoice:
    """Record a supplier's invoice against an order. Within tolerance it posts at once (the
    actual is written and the order's commitment released by as much); otherwise it waits
    for finance to approve it with a reason."""
    order = _locked_order(order)
    _state(order, INVOICEABLE, "invoiced")
    number = _invoice_number(order.supplier, InvoiceKind.INVOICE, number)
    invoice_date = _invoice_date(invoice_date)
    if not lines:
        raise InvalidInput("An invoice needs at least one line.", fields={"lines": "Add at least one line."})
    order_lines = {line.id: line for line in order.lines}
    matched = []
    for index, line in enumerate(lines):
        prefix = f"lines.{index}"
        po_line = order_lines.get(line.line_id)
        if po_line is None:
            raise InvalidInput("That line is not on this order.", fields={f"{prefix}.line_id": "Not on this order."})
        check_quantity(line.quantity, f"{prefix}.quantity", MAX_LINE_QUANTITY)
        _pence_field(line.unit_net_pence, f"{prefix}.unit_net_pence", allow_zero=True)
        _pence_field(line.unit_vat_pence, f"{prefix}.unit_vat_pence", allow_zero=True)
        matched.append((po_line, line))
    net = sum(line.quantity * line.unit_net_pence for _, line in matched)
    vat = sum(line.quantity * line.unit_vat_pence for _, line in matched)
    _pence_field(net + vat, "lines")
    if net + vat == 0:
        raise InvalidInput("The invoice is for nothing.", fields={"lines": "Give the lines their prices."})
    invoice = SupplierInvoice(
        purchase_order_id=order.id, supplier_id=order.supplier_id, kind=InvoiceKind.INVOICE, number=number,
        invoice_date=invoice_date, status=InvoiceStatus.AWAITING_APPROVAL, net_pence=net, vat_pence=vat,
        gross_pence=net + vat, mismatches=three_way_mismatches(order, matched), recorded_by_id=actor.id,
        lines=[SupplierInvoiceLine(purchase_order_line_id=po_line.id, quantity=line.quantity,
                                   unit_net_pence=line.unit_net_pence, unit_vat_pence=line.unit_vat_pence)
               for po_line, line in matched],
    )
    db.session.add(invoice)
    db.session.flush()
    if not invoice.mismatches:
        _post(invoice, order, actor)
    return invoice


def approve_invoice(invoice: SupplierInvoice, *, actor, reason: str) -> SupplierInvoice:
    """Finance accepts an invoice outside tolerance, in writing, and it posts."""
    if not has_permission(actor, Permission.POST_INVOICES):
        raise NotAllowed("Only finance can approve an invoice outside tolerance.")
    reason = _text(reason, "reason", required="Write why this invoice is accepted despite the differences.")
    order = _locked_order(invoice.purchase_order)
    if invoice.status != InvoiceStatus.AWAITING_APPROVAL:
        raise Conflict("This invoice is already posted.", code="already_decided")
    invoice.approved_by_id, invoice.approval_reason, invoice.approved_at = actor.id, reason, clock.now()
    _post(invoice, order, actor)
    return invoice


def _post(invoice: SupplierInvoice, order: PurchaseOrder, actor) -> None:
    entry = ledger.post_actual(
        invoice.gross_pence, on=invoice.invoice_date, actor=actor,
        memo=f"Invoice {invoice.number} from {order.supplier.name} for {order.reference}"[:ledger.MEMO_MAX],
        source_type="invoice", source_id=invoice.id, net_pence=invoice.net_pence, vat_pence=invoice.vat_pence,
        releasing=order.commitment,
    )
    invoice.status, invoice.ledger_entry_id = InvoiceStatus.POSTED, entry.id
    db.session.flush()


def record_credit_note(order: PurchaseOrder, *, number: str, invoice_date: date, net_pence: int, vat_pence: int,
                       reason: str, actor) -> SupplierInvoice:
    """Money back from the supplier against this order: posts a ledger credit."""
    order = _locked_order(order)
    _state(order, INVOICEABLE + (P.CLOSED,), "credited")
    number = _invoice_number(order.supplier, InvoiceKind.CREDIT_NOTE, number)
    reason = _text(reason, "reason", required="Say what the credit is for.")
    net = _pence_field(net_pence, "net_pence", allow_zero=True)
    vat = _pence_field(vat_pence, "vat_pence", allow_zero=True)
    note = SupplierInvoice(
        purchase_order_id=order.id, supplier_id=order.supplier_id, kind=InvoiceKind.CREDIT_NOTE, number=number,
        invoice_date=_invoice_date(invoice_date), status=InvoiceStatus.AWAITING_APPROVAL, net_pence=net,
        vat_pence=vat, gross_pence=net + vat, reason=reason, recorded_by_id=actor.id, mismatches=[],
    )
    db.session.add(note)
    db.session.flush()
    entry = ledger.credit(note.gross_pence, on=note.invoice_date, actor=actor,
                          memo=f"Credit note {number} from {order.supplier.name}: {reason}"[:ledger.MEMO_MAX],
                          source_type="invoice", source_id=note.id, net_pence=net, vat_pence=vat)
    note.status, note.ledger_entry_id = InvoiceStatus.POSTED, entry.id
    db.session.flush()
    return note
