"""Purchase order pages: list, new order, and one order's page where it is raised,
received, invoiced, cancelled or closed."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from inventory.catalogue.models import ItemType, Supplier
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.forms import form_page, on_record_page
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, has_permission, permission_required
from inventory.procurement import invoices, receipts, reorder as reorder_rules
from inventory.money import format_pence
from inventory.procurement.orders import (
    OrderLine,
    cancel_purchase_order,
    close_purchase_order,
    committed_pence,
    create_purchase_order,
    lines_ordered_for,
    raise_purchase_order,
)
from inventory.procurement.forms import (
    CreditNoteForm,
    InvoiceForm,
    PurchaseOrderForm,
    ReasonForm,
    ReceiptForm,
    ReorderForm,
)
from inventory.procurement.models import (
    GoodsReceipt,
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SupplierInvoice,
)
from inventory.stock.forms import lines as text_lines
from inventory.stock.models import Location
from inventory.unit_of_work import undo

bp = Blueprint("procurement", __name__, url_prefix="/purchase-orders")


def _order_or_404(order_id: int) -> PurchaseOrder:
    order = db.session.scalar(select(PurchaseOrder).options(
        selectinload(PurchaseOrder.lines).joinedload(PurchaseOrderLine.item_type),
        joinedload(PurchaseOrder.supplier)).where(PurchaseOrder.id == order_id))
    if order is None:
        abort(404)
    return order


@bp.get("/")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def orders():
    page, per_page = page_args()
    query = (select(PurchaseOrder).options(joinedload(PurchaseOrder.supplier), selectinload(PurchaseOrder.lines))
             .order_by(PurchaseOrder.id.desc()))
    status = request.args.get("status", "")
    if status in {str(s) for s in PurchaseOrderStatus}:
        query = query.where(PurchaseOrder.status == status)
    return render_template("procurement/orders.html", page=paginate(query, page, per_page),
                           statuses=list(PurchaseOrderStatus), status=status)


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def new_order():
    form = PurchaseOrderForm()
    form.supplier_id.choices = [SelectChoice(s.id, s.name) for s in db.session.scalars(
        select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name))]
    type_choices = [SelectChoice(0, "—")] + [SelectChoice(t.id, t.name) for t in db.session.scalars(
        select(ItemType).where(ItemType.active.is_(True)).order_by(ItemType.name))]
    for entry in form.lines:
        entry.item_type_id.choices = type_choices
    return form_page(form, lambda: create_purchase_order(
        supplier=db.session.get(Supplier, form.supplier_id.data), actor=current_user, notes=form.notes.data,
        lines=[OrderLine(entry.item_type_id.data, entry.quantity.data, entry.unit_net.pence, entry.unit_vat.pence)
               for entry in form.lines if not entry.is_blank]),
        done=lambda order: f"{order.reference} saved as a draft. Raise it to commit the money and send it.",
        next_url=lambda order: url_for("procurement.order", order_id=order.id), template="procurement/new_order.html")


def _active_suppliers() -> list[Supplier]:
    return db.session.scalars(select(Supplier).where(Supplier.active.is_(True)).order_by(Supplier.name)).all()


@bp.get("/reorder")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def reorder():
    """Low stock's suggested order lines, grouped by the supplier that has each type's code."""
    suggested = reorder_rules.suggestions()
    suppliers = _active_suppliers()
    groups: dict[int | None, list] = {}
    for suggestion in suggested:
        groups.setdefault(suggestion.supplier_id, []).append(suggestion)
    return render_template("procurement/reorder.html", groups=groups, suppliers=suppliers,
                           supplier_names={s.id: s.name for s in suppliers})


@bp.post("/reorder")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def draft_reorder():
    """One click: a draft order for the chosen suggested lines, then its page."""
    form = ReorderForm()
    form.supplier_id.choices = [SelectChoice(s.id, s.name) for s in _active_suppliers()]
    form.item_type_ids.choices = [SelectChoice(s.level.item_type_id, s.level.item_type)
                                  for s in reorder_rules.suggestions()]
    if not form.validate():
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        return redirect(url_for("procurement.reorder"))
    try:
        order = reorder_rules.draft_reorder(db.session.get(Supplier, form.supplier_id.data),
                                            form.item_type_ids.data, actor=current_user)
    except (InvalidInput, Conflict) as error:
        undo()
        flash(error.message, "error")
        return redirect(url_for("procurement.reorder"))
    flash(f"{order.reference} saved as a draft. Check it, then raise it to commit the money and send it.",
          "success")
    return redirect(url_for("procurement.order", order_id=order.id))


@bp.get("/<int:order_id>")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def order(order_id: int):
    return _order_page(_order_or_404(order_id))


def _order_page(order: PurchaseOrder, status: int = 200, **forms):
    receipt_form = forms.pop("receipt_form", None) or ReceiptForm(formdata=None, data={
        "lines": [{"line_id": line.id} for line in order.lines]})
    receipt_form.location_id.choices = [SelectChoice(loc.id, loc.name) for loc in db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.kind, Location.name))]
    invoice_form = forms.pop("invoice_form", None) or InvoiceForm(formdata=None, data={
        "lines": [{"line_id": line.id} for line in order.lines]})
    receipts = db.session.scalars(select(GoodsReceipt).options(
        selectinload(GoodsReceipt.lines), joinedload(GoodsReceipt.received_by), joinedload(GoodsReceipt.location))
        .where(GoodsReceipt.purchase_order_id == order.id).order_by(GoodsReceipt.id)).all()
    invoices = db.session.scalars(select(SupplierInvoice).options(joinedload(SupplierInvoice.approved_by),
                                                                  joinedload(SupplierInvoice.credited_invoice))
                                  .where(SupplierInvoice.purchase_order_id == order.id)
                                  .order_by(SupplierInvoice.id)).all()
    credit_form = forms.pop("credit_form", None) or CreditNoteForm(formdata=None)
    credit_form.invoice_id.choices = _creditable_choices(invoices)
    line_ids = [line.request_line_id for line in order.lines if line.request_line_id is not None]
    ordered_for = {key: label for answer in (lines_ordered_for.fire(line_ids) if line_ids else [])
                   for key, label in answer.items()}
    return render_template(
        "procurement/order.html", order=order, receipts=receipts, invoices=invoices, P=PurchaseOrderStatus,
        ordered_for=ordered_for,
        receipt_form=receipt_form, invoice_form=invoice_form,
        cancel_form=forms.pop("cancel_form", None) or ReasonForm(formdata=None),
        approve_form=forms.pop("approve_form", None) or ReasonForm(formdata=None),
        credit_form=credit_form, committed=committed_pence(order),
        lines_by_id={line.id: line for line in order.lines}, AWAITING=InvoiceStatus.AWAITING_APPROVAL,
        can_receive=has_permission(current_user, Permission.RECEIVE_GOODS),
        can_invoice=has_permission(current_user, Permission.POST_INVOICES),
    ), status


def _creditable_choices(invoices) -> list[SelectChoice]:
    """The order's posted invoices, which a credit note may credit."""
    return [SelectChoice(invoice.id, f"{invoice.number} ({format_pence(invoice.gross_pence)})") for invoice in invoices
            if invoice.kind == InvoiceKind.INVOICE and invoice.status == InvoiceStatus.POSTED]


