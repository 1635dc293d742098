"""Procurement endpoints of the JSON API (docs/api.md)."""
from flask import jsonify
from flask_login import current_user

from inventory.api import RECORD_ID, api_route, found, pence, schema, text, whole_number
from inventory.api.body import Body
from inventory.catalogue.models import Supplier
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.permissions import Permission, permission_required
from inventory.procurement import invoices, orders, receipts
from inventory.procurement.models import (
    MAX_LINE_QUANTITY,
    GoodsReceipt,
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    SupplierInvoice,
)
from inventory.stock.models import Location

INT = {"type": "integer"}
PENCE = {"type": "integer"}

PURCHASE_ORDER = schema("PurchaseOrder", {
    "type": "object",
    "required": ["id", "reference", "supplier_id", "status", "net_pence", "vat_pence", "gross_pence", "lines"],
    "properties": {
        "id": INT, "reference": {"type": "string"}, "supplier_id": INT,
        "status": {"type": "string", "enum": [str(s) for s in PurchaseOrderStatus]},
        "net_pence": PENCE, "vat_pence": PENCE, "gross_pence": PENCE,
        "commitment_ids": {"type": "array", "items": INT,
                           "description": "Its ledger commitments, one per budget category of its lines."},
        "committed_pence": {**PENCE, "description": "What it still commits: what is still to be invoiced."},
        "cancel_reason": {"type": ["string", "null"]},
        "lines": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "item_type_id", "quantity_ordered", "quantity_received", "unit_net_pence",
                         "unit_vat_pence"],
            "properties": {"id": INT, "item_type_id": INT, "quantity_ordered": INT, "quantity_received": INT,
                           "unit_net_pence": PENCE, "unit_vat_pence": PENCE,
                           "supplier_product_code": {"type": ["string", "null"]}},
        }},
    },
})

RECEIPT = schema("GoodsReceipt", {
    "type": "object",
    "required": ["id", "purchase_order_id", "purchase_order_status", "location_id", "items"],
    "properties": {
        "id": INT, "purchase_order_id": INT, "location_id": INT,
        "purchase_order_status": {"type": "string", "enum": [str(s) for s in PurchaseOrderStatus]},
        "items": {"type": "array", "items": {
            "type": "object", "required": ["id", "code", "item_type_id", "serial_number"],
            "properties": {"id": INT, "code": {"type": "string"}, "item_type_id": INT,
                           "serial_number": {"type": ["string", "null"]}},
        }},
    },
})

INVOICE = schema("SupplierInvoice", {
    "type": "object",
    "required": ["id", "purchase_order_id", "kind", "number", "invoice_date", "status", "net_pence", "vat_pence",
                 "gross_pence", "mismatches"],
    "properties": {
        "id": INT, "purchase_order_id": INT, "number": {"type": "string"},
        "kind": {"type": "string", "enum": [str(k) for k in InvoiceKind]},
        "invoice_date": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": [str(s) for s in InvoiceStatus]},
        "net_pence": PENCE, "vat_pence": PENCE, "gross_pence": PENCE,
        "mismatches": {"type": "array", "items": {"type": "object", "required": ["line_id", "problem"],
                                                  "properties": {"line_id": INT, "problem": {"type": "string"}}}},
        "credited_invoice_id": {"type": ["integer", "null"], "description": "A credit note: the invoice it credits."},
        "ledger_entry_ids": {"type": "array", "items": INT,
                             "description": "Its actuals (a credit note's credits), one per budget category."},
        "lines": {"type": "array", "items": {
            "type": "object", "required": ["id", "line_id", "quantity", "unit_net_pence", "unit_vat_pence"],
            "properties": {"id": INT, "line_id": {**INT, "description": "The purchase order line."},
                           "quantity": INT, "unit_net_pence": PENCE, "unit_vat_pence": PENCE,
                           "credited_line_id": {"type": ["integer", "null"]}}}},
    },
})

