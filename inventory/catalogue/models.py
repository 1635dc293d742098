"""The catalogue: what kinds of thing the service buys (item types) and from whom
(suppliers, with each supplier's own product code for a type)."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.budget.models import BudgetCategory
from inventory.database import Pence, UTCDateTime, one_of
from inventory.extensions import db


class Category(StrEnum):
    PERSONAL_ALARM = "personal_alarm"
    CAMERA_DOORBELL = "camera_doorbell"
    PIR_LIGHT = "pir_light"
    WINDOW_ALARM = "window_alarm"
    LOCK = "lock"
    CCTV_CAMERA = "cctv_camera"
    OTHER = "other"  # named by an admin in ItemType.other_category

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.PERSONAL_ALARM: "Personal alarm",
    Category.CAMERA_DOORBELL: "Camera doorbell",
    Category.PIR_LIGHT: "PIR light",
    Category.WINDOW_ALARM: "Window alarm",
    Category.LOCK: "Lock",
    Category.CCTV_CAMERA: "CCTV camera",
    Category.OTHER: "Other",
}


def category_label(category: str, other_category: str | None) -> str:
    return other_category if category == Category.OTHER else Category(category).label


class Supplier(db.Model):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(200))
    account_reference: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ItemType(db.Model):
    __tablename__ = "item_types"
    __table_args__ = (
        CheckConstraint(one_of("category", Category), name="category_known"),
        # "Other" categories are named by the admin; the fixed ones carry no extra name.
        CheckConstraint("(category = 'other') = (other_category IS NOT NULL)", name="other_category_named"),
        CheckConstraint("standard_cost_pence >= 0", name="cost_not_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    other_category: Mapped[str | None] = mapped_column(String(60))
    # What buying one is charged to in the budget (by default the category named as its kind).
    budget_category_id: Mapped[int] = mapped_column(ForeignKey("budget_categories.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Loaned items are expected back (alarms, portable cameras); the rest are fitted or gifted.
    loaned: Mapped[bool] = mapped_column(default=False)
    # Connected devices need the account handover checklist and a wipe before reuse.
    connected_device: Mapped[bool] = mapped_column(default=False)
    standard_cost_pence: Mapped[int] = mapped_column(Pence, default=0)
    reorder_level: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    budget_category: Mapped[BudgetCategory] = relationship(lazy="joined")
    product_codes: Mapped[list["SupplierProductCode"]] = relationship(
        back_populates="item_type", cascade="all, delete-orphan", order_by="SupplierProductCode.id",
    )

    @property
    def category_label(self) -> str:
        return category_label(self.category, self.other_category)


class SupplierProductCode(db.Model):
    """A supplier's own code for an item type (what goes on the purchase order)."""

    __tablename__ = "supplier_product_codes"
    __table_args__ = (
        UniqueConstraint("item_type_id", "supplier_id"),
        UniqueConstraint("supplier_id", "product_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(60))

    item_type: Mapped[ItemType] = relationship(back_populates="product_codes")
    supplier: Mapped[Supplier] = relationship(lazy="joined")