def _act_on_order(order_id: int, form, form_name: str, use_case, done, next_url=None):
    """An action from the order's page (see `on_record_page`)."""
    order = _order_or_404(order_id)
    return on_record_page(form, lambda: use_case(order), record_url=url_for("procurement.order", order_id=order_id),
                          done=done, next_url=next_url,
                          page=lambda: _order_page(_order_or_404(order_id), 422, **{form_name: form}))


@bp.post("/<int:order_id>/raise")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def raise_order(order_id: int):
    return _act_on_order(order_id, FlaskForm(), "raise_form", lambda order: raise_purchase_order(
        order, actor=current_user), "Raised: its value is committed in the budget.")


@bp.post("/<int:order_id>/cancel")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def cancel_order(order_id: int):
    form = ReasonForm()
    return _act_on_order(order_id, form, "cancel_form", lambda order: cancel_purchase_order(
        order, actor=current_user, reason=form.reason.data), "Cancelled; the money still committed is released.")


@bp.post("/<int:order_id>/close")
@permission_required(Permission.MANAGE_PURCHASE_ORDERS)
def close_order(order_id: int):
    return _act_on_order(order_id, FlaskForm(), "close_form", lambda order: close_purchase_order(
        order, actor=current_user), "Closed; any money left committed is released.")