# What a request sends: the bounds the readers below enforce.
QUANTITY = whole_number(1, MAX_LINE_QUANTITY)
UNIT_PENCE = pence(allow_zero=True)
REASON = {"type": "object", "required": ["reason"], "properties": {"reason": text(required=True)}}

ORDER_INVOICE_LINES = {"type": "array", "items": {
    "type": "object", "required": ["line_id", "quantity", "unit_net_pence"],
    "properties": {"line_id": RECORD_ID, "quantity": QUANTITY, "unit_net_pence": UNIT_PENCE,
                   "unit_vat_pence": UNIT_PENCE}}}

ORDER_LINES = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["item_type_id", "quantity", "unit_net_pence"],
    "properties": {"item_type_id": RECORD_ID, "quantity": QUANTITY, "unit_net_pence": UNIT_PENCE,
                   "unit_vat_pence": UNIT_PENCE}}}


def serialise_order(order: PurchaseOrder) -> dict:
    return {
        "id": order.id, "reference": order.reference, "supplier_id": order.supplier_id, "status": order.status,
        "net_pence": order.net_pence, "vat_pence": order.vat_pence, "gross_pence": order.gross_pence,
        "commitment_ids": [commitment.id for commitment in orders.order_commitments(order)],
        "committed_pence": orders.committed_pence(order), "cancel_reason": order.cancel_reason,
        "lines": [{"id": line.id, "item_type_id": line.item_type_id, "quantity_ordered": line.quantity_ordered,
                   "quantity_received": line.quantity_received, "unit_net_pence": line.unit_net_pence,
                   "unit_vat_pence": line.unit_vat_pence, "supplier_product_code": line.supplier_product_code}
                  for line in order.lines],
    }


def serialise_invoice(invoice: SupplierInvoice) -> dict:
    return {"id": invoice.id, "purchase_order_id": invoice.purchase_order_id, "kind": invoice.kind,
            "number": invoice.number, "invoice_date": invoice.invoice_date.isoformat(), "status": invoice.status,
            "net_pence": invoice.net_pence, "vat_pence": invoice.vat_pence, "gross_pence": invoice.gross_pence,
            "mismatches": invoice.mismatches, "credited_invoice_id": invoice.credited_invoice_id,
            "ledger_entry_ids": [entry.id for entry in invoices.document_entries(invoice)],
            "lines": [{"id": line.id, "line_id": line.purchase_order_line_id, "quantity": line.quantity,
                       "unit_net_pence": line.unit_net_pence, "unit_vat_pence": line.unit_vat_pence,
                       "credited_line_id": line.credited_line_id} for line in invoice.lines]}


def _quantity(line: Fields) -> int | None:
    return line.whole_number("quantity", minimum=1, maximum=MAX_LINE_QUANTITY)


def _order_line(line: Fields) -> orders.OrderLine:
    return orders.OrderLine(line.record_id("item_type_id"), _quantity(line),
                            line.pence("unit_net_pence", allow_zero=True),
                            line.pence("unit_vat_pence", required=False, allow_zero=True) or 0)


def _receipt_line(line: Fields) -> receipts.ReceiptLine:
    return receipts.ReceiptLine(line.record_id("line_id"), _quantity(line),
                                tuple(line.texts("serial_numbers", required=False, max_length=80)))


def _invoice_line(line: Fields) -> invoices.InvoiceLine:
    return invoices.InvoiceLine(line.record_id("line_id"), _quantity(line),
                                line.pence("unit_net_pence", allow_zero=True),
                                line.pence("unit_vat_pence", required=False, allow_zero=True) or 0)


def _credit_line(line: Fields) -> invoices.CreditLine:
    return invoices.CreditLine(line.record_id("invoice_line_id"), _quantity(line),
                               line.pence("unit_net_pence", allow_zero=True),
                               line.pence("unit_vat_pence", required=False, allow_zero=True) or 0)


