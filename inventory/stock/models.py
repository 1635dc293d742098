"""Physical stock: items (one per unit, each with its own code), where they are, what
happened to them, and stocktakes.

The item state machine lives in `inventory.stock.operations`; the constraints here make
sure no bug or race can write an item into an impossible shape.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.catalogue.models import ItemType, Supplier
from inventory.database import Pence, UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db


class ItemState(LabelledEnum):
    ON_ORDER = "on_order"
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    ISSUED = "issued"
    RETURNED = "returned"
    QUARANTINE = "quarantine"
    WRITTEN_OFF = "written_off"


# States in which the item is on a shelf or in a van, so it has a location.
HELD_STATES = (ItemState.IN_STOCK, ItemState.RESERVED, ItemState.QUARANTINE)


class WriteOffReason(LabelledEnum):
    FAULTY = "faulty"
    DAMAGED = "damaged"
    LOST = "lost"
    END_OF_LIFE = "end_of_life"
    NOT_RECOVERED = "not_recovered"


class ReturnCondition(StrEnum):
    GOOD = "good"
    DAMAGED = "damaged"
    FAULTY = "faulty"


class LocationKind(LabelledEnum):
    STORE = "store", "Office store"
    VAN = "van", "Fitter's van"


class Location(db.Model):
    __tablename__ = "stock_locations"
    __table_args__ = (
        CheckConstraint(one_of("kind", LocationKind), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    fitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    fitter = relationship("User")

    @property
    def kind_label(self) -> str:
        return LocationKind(self.kind).label


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(one_of("state", ItemState), name="state_known"),
        CheckConstraint(f"write_off_reason IS NULL OR {one_of('write_off_reason', WriteOffReason)}",
                        name="write_off_reason_known"),
        CheckConstraint("(state = 'written_off') = (write_off_reason IS NOT NULL)", name="written_off_has_reason"),
        CheckConstraint("(state = 'issued') = (issued_case_id IS NOT NULL)", name="issued_has_case"),
        CheckConstraint("(state = 'reserved') = (reserved_for_request_id IS NOT NULL)",
                        name="reserved_has_request"),
        CheckConstraint(f"location_id IS NOT NULL OR NOT {one_of('state', HELD_STATES)}", name="held_has_location"),
        # A device that may hold a survivor's account never goes back out until wiped.
        CheckConstraint("NOT (awaiting_wipe AND state IN ('in_stock', 'reserved', 'issued'))",
                        name="wiped_before_reuse"),
        CheckConstraint("purchase_cost_pence IS NULL OR purchase_cost_pence >= 0", name="cost_not_negative"),
        UniqueConstraint("item_type_id", "serial_number"),
        Index("ix_items_type_state", "item_type_id", "state"),
        Index("ix_items_location_state", "location_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The live code; every code ever given out, live or retired, is also in item_codes.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id"))
    state: Mapped[str] = mapped_column(String(20), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id"))
    serial_number: Mapped[str | None] = mapped_column(String(80))
    purchase_cost_pence: Mapped[int | None] = mapped_column(Pence)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    # Filled by procurement when the unit arrives on a purchase order receipt.
    purchase_order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    goods_receipt_id: Mapped[int | None] = mapped_column(ForeignKey("goods_receipts.id"), index=True)
    reserved_for_request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    issued_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    awaiting_wipe: Mapped[bool] = mapped_column(default=False)
    write_off_reason: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    item_type: Mapped[ItemType] = relationship()
    location: Mapped[Location | None] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    events: Mapped[list["ItemEvent"]] = relationship(
        back_populates="item", order_by="ItemEvent.id", viewonly=True,
    )

    @property
    def state_label(self) -> str:
        return ItemState(self.state).label


class ItemCode(db.Model):
    """Every code ever given to an item. Unique across live and retired codes, so a code
    is never reused; retiring one keeps the row (and the item keeps its history)."""

    __tablename__ = "item_codes"
    __table_args__ = (
        # At most one live code per item.
        Index("uq_item_codes_one_live_per_item", "item_id", unique=True,
              sqlite_where=text("retired_at IS NULL"), postgresql_where=text("retired_at IS NULL")),
        CheckConstraint("(retired_at IS NULL) = (retired_reason IS NULL)", name="retired_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str | None] = mapped_column(String(200))

    item: Mapped[Item] = relationship()


class QrImage(db.Model):
    """A rendered QR symbol, cached by exactly what it encodes (a code never changes)."""

    __tablename__ = "qr_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[str] = mapped_column(String(300), unique=True)
    svg: Mapped[str] = mapped_column(Text)


class ItemEventKind(LabelledEnum):
    RECEIVED = "received"
    RESERVED = "reserved"
    RESERVATION_RELEASED = "reservation_released"
    ISSUED = "issued"
    RETURNED = "returned"
    QUARANTINED = "quarantined"
    RELEASED_FROM_QUARANTINE = "released_from_quarantine"
    WIPE_CONFIRMED = "wipe_confirmed"
    WRITTEN_OFF = "written_off"
    FOUND = "found"
    MOVED = "moved"
    CODE_REPLACED = "code_replaced"


class ItemEvent(db.Model):
    """One step in an item's life: who, when, from which state to which, where, and why.
    Append-only (triggers in the migration refuse UPDATE and DELETE)."""

    __tablename__ = "item_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", ItemEventKind), name="kind_known"),
        CheckConstraint(f"from_state IS NULL OR {one_of('from_state', ItemState)}", name="from_state_known"),
        CheckConstraint(one_of("to_state", ItemState), name="to_state_known"),
        Index("ix_item_events_item_time", "item_id", "occurred_at"),
        # Handovers, for the funder's return: those in a period (covering what it reads), an
        # item's earlier ones (re-use) and a request's first one (installed when).
        Index("ix_item_events_issued", "occurred_at", "item_id", "case_id", "request_id",
              sqlite_where=text("kind = 'issued'"), postgresql_where=text("kind = 'issued'")),
        Index("ix_item_events_issued_item", "item_id", "occurred_at",
              sqlite_where=text("kind = 'issued'"), postgresql_where=text("kind = 'issued'")),
        Index("ix_item_events_issued_request", "request_id", "occurred_at",
              sqlite_where=text("kind = 'issued'"), postgresql_where=text("kind = 'issued'")),
        Index("ix_item_events_case_kind", "case_id", "kind"),  # a case's first handover (its reviews)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    item: Mapped[Item] = relationship(back_populates="events")
    actor = relationship("User")
    location: Mapped[Location | None] = relationship()

    @property
    def kind_label(self) -> str:
        return ItemEventKind(self.kind).label


class StocktakeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Stocktake(db.Model):
    __tablename__ = "stocktakes"
    __table_args__ = (
        CheckConstraint(one_of("status", StocktakeStatus), name="status_known"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        # One open count per location at a time.
        Index("uq_stocktakes_one_open_per_location", "location_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=StocktakeStatus.OPEN)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship()
    started_by = relationship("User")


class StocktakeCount(db.Model):
    """One item seen during a stocktake (scanned or typed)."""

    __tablename__ = "stocktake_counts"
    __table_args__ = (UniqueConstraint("stocktake_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    counted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship()