@bp.post("/<int:order_id>/receipts")
@permission_required(Permission.RECEIVE_GOODS)
def receive(order_id: int):
    """Receive the quantities typed (with serials), or everything outstanding; then print labels."""
    everything = request.form.get("everything") == "1"
    form = ReceiptForm()
    form.location_id.choices = [SelectChoice(loc.id, loc.name) for loc in db.session.scalars(
        select(Location).where(Location.active.is_(True)))]

    def receive_goods(order):
        wanted = None if everything else [
            receipts.ReceiptLine(int(entry.line_id.data), entry.quantity.data,
                                 tuple(text_lines(entry.serial_numbers.data)))
            for entry in form.lines if entry.quantity.data and (entry.line_id.data or "").isdigit()]
        return receipts.receive_goods(order, lines=wanted, location=db.session.get(Location, form.location_id.data),
                                      actor=current_user, note=form.note.data)

    def done(receipt):
        return f"Received {sum(line.quantity for line in receipt.lines)} units. Print their labels now."

    return _act_on_order(order_id, form, "receipt_form", receive_goods, done,
                         next_url=lambda receipt: url_for("stock.labels_print", receipt=receipt.id))


@bp.post("/<int:order_id>/invoices")
@permission_required(Permission.POST_INVOICES)
def record_invoice(order_id: int):
    form = InvoiceForm()

    def record(order):
        return invoices.record_invoice(order, number=form.number.data, invoice_date=form.invoice_date.data,
                                       actor=current_user, lines=[
                                           invoices.InvoiceLine(int(entry.line_id.data), entry.quantity.data,
                                                                entry.unit_net.pence, entry.unit_vat.pence)
                                           for entry in form.lines
                                           if entry.quantity.data and (entry.line_id.data or "").isdigit()])

    def done(invoice):
        if invoice.status == InvoiceStatus.POSTED:
            return f"Invoice {invoice.number} posted to the budget."
        return f"Invoice {invoice.number} differs from the order beyond tolerance: it waits for finance's approval."

    return _act_on_order(order_id, form, "invoice_form", record, done)


@bp.post("/<int:order_id>/invoices/<int:invoice_id>/approve")
@permission_required(Permission.POST_INVOICES)
def approve_invoice(order_id: int, invoice_id: int):
    invoice = db.session.get(SupplierInvoice, invoice_id)
    if invoice is None or invoice.purchase_order_id != order_id:
        abort(404)
    form = ReasonForm()
    return _act_on_order(order_id, form, "approve_form", lambda _order: invoices.approve_invoice(
        invoice, actor=current_user, reason=form.reason.data), "Approved and posted.")


@bp.post("/<int:order_id>/credit-notes")
@permission_required(Permission.POST_INVOICES)
def record_credit_note(order_id: int):
    form = CreditNoteForm()
    form.invoice_id.choices = _creditable_choices(db.session.scalars(
        select(SupplierInvoice).where(SupplierInvoice.purchase_order_id == order_id)).all())

    def record(_order):
        return invoices.record_credit_note(
            db.session.get(SupplierInvoice, form.invoice_id.data), number=form.number.data,
            invoice_date=form.invoice_date.data, net_pence=form.net.pence, vat_pence=form.vat.pence,
            reason=form.reason.data, actor=current_user)

    return _act_on_order(order_id, form, "credit_form", record, "Credit note posted to the budget.")