def _order(order_id: int) -> PurchaseOrder:
    order = found(PurchaseOrder, order_id, "purchase order")
    return order


@api_route("/purchase-orders", "POST", summary="Create a draft purchase order (nothing is committed yet).",
           response=PURCHASE_ORDER, status=201, tag="procurement", request_body={
               "type": "object", "required": ["supplier_id", "lines"],
               "properties": {"supplier_id": RECORD_ID, "lines": ORDER_LINES, "notes": text()}})
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def create_purchase_order():
    body = Body()
    supplier_id = body.record_id("supplier_id")
    lines = [_order_line(line) for line in body.objects("lines")]
    notes = body.text("notes", required=False)
    body.check()
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        raise InvalidInput("Unknown supplier.", fields={"supplier_id": "No such supplier."})
    order = orders.create_purchase_order(supplier=supplier, actor=current_user, notes=notes, lines=lines)
    return jsonify(serialise_order(order)), 201


@api_route("/purchase-orders/<int:order_id>/raise", "POST", response=PURCHASE_ORDER, tag="procurement",
           summary="Raise the order: its value is committed in the budget, or 409 budget_exceeded with the "
                   "shortfall in details.")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def raise_purchase_order(order_id: int):
    return jsonify(serialise_order(orders.raise_purchase_order(_order(order_id), actor=current_user)))


@api_route("/purchase-orders/<int:order_id>/cancel", "POST", response=PURCHASE_ORDER, tag="procurement",
           summary="Cancel what has not arrived, with a reason: the money still committed for it is released. "
                   "409 purchase_order_state if the order cannot be cancelled in its state.",
           request_body=REASON)
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def cancel_purchase_order(order_id: int):
    order = _order(order_id)
    body = Body()
    reason = body.text("reason")
    body.check()
    return jsonify(serialise_order(orders.cancel_purchase_order(order, actor=current_user, reason=reason)))


@api_route("/purchase-orders/<int:order_id>/close", "POST", response=PURCHASE_ORDER, tag="procurement",
           summary="Close a received order: whatever of its commitment is left is released. 409 "
                   "purchase_order_state if it is not received, or an invoice awaits finance's approval.")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def close_purchase_order(order_id: int):
    return jsonify(serialise_order(orders.close_purchase_order(_order(order_id), actor=current_user)))


@api_route("/purchase-orders/<int:order_id>/receipts", "POST", response=RECEIPT, status=201, tag="procurement",
           summary="Receive goods: some lines with quantities and serial numbers, or everything outstanding "
                   "(omit lines). Each unit becomes an in-stock item with a new code.",
           request_body={"type": "object", "required": ["location_id"], "properties": {
               "location_id": RECORD_ID, "note": text(),
               "lines": {"type": "array", "items": {"type": "object", "required": ["line_id", "quantity"],
                                                    "properties": {"line_id": RECORD_ID, "quantity": QUANTITY,
                                                                   "serial_numbers": {"type": "array",
                                                                                      "items": text(80)}}}}}})
@permission_required(Permission.RECEIVE_GOODS)
def receive_goods(order_id: int):
    order = _order(order_id)
    body = Body()
    location_id = body.record_id("location_id")
    # Without lines, everything outstanding arrived.
    lines = [_receipt_line(line) for line in body.objects("lines")] if body.present("lines") else None
    note = body.text("note", required=False)
    body.check()
    location = db.session.get(Location, location_id)
    if location is None or not location.active:
        raise InvalidInput("Unknown location.", fields={"location_id": "No such open location."})
    receipt = receipts.receive_goods(order, lines=lines, location=location, actor=current_user, note=note)
    return jsonify(serialise_receipt(receipt)), 201


def serialise_receipt(receipt: GoodsReceipt) -> dict:
    order = db.session.get(PurchaseOrder, receipt.purchase_order_id)
    return {"id": receipt.id, "purchase_order_id": receipt.purchase_order_id, "purchase_order_status": order.status,
            "location_id": receipt.location_id,
            "items": [{"id": item.id, "code": item.code, "item_type_id": item.item_type_id,
                       "serial_number": item.serial_number} for item in receipts.receipt_items(receipt)]}


