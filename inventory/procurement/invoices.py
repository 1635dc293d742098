"""Supplier invoices and credit notes against purchase orders.

An invoice is checked three ways (ordered, received, invoiced). Within tolerance it posts
at once: one actual per budget category of its lines, each releasing that category's
commitment of the order. Otherwise it awaits finance's approval, in writing, and then
posts. A credit note names the invoice it credits and posts a ledger credit per category;
it can never credit more than that invoice charged less what standing credit notes
already credited (per invoice, and per line where it names lines).

    awaiting_approval -> posted -> reversed

Reversing any of an invoice's ledger entries (the ledger's only correction) reverses the
whole document (`react_to_reversal`): a reversed invoice no longer counts as billed and its
order awaits invoicing again; a reversed credit note no longer counts against the bound.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask import current_app
from sqlalchemy import exists, func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
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
from inventory.procurement.orders import (
    ORDER_MACHINE,
    OrderAction,
    category_key,
    charged,
    check_amount,
    lock_order,
    order_commitments,
    reopen_for_invoicing,
    settle_commitments,
)
from inventory.states import StateMachine, Transition
from inventory.stock.receiving import check_quantity


class InvoiceDecided(Conflict):
    code = "already_decided"


class CreditExceedsInvoiced(Conflict):
    code = "credit_exceeds_invoiced"


class InvoiceAction(StrEnum):
    POST = "post"
    REVERSE = "reverse"


INVOICE_MACHINE = StateMachine(
    "invoice",
    {InvoiceAction.POST: Transition(frozenset({InvoiceStatus.AWAITING_APPROVAL}), InvoiceStatus.POSTED),
     InvoiceAction.REVERSE: Transition(frozenset({InvoiceStatus.POSTED}), InvoiceStatus.REVERSED)},
    refusal=InvoiceDecided,
    describe_refusal=lambda invoice, action: f"This {'credit note' if invoice.is_credit_note else 'invoice'} "
                                             f"is already {invoice.status_label.lower()}.",
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
                                         SupplierInvoice.kind == InvoiceKind.INVOICE,
                                         SupplierInvoice.status != InvoiceStatus.REVERSED)):
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


def _check_priced(line, prefix: str) -> None:
    """A line of an invoice or a credit note: a sane quantity, unit prices the ledger can hold."""
    check_quantity(line.quantity, f"{prefix}quantity", MAX_LINE_QUANTITY)
    check_amount(line.unit_net_pence, f"{prefix}unit_net_pence", allow_zero=True)
    check_amount(line.unit_vat_pence, f"{prefix}unit_vat_pence", allow_zero=True)


def _refuse_if_recorded(order: PurchaseOrder, kind: InvoiceKind, number: str) -> None:
    if db.session.scalar(select(SupplierInvoice.id).where(
            SupplierInvoice.supplier_id == order.supplier_id, SupplierInvoice.kind == kind,
            SupplierInvoice.number == number)) is not None:
        raise InvalidInput(f"{number} from {order.supplier.name} is already recorded.",
                           fields={"number": "Already recorded for this supplier."}, code="duplicate_invoice")


def record_invoice(order: PurchaseOrder, *, number: str, invoice_date: date, lines: list[InvoiceLine], actor
                   ) -> SupplierInvoice:
    """Record a supplier's invoice against an order. Within tolerance it posts at once (an
    actual per budget category, each releasing the order's commitment by as much); otherwise
    it waits for finance to approve it with a reason."""
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
        _check_priced(line, prefix)
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


def lock_invoice(invoice: SupplierInvoice) -> SupplierInvoice:
    """The invoice re-read with its row locked until commit (after its order's)."""
    return db.session.execute(select(SupplierInvoice).where(SupplierInvoice.id == invoice.id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _post(invoice: SupplierInvoice, order: PurchaseOrder, actor) -> None:
    """One actual per budget category of the invoice's lines, each releasing what the order
    commits in that category; then the order commits no more than it still has to be
    invoiced for."""
    commitments = order_commitments(order)
    key = category_key(commitments)
    amounts = _amounts_by_category((key(line.purchase_order_line), line) for line in invoice.lines)
    memo = f"Invoice {invoice.number} from {order.supplier.name} for {order.reference}"[:ledger.MEMO_MAX]
    posted = False
    for category, (net, vat) in amounts:
        if charged(net, vat) == 0:
            continue  # nothing to charge in this category (free items, or only reclaimed VAT)
        ledger.post_actual(net + vat, on=invoice.invoice_date, actor=actor, memo=memo, source_type=SourceType.INVOICE,
                           source_id=invoice.id, net_pence=net, vat_pence=vat, category=category,
                           releasing=_most_open(commitments, category), date_field="invoice_date")
        posted = True
    if not posted:
        raise InvalidInput("Nothing to charge: the net amount is zero.",
                           fields={"lines": "Give the lines their prices."})
    INVOICE_MACHINE.apply(invoice, InvoiceAction.POST)
    invoice.posted_at = clock.now()
    db.session.flush()
    settle_commitments(order, on=invoice.invoice_date, actor=actor, why=f"invoice {invoice.number} posted")


def _amounts_by_category(pairs) -> list[tuple[str | None, tuple[int, int]]]:
    """[(category, (net, VAT))] of (category, line) pairs, in category order."""
    totals: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for category, line in pairs:
        totals[category][0] += line.net_pence
        totals[category][1] += line.vat_pence
    return [(category, tuple(totals[category])) for category in sorted(totals, key=lambda c: c or "")]


def _shared_out(net: int, vat: int, invoiced: list[tuple[str | None, tuple[int, int]]]
                ) -> list[tuple[str | None, tuple[int, int]]]:
    """A credit without lines, shared among the invoice's categories in proportion to what
    each was invoiced (net and VAT apart, whole pence, the odd pence to the largest shares)."""
    shares = [[category, [0, 0]] for category, _ in invoiced]
    for part, amount in enumerate((net, vat)):
        weights = [amounts[part] for _, amounts in invoiced]
        total = sum(weights) or 1
        given = [amount * weight // total for weight in weights]
        by_remainder = sorted(range(len(weights)), key=lambda i: amount * weights[i] % total, reverse=True)
        for i in by_remainder[:amount - sum(given)]:
            given[i] += 1
        for share, value in zip(shares, given):
            share[1][part] = value
    return [(category, tuple(amounts)) for category, amounts in shares]


def _most_open(commitments: list[LedgerEntry], category: str | None) -> LedgerEntry | None:
    """The order's commitment in this category that an actual settles: the one most open."""
    mine = [commitment for commitment in commitments if commitment.category == category]
    return max(mine, key=ledger.open_amount_pence, default=None)


# Credit notes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreditLine:
    """A line of a credit note: how many units of an invoice line, at what unit price."""

    invoice_line_id: int
    quantity: int
    unit_net_pence: int
    unit_vat_pence: int = 0


@dataclass(frozen=True)
class Credited:
    """What standing credit notes have credited of an invoice (or of one of its lines)."""

    net_pence: int = 0
    vat_pence: int = 0
    quantity: int = 0


def credited(invoice: SupplierInvoice) -> tuple[Credited, dict[int, Credited]]:
    """What posted (not reversed) credit notes credited of the invoice, in all and by invoice line."""
    notes = SupplierInvoice.credited_invoice_id == invoice.id, SupplierInvoice.status == InvoiceStatus.POSTED
    net, vat = db.session.execute(select(func.coalesce(func.sum(SupplierInvoice.net_pence), 0),
                                         func.coalesce(func.sum(SupplierInvoice.vat_pence), 0)).where(*notes)).one()
    by_line = {line_id: Credited(net_pence, vat_pence, quantity) for line_id, net_pence, vat_pence, quantity in
               db.session.execute(
                   select(SupplierInvoiceLine.credited_line_id,
                          func.sum(SupplierInvoiceLine.quantity * SupplierInvoiceLine.unit_net_pence),
                          func.sum(SupplierInvoiceLine.quantity * SupplierInvoiceLine.unit_vat_pence),
                          func.sum(SupplierInvoiceLine.quantity))
                   .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
                   .where(*notes, SupplierInvoiceLine.credited_line_id.is_not(None))
                   .group_by(SupplierInvoiceLine.credited_line_id))}
    return Credited(net, vat), by_line


def _refuse_beyond(what: str, *, invoiced: Credited, already: Credited, asked: Credited, details: dict) -> None:
    """Refuse a credit that would take net, VAT or units credited beyond what was invoiced."""
    left = Credited(invoiced.net_pence - already.net_pence, invoiced.vat_pence - already.vat_pence,
                    invoiced.quantity - already.quantity)
    if asked.net_pence <= left.net_pence and asked.vat_pence <= left.vat_pence and asked.quantity <= left.quantity:
        return
    gross = left.net_pence + left.vat_pence
    message = (f"{what} charged {format_pence(invoiced.net_pence + invoiced.vat_pence)} and "
               f"{format_pence(already.net_pence + already.vat_pence)} is already credited: at most "
               f"{format_pence(gross)} more (net {format_pence(left.net_pence)}, VAT {format_pence(left.vat_pence)})"
               f"{f', {left.quantity} units' if invoiced.quantity else ''} can be credited, not "
               f"{format_pence(asked.net_pence + asked.vat_pence)}"
               f"{f' for {asked.quantity} units' if invoiced.quantity else ''}.")
    raise CreditExceedsInvoiced(message, details={
        **details, "invoiced_pence": invoiced.net_pence + invoiced.vat_pence,
        "credited_pence": already.net_pence + already.vat_pence, "creditable_pence": gross,
        "creditable_net_pence": left.net_pence, "creditable_vat_pence": left.vat_pence,
        "requested_pence": asked.net_pence + asked.vat_pence,
        **({"creditable_quantity": left.quantity, "requested_quantity": asked.quantity} if invoiced.quantity else {}),
    })


def _credit_lines(invoice: SupplierInvoice, lines: list[CreditLine]) -> list[SupplierInvoiceLine]:
    """The credit note's lines, each naming the invoice line it credits (checked, not yet bounded)."""
    invoice_lines = {line.id: line for line in invoice.lines}
    made, seen = [], set()
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]."
        credited_line = invoice_lines.get(line.invoice_line_id)
        if credited_line is None or line.invoice_line_id in seen:
            raise InvalidInput("That line is not on the invoice credited (or is given twice).",
                               fields={f"{prefix}invoice_line_id": "Not a line of the invoice credited."})
        seen.add(credited_line.id)
        _check_priced(line, prefix)
        made.append(SupplierInvoiceLine(
            purchase_order_line_id=credited_line.purchase_order_line_id, credited_line_id=credited_line.id,
            quantity=line.quantity, unit_net_pence=line.unit_net_pence, unit_vat_pence=line.unit_vat_pence))
    return made


def record_credit_note(invoice: SupplierInvoice, *, number: str, invoice_date: date, reason: str, actor,
                       lines: list[CreditLine] | None = None, net_pence: int | None = None,
                       vat_pence: int | None = None) -> SupplierInvoice:
    """Money back from the supplier against one posted invoice, by lines (each bounded by
    the invoice line) or as amounts: never more than the invoice charged less what standing
    credit notes already credited (`credit_exceeds_invoiced`). Posts one ledger credit per
    budget category of what it credits. The order and the invoice are locked, so two credit
    notes at once cannot both take the last of it."""
    order = lock_order(invoice.purchase_order)
    invoice = lock_invoice(invoice)
    ORDER_MACHINE.check(order, OrderAction.CREDIT)
    if invoice.is_credit_note:
        raise InvalidInput("A credit note credits an invoice, not another credit note.",
                           fields={"invoice_id": "Choose an invoice."})
    if invoice.status != InvoiceStatus.POSTED:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status_label.lower()}: only a posted invoice "
                       "can be credited.", code="invoice_not_posted",
                       details={"invoice_id": invoice.id, "status": invoice.status})
    fields = Fields({"number": number, "invoice_date": invoice_date, "reason": reason, "net_pence": net_pence,
                     "vat_pence": vat_pence})
    number = fields.text("number", max_length=60)
    invoice_date = fields.date("invoice_date")
    reason = fields.text("reason")
    if not lines:
        net_pence = fields.pence("net_pence", allow_zero=True)
        vat_pence = fields.pence("vat_pence", allow_zero=True)
    fields.check()
    _refuse_if_recorded(order, InvoiceKind.CREDIT_NOTE, number)
    note_lines = _credit_lines(invoice, lines) if lines else []
    if note_lines:
        net_pence = sum(line.net_pence for line in note_lines)
        vat_pence = sum(line.vat_pence for line in note_lines)
    check_amount(net_pence + vat_pence, "lines" if note_lines else "net_pence")
    already, by_line = credited(invoice)
    _refuse_beyond(f"Invoice {invoice.number}", invoiced=Credited(invoice.net_pence, invoice.vat_pence),
                   already=already, asked=Credited(net_pence, vat_pence), details={"invoice_id": invoice.id})
    invoice_lines = {line.id: line for line in invoice.lines}
    for note_line in note_lines:
        line = invoice_lines[note_line.credited_line_id]
        _refuse_beyond(f"Line {line.purchase_order_line.item_type.name} of invoice {invoice.number}",
                       invoiced=Credited(line.net_pence, line.vat_pence, line.quantity),
                       already=by_line.get(line.id, Credited()),
                       asked=Credited(note_line.net_pence, note_line.vat_pence, note_line.quantity),
                       details={"invoice_id": invoice.id, "invoice_line_id": line.id})
    key = category_key(order_commitments(order))
    if note_lines:
        amounts = _amounts_by_category((key(invoice_lines[line.credited_line_id].purchase_order_line), line)
                                       for line in note_lines)
    else:
        amounts = _shared_out(net_pence, vat_pence, _amounts_by_category(
            (key(line.purchase_order_line), line) for line in invoice.lines))
    note = SupplierInvoice(
        purchase_order_id=order.id, supplier_id=order.supplier_id, kind=InvoiceKind.CREDIT_NOTE, number=number,
        invoice_date=invoice_date, status=InvoiceStatus.AWAITING_APPROVAL, net_pence=net_pence, vat_pence=vat_pence,
        gross_pence=net_pence + vat_pence, reason=reason, recorded_by_id=actor.id, mismatches=[],
        credited_invoice_id=invoice.id, lines=note_lines,
    )
    db.session.add(note)
    db.session.flush()
    memo = f"Credit note {number} from {order.supplier.name} against {invoice.number}: {reason}"[:ledger.MEMO_MAX]
    for category, (net, vat) in amounts:
        if charged(net, vat):
            ledger.credit(net + vat, on=note.invoice_date, actor=actor, memo=memo, source_type=SourceType.INVOICE,
                          source_id=note.id, net_pence=net, vat_pence=vat, category=category,
                          date_field="invoice_date")
    INVOICE_MACHINE.apply(note, InvoiceAction.POST)
    note.posted_at = clock.now()
    db.session.flush()
    return note


# Reversal ---------------------------------------------------------------------------------

def document_entries(document: SupplierInvoice) -> list[LedgerEntry]:
    """The actuals of an invoice, or the credits of a credit note."""
    return list(db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_type == SourceType.INVOICE, LedgerEntry.source_id == document.id,
        LedgerEntry.kind.in_([EntryKind.ACTUAL, EntryKind.CREDIT])).order_by(LedgerEntry.id)))


