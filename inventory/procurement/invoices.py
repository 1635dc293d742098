"""Supplier invoices and credit notes against purchase orders.

An invoice is checked three ways (ordered, received, invoiced). Within tolerance it posts
at once: the actual is written and the order's commitment released by as much. Otherwise
it awaits finance's approval, in writing, and then posts. A credit note posts a ledger
credit.

    awaiting_approval -> posted
"""
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask import current_app
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.money import format_pence
from inventory.parsing import Fields
from inventory.permissions import Permission, has_permission
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from inventory.procurement.orders import ORDER_MACHINE, OrderAction, check_amount, lock_order
from inventory.states import StateMachine, Transition
from inventory.stock.receiving import check_quantity


class InvoiceDecided(Conflict):
    code = "already_decided"


class InvoiceAction(StrEnum):
    POST = "post"


INVOICE_MACHINE = StateMachine(
    "invoice",
    {InvoiceAction.POST: Transition(frozenset({InvoiceStatus.AWAITING_APPROVAL}), InvoiceStatus.POSTED)},
    refusal=InvoiceDecided,
    describe_refusal=lambda invoice, action: "This invoice is already posted.",
    refusal_details=lambda invoice: {"invoice_id": invoice.id},
    state_attribute="status",
)


@dataclass(frozen=True)
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


def _refuse_if_recorded(order: PurchaseOrder, kind: InvoiceKind, number: str) -> None:
    if db.session.scalar(select(SupplierInvoice.id).where(
            SupplierInvoice.supplier_id == order.supplier_id, SupplierInvoice.kind == kind,
            SupplierInvoice.number == number)) is not None:
        raise InvalidInput(f"{number} from {order.supplier.name} is already recorded.",
                           fields={"number": "Already recorded for this supplier."}, code="duplicate_invoice")


def _posted(document: SupplierInvoice, entry: LedgerEntry) -> None:
    INVOICE_MACHINE.apply(document, InvoiceAction.POST)
    document.ledger_entry_id = entry.id
    db.session.flush()


def record_invoice(order: PurchaseOrder, *, number: str, invoice_date: date, lines: list[InvoiceLine], actor
                   ) -> SupplierInvoice:
    """Record a supplier's invoice against an order. Within tolerance it posts at once (the
    actual is written and the order's commitment released by as much); otherwise it waits
    for finance to approve it with a reason."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, OrderAction.INVOICE)
    fields = Fields({"number": number, "invoice_date": invoice_date})
    number = fields.text("number", max_length=60)
    invoice_date = fields.date("invoice_date")
    fields.check()
    # Dated as its actual will be, also when it waits for approval first (the ledger's rule).
    ledger.check_entry_date(invoice_date, EntryKind.ACTUAL, None, field="invoice_date")
    _refuse_if_recorded(order, InvoiceKind.INVOICE, number)
    if not lines:
        raise InvalidInput("An invoice needs at least one line.", fields={"lines": "Add at least one line."})
    order_lines = {line.id: line for line in order.lines}
    matched = []
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]."
        po_line = order_lines.get(line.line_id)
        if po_line is None:
            raise InvalidInput("That line is not on this order.", fields={f"{prefix}line_id": "Not on this order."})
        check_quantity(line.quantity, f"{prefix}quantity", MAX_LINE_QUANTITY)
        check_amount(line.unit_net_pence, f"{prefix}unit_net_pence", allow_zero=True)
        check_amount(line.unit_vat_pence, f"{prefix}unit_vat_pence", allow_zero=True)
        matched.append((po_line, line))
    net = sum(line.quantity * line.unit_net_pence for _, line in matched)
    vat = sum(line.quantity * line.unit_vat_pence for _, line in matched)
    check_amount(net + vat, "lines")
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
    fields = Fields({"reason": reason})
    reason = fields.text("reason")
    fields.check()
    order = lock_order(invoice.purchase_order)
    INVOICE_MACHINE.check(invoice, InvoiceAction.POST)
    invoice.approved_by_id, invoice.approval_reason, invoice.approved_at = actor.id, reason, clock.now()
    _post(invoice, order, actor)
    return invoice


def _post(invoice: SupplierInvoice, order: PurchaseOrder, actor) -> None:
    _posted(invoice, ledger.post_actual(
        invoice.gross_pence, on=invoice.invoice_date, actor=actor,
        memo=f"Invoice {invoice.number} from {order.supplier.name} for {order.reference}"[:ledger.MEMO_MAX],
        source_type="invoice", source_id=invoice.id, net_pence=invoice.net_pence, vat_pence=invoice.vat_pence,
        releasing=order.commitment, date_field="invoice_date",
    ))


def record_credit_note(order: PurchaseOrder, *, number: str, invoice_date: date, net_pence: int, vat_pence: int,
                       reason: str, actor) -> SupplierInvoice:
    """Money back from the supplier against this order: posts a ledger credit."""
    order = lock_order(order)
    ORDER_MACHINE.check(order, OrderAction.CREDIT)
    fields = Fields({"number": number, "invoice_date": invoice_date, "reason": reason, "net_pence": net_pence,
                     "vat_pence": vat_pence})
    number = fields.text("number", max_length=60)
    invoice_date = fields.date("invoice_date")
    reason = fields.text("reason")
    net = fields.pence("net_pence", allow_zero=True)
    vat = fields.pence("vat_pence", allow_zero=True)
    fields.check()
    check_amount(net + vat, "net_pence")
    _refuse_if_recorded(order, InvoiceKind.CREDIT_NOTE, number)
    note = SupplierInvoice(
        purchase_order_id=order.id, supplier_id=order.supplier_id, kind=InvoiceKind.CREDIT_NOTE, number=number,
        invoice_date=invoice_date, status=InvoiceStatus.AWAITING_APPROVAL, net_pence=net, vat_pence=vat,
        gross_pence=net + vat, reason=reason, recorded_by_id=actor.id, mismatches=[],
    )
    db.session.add(note)
    db.session.flush()
    _posted(note, ledger.credit(note.gross_pence, on=note.invoice_date, actor=actor,
                                memo=f"Credit note {number} from {order.supplier.name}: {reason}"[:ledger.MEMO_MAX],
                                source_type="invoice", source_id=note.id, net_pence=net, vat_pence=vat,
                                date_field="invoice_date"))
    return note