CREDIT_LINES = {"type": "array", "items": {
    "type": "object", "required": ["invoice_line_id", "quantity", "unit_net_pence"],
    "properties": {"invoice_line_id": RECORD_ID, "quantity": QUANTITY, "unit_net_pence": UNIT_PENCE,
                   "unit_vat_pence": UNIT_PENCE}}}


@api_route("/invoices", "POST", response=INVOICE, status=201, tag="procurement",
           summary="Record a supplier invoice (purchase_order_id and lines of the order) or a credit note (kind "
                   "credit_note: the posted invoice_id it credits, with lines of that invoice or net_pence, "
                   "vat_pence; and a reason). An invoice within tolerance posts at once; otherwise status "
                   "awaiting_approval. A credit beyond what the invoice (or line) charged less what standing credit "
                   "notes credited is a 409 credit_exceeds_invoiced, with the figures in details.",
           request_body={"type": "object", "required": ["number", "invoice_date"],
                         "properties": {
                             "purchase_order_id": RECORD_ID, "number": text(60, required=True),
                             "invoice_date": {"type": "string", "format": "date"},
                             "kind": {"type": "string", "enum": [str(k) for k in InvoiceKind]},
                             "invoice_id": {**RECORD_ID, "description": "A credit note: the invoice it credits."},
                             "lines": {"anyOf": [ORDER_INVOICE_LINES, CREDIT_LINES]},
                             "net_pence": UNIT_PENCE, "vat_pence": UNIT_PENCE, "reason": text()}})
@permission_required(Permission.POST_INVOICES)
def record_invoice():
    body = Body()
    number = body.text("number", max_length=60)
    invoice_date = body.date("invoice_date")
    kind = body.choice("kind", InvoiceKind, required=False) or InvoiceKind.INVOICE
    if kind == InvoiceKind.CREDIT_NOTE:
        return _record_credit_note(body, number, invoice_date)
    order_id = body.record_id("purchase_order_id")
    lines = [_invoice_line(line) for line in body.objects("lines")]
    body.check()
    invoice = invoices.record_invoice(_order(order_id), number=number, invoice_date=invoice_date,
                                      actor=current_user, lines=lines)
    return jsonify(serialise_invoice(invoice)), 201


def _record_credit_note(body: Body, number, invoice_date):
    invoice_id = body.record_id("invoice_id")
    order_id = body.record_id("purchase_order_id", required=False)
    reason = body.text("reason")
    lines = [_credit_line(line) for line in body.objects("lines", required=False)]
    net = vat = None
    if not lines:
        net, vat = body.pence("net_pence", allow_zero=True), body.pence("vat_pence", allow_zero=True)
    body.check()
    invoice = found(SupplierInvoice, invoice_id, "invoice")
    if order_id is not None and order_id != invoice.purchase_order_id:
        raise InvalidInput("That invoice is not for that purchase order.",
                           fields={"invoice_id": "Not an invoice of that purchase order."})
    note = invoices.record_credit_note(invoice, number=number, invoice_date=invoice_date, reason=reason,
                                       actor=current_user, lines=lines, net_pence=net, vat_pence=vat)
    return jsonify(serialise_invoice(note)), 201


@api_route("/invoices/<int:invoice_id>/approval", "POST", response=INVOICE, tag="procurement",
           summary="Finance approves an invoice outside tolerance, with a written reason; it then posts.",
           request_body=REASON)
@permission_required(Permission.POST_INVOICES)
def approve_invoice(invoice_id: int):
    invoice = found(SupplierInvoice, invoice_id, "invoice")
    body = Body()
    reason = body.text("reason")
    body.check()
    invoices.approve_invoice(invoice, actor=current_user, reason=reason)
    return jsonify(serialise_invoice(invoice))