def _standing_credit_notes(invoice: SupplierInvoice) -> list[str]:
    return list(db.session.scalars(select(SupplierInvoice.number).where(
        SupplierInvoice.credited_invoice_id == invoice.id, SupplierInvoice.status == InvoiceStatus.POSTED)
        .order_by(SupplierInvoice.id)))


def react_to_reversal(entry: LedgerEntry, *, actor):
    """Receiver of the ledger's `entry_reversed`. Reversing an invoice's actual or a credit
    note's credit reverses the whole document: its other entries are reversed too, it is
    marked reversed, and an invoice's order awaits invoicing again, committing what it still
    has to be invoiced for (`reopen_for_invoicing`). Refused while standing credit notes
    credit the invoice (money would come back twice). An order's own commitments and
    releases follow the order, so reversing them by hand is refused."""
    if entry.source_type == SourceType.PURCHASE_ORDER and entry.kind in (EntryKind.COMMITMENT, EntryKind.RELEASE):
        order = db.session.get(PurchaseOrder, entry.source_id)
        reference = order.reference if order is not None else "The order"
        raise Conflict(f"{reference}'s commitments follow the order: cancel or close the order, or reverse its "
                       "invoice, instead.", code="commitment_follows_order",
                       details={"purchase_order_id": entry.source_id})
    if entry.source_type != SourceType.INVOICE or entry.kind not in (EntryKind.ACTUAL, EntryKind.CREDIT):
        return None
    document = db.session.get(SupplierInvoice, entry.source_id)
    if document is None:
        return None
    order = lock_order(document.purchase_order)
    document = lock_invoice(document)
    if document.status == InvoiceStatus.REVERSED:
        return None  # one of its other entries, reversed with it
    if not document.is_credit_note:
        standing = _standing_credit_notes(document)
        if standing:
            raise Conflict(f"Credit notes {', '.join(standing)} credit invoice {document.number}: reverse them first, "
                           "or the money would come back twice.", code="invoice_credited",
                           details={"invoice_id": document.id, "credit_notes": standing})
    return lambda reversal: _reversed(document, order, entry, reversal, actor=actor)


def _reversed(document: SupplierInvoice, order: PurchaseOrder, entry: LedgerEntry, reversal: LedgerEntry, *,
              actor) -> None:
    INVOICE_MACHINE.apply(document, InvoiceAction.REVERSE, actor=actor, note=reversal.memo)
    document.reversed_at = clock.now()
    db.session.flush()
    for other in document_entries(document):
        if other.id != entry.id and not db.session.scalar(select(exists().where(LedgerEntry.reverses_id == other.id))):
            ledger.reverse(other, reason=reversal.memo, actor=actor, on=reversal.entry_date)
    if not document.is_credit_note:
        reopen_for_invoicing(order, on=reversal.entry_date, actor=actor,
                             why=f"awaits invoicing again: invoice {document.number} reversed")
