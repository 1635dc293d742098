"""Purchase orders, goods receipts and supplier invoices (with credit notes).

    draft -> raised -> partly_received -> received -> closed, or cancelled

Raising commits the order's value in the budget ledger, one commitment per budget category
of its lines; receipts turn each unit into an Item; invoices are checked three ways
(ordered, received, invoiced) before they post. An order's and an invoice's ledger entries
are found through the ledger's (source_type, source_id) index: there may be several.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.catalogue.models import ItemType, Supplier
from inventory.database import Pence, UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db
from inventory.stock.models import Location

MAX_LINE_QUANTITY = 1000


class PurchaseOrderStatus(LabelledEnum):
    DRAFT = "draft"
    RAISED = "raised"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Orders whose goods may still arrive.
OPEN_FOR_RECEIPT = (PurchaseOrderStatus.RAISED, PurchaseOrderStatus.PARTLY_RECEIVED)


def order_reference(order_id: int) -> str:
    """How people name an order: PO-00012."""
    return f"PO-{order_id:05d}"


class PurchaseOrder(db.Model):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(one_of("status", PurchaseOrderStatus), name="status_known"),
        CheckConstraint("status IN ('draft', 'cancelled') OR raised_at IS NOT NULL", name="raised_has_date"),
        # Cancelling an order that had goods received leaves it received (awaiting their
        # invoice), so a reason may stand beside any state but a cancelled order needs one.
        CheckConstraint("status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"),
        CheckConstraint("(cancelled_at IS NULL) = (cancel_reason IS NULL)", name="cancel_reason_with_date"),
        CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=PurchaseOrderStatus.DRAFT, index=True)
    notes: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list["PurchaseOrderLine"]] = relationship(
        back_populates="purchase_order", order_by="PurchaseOrderLine.id", cascade="all, delete-orphan")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def reference(self) -> str:
        return order_reference(self.id)

    @property
    def status_label(self) -> str:
        return PurchaseOrderStatus(self.status).label

    @property
    def net_pence(self) -> int:
        return sum(line.quantity_ordered * line.unit_net_pence for line in self.lines)

    @property
    def vat_pence(self) -> int:
        return sum(line.quantity_ordered * line.unit_vat_pence for line in self.lines)

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence

    @property
    def rest_cancelled(self) -> bool:
        """What had not arrived was cancelled: only what came is still to be invoiced."""
        return self.cancelled_at is not None


class PurchaseOrderLine(db.Model):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        CheckConstraint(f"quantity_ordered BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_ordered_sane"),
        # Never more received than ordered, whatever a bug or a race tries.
        CheckConstraint("quantity_received BETWEEN 0 AND quantity_ordered", name="received_within_ordered"),
        CheckConstraint("unit_net_pence >= 0 AND unit_vat_pence >= 0", name="prices_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id"), index=True)
    # The budget category the line's money is charged to: its item type's when drafted.
    budget_category_id: Mapped[int] = mapped_column(ForeignKey("budget_categories.id"), index=True)
    supplier_product_code: Mapped[str | None] = mapped_column(String(60))
    quantity_ordered: Mapped[int] = mapped_column()
    quantity_received: Mapped[int] = mapped_column(default=0)
    unit_net_pence: Mapped[int] = mapped_column(Pence)
    unit_vat_pence: Mapped[int] = mapped_column(Pence, default=0)
    # The approved request line this is ordered for: raising the order converts that line's
    # commitment, and the units go to that request first when they arrive.
    request_line_id: Mapped[int | None] = mapped_column(ForeignKey("request_lines.id"), index=True)

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    item_type: Mapped[ItemType] = relationship()
    budget_category = relationship("BudgetCategory")
    request_line = relationship("RequestLine")

    @property
    def outstanding(self) -> int:
        return self.quantity_ordered - self.quantity_received

    @property
    def unit_gross_pence(self) -> int:
        return self.unit_net_pence + self.unit_vat_pence


class GoodsReceipt(db.Model):
    __tablename__ = "goods_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    location: Mapped[Location] = relationship()
    received_by = relationship("User")
    lines: Mapped[list["GoodsReceiptLine"]] = relationship(order_by="GoodsReceiptLine.id",
                                                           cascade="all, delete-orphan")


class GoodsReceiptLine(db.Model):
    __tablename__ = "goods_receipt_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goods_receipt_id: Mapped[int] = mapped_column(ForeignKey("goods_receipts.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column()

    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(LabelledEnum):
    POSTED = "posted"
    AWAITING_APPROVAL = "awaiting_approval"  # outside tolerance: finance must approve, with a reason
    REVERSED = "reversed"  # its ledger entries were reversed: it no longer counts as billed or credited


class SupplierInvoice(db.Model):
    """A supplier's invoice or credit note against a purchase order. A credit note names the
    invoice it credits; its ledger entries (one per budget category) have it as their source."""

    __tablename__ = "supplier_invoices"
    __table_args__ = (
        UniqueConstraint("supplier_id", "kind", "number"),
        CheckConstraint(one_of("kind", InvoiceKind), name="kind_known"),
        CheckConstraint(one_of("status", InvoiceStatus), name="status_known"),
        CheckConstraint("net_pence >= 0 AND vat_pence >= 0 AND gross_pence = net_pence + vat_pence "
                        "AND gross_pence > 0", name="amounts_add_up"),
        CheckConstraint("(status = 'awaiting_approval') = (posted_at IS NULL)", name="posted_has_date"),
        CheckConstraint("(status = 'reversed') = (reversed_at IS NOT NULL)", name="reversed_has_date"),
        # Only a credit note credits an invoice (credit notes recorded before 0013 name none).
        CheckConstraint("credited_invoice_id IS NULL OR kind = 'credit_note'", name="only_credit_notes_credit"),
        CheckConstraint("approved_by_id IS NULL OR approval_reason IS NOT NULL", name="approval_has_reason"),
        Index("ix_supplier_invoices_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    kind: Mapped[str] = mapped_column(String(12), default=InvoiceKind.INVOICE)
    number: Mapped[str] = mapped_column(String(60))
    invoice_date: Mapped[date] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    net_pence: Mapped[int] = mapped_column(Pence)
    vat_pence: Mapped[int] = mapped_column(Pence)
    gross_pence: Mapped[int] = mapped_column(Pence)
    # What the three-way check found, for people: [{"line_id", "problem"}, ...]
    mismatches: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(500))  # a credit note's why
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_reason: Mapped[str | None] = mapped_column(String(500))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A credit note: the invoice it credits.
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_invoices.id"), index=True)

    purchase_order: Mapped[PurchaseOrder] = relationship()
    credited_invoice: Mapped["SupplierInvoice | None"] = relationship(remote_side=[id])
    lines: Mapped[list["SupplierInvoiceLine"]] = relationship(order_by="SupplierInvoiceLine.id",
                                                              cascade="all, delete-orphan")
    approved_by = relationship("User", foreign_keys=[approved_by_id])

    @property
    def status_label(self) -> str:
        return InvoiceStatus(self.status).label

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


class SupplierInvoiceLine(db.Model):
    __tablename__ = "supplier_invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_net_pence >= 0 AND unit_vat_pence >= 0", name="prices_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("supplier_invoices.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column()
    unit_net_pence: Mapped[int] = mapped_column(Pence)
    unit_vat_pence: Mapped[int] = mapped_column(Pence, default=0)
    # On a credit note: the invoice line it credits.
    credited_line_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_invoice_lines.id"), index=True)

    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()

    @property
    def net_pence(self) -> int:
        return self.quantity * self.unit_net_pence

    @property
    def vat_pence(self) -> int:
        return self.quantity * self.unit_vat_pence
