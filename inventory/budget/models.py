"""Budget periods, the append-only ledger and what keeps it honest.

Sign rule: `LedgerEntry.amount_pence` is the entry's effect on *available*. Allocations,
releases and credits add (positive); commitments and actuals take away (negative); an
adjustment is either; a reversal is exactly the negation of the entry it reverses. So a
period's available is the plain sum of its entries' amounts.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.audit.models import append_only
from inventory.database import Pence, UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db


class EntryKind(StrEnum):
    ALLOCATION = "allocation"
    COMMITMENT = "commitment"
    RELEASE = "release"
    ACTUAL = "actual"
    CREDIT = "credit"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


class SourceType(StrEnum):
    """What caused an entry. The tables arrive with their features, so the link is generic."""

    REQUEST = "request"
    PURCHASE_ORDER = "purchase_order"
    INVOICE = "invoice"
    STATEMENT_LINE = "statement_line"
    DIRECT_PURCHASE = "direct_purchase"


@dataclass(frozen=True)
class Bucket:
    """Which running total an entry kind moves, and in which direction."""

    name: str
    sign: int  # the total moves by sign * amount_pence


# A reversal moves the bucket of the entry it reverses (by the negated amount).
BUCKETS: dict[EntryKind, Bucket] = {
    EntryKind.ALLOCATION: Bucket("allocated_pence", 1),
    EntryKind.COMMITMENT: Bucket("committed_pence", -1),
    EntryKind.RELEASE: Bucket("committed_pence", -1),
    EntryKind.ACTUAL: Bucket("actual_pence", -1),
    EntryKind.CREDIT: Bucket("credits_pence", 1),
    EntryKind.ADJUSTMENT: Bucket("adjustments_pence", 1),
}

# What every report calls spend: actuals less credits, each reversal counted with the entry it
# reverses. Adjustments (finance journals) and commitments are not spend.
SPEND_KINDS = (EntryKind.ACTUAL, EntryKind.CREDIT)
POSITIVE_KINDS = (EntryKind.ALLOCATION, EntryKind.RELEASE, EntryKind.CREDIT)
NEGATIVE_KINDS = (EntryKind.COMMITMENT, EntryKind.ACTUAL)
VAT_KINDS = (EntryKind.ACTUAL, EntryKind.CREDIT)


def category_key(name: str) -> str:
    """A category name as compared: case-folded, spaces collapsed, a trailing "s" ignored
    ("PIR lights" and "pir  light" are one). Migration 0014 mapped free-text categories with
    this rule, and verification reads a legacy entry's text with it."""
    return " ".join(name.split()).casefold().removesuffix("s")


class BudgetCategory(db.Model):
    """An entry in the managed list of what money is spent on. Its name is what entries
    record (and hash), so it cannot change once an entry uses it; a deactivated category
    is offered for nothing new but stays in reports."""

    __tablename__ = "budget_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    # category_key(name): two categories never differ only by case, spacing or a plural.
    key: Mapped[str] = mapped_column(String(60), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class BudgetPeriod(db.Model):
    """Normally a financial year, April to March."""

    __tablename__ = "budget_periods"
    __table_args__ = (CheckConstraint("ends_on > starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    starts_on: Mapped[date] = mapped_column(Date, unique=True)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    balance: Mapped["PeriodBalance"] = relationship(back_populates="period", lazy="joined", uselist=False)

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class PeriodBalance(db.Model):
    """The running totals of one period, updated in the same transaction as each entry,
    so *available* is one row read however long the ledger grows. Its row lock
    (SELECT ... FOR UPDATE) serialises commitments against the period."""

    __tablename__ = "budget_period_balances"

    period_id: Mapped[int] = mapped_column(ForeignKey("budget_periods.id"), primary_key=True)
    allocated_pence: Mapped[int] = mapped_column(Pence, default=0)
    committed_pence: Mapped[int] = mapped_column(Pence, default=0)
    actual_pence: Mapped[int] = mapped_column(Pence, default=0)
    credits_pence: Mapped[int] = mapped_column(Pence, default=0)
    adjustments_pence: Mapped[int] = mapped_column(Pence, default=0)
    entry_count: Mapped[int] = mapped_column(default=0)

    period: Mapped[BudgetPeriod] = relationship(back_populates="balance")

    @property
    def available_pence(self) -> int:
        return (self.allocated_pence - self.actual_pence - self.committed_pence + self.credits_pence
                + self.adjustments_pence)

    def apply(self, kind: EntryKind, amount_pence: int) -> None:
        bucket = BUCKETS[kind]
        setattr(self, bucket.name, getattr(self, bucket.name) + bucket.sign * amount_pence)
        self.entry_count += 1


class LedgerEntry(db.Model):
    """One immutable money movement. Corrected only by a reversal, never edited."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(one_of("kind", EntryKind), name="kind_known"),
        CheckConstraint(
            f"({one_of('kind', POSITIVE_KINDS)} AND amount_pence > 0)"
            f" OR ({one_of('kind', NEGATIVE_KINDS)} AND amount_pence < 0)"
            f" OR (kind IN ('adjustment', 'reversal') AND amount_pence <> 0)",
            name="amount_sign_by_kind",
        ),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_its_entry"),
        CheckConstraint("kind <> 'release' OR commitment_id IS NOT NULL", name="release_names_its_commitment"),
        CheckConstraint("commitment_id IS NULL OR kind IN ('release', 'actual')", name="commitment_link_kinds"),
        CheckConstraint("settled_by_id IS NULL OR kind = 'release'", name="settled_by_only_on_release"),
        CheckConstraint(
            f"{one_of('kind', VAT_KINDS)} OR (net_pence IS NULL AND vat_pence IS NULL AND gross_pence IS NULL)",
            name="vat_only_on_invoices",
        ),
        CheckConstraint(
            "gross_pence IS NULL OR (net_pence IS NOT NULL AND vat_pence IS NOT NULL"
            " AND net_pence >= 0 AND vat_pence >= 0 AND gross_pence = net_pence + vat_pence)",
            name="gross_is_net_plus_vat",
        ),
        CheckConstraint(f"source_type IS NULL OR {one_of('source_type', SourceType)}", name="source_type_known"),
        CheckConstraint("(source_type IS NULL) = (source_id IS NULL)", name="source_complete"),
        CheckConstraint("position > 0", name="position_positive"),
        Index("ix_ledger_entries_period_kind", "period_id", "kind"),
        Index("ix_ledger_entries_period_date", "period_id", "entry_date"),
        Index("ix_ledger_entries_source", "source_type", "source_id"),
        Index("ix_ledger_entries_date_kind", "entry_date", "kind"),  # spend in a period (the funder's return)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 1, 2, 3, ... in chain order; unique, so two writers can never fork the chain.
    position: Mapped[int] = mapped_column(Integer, unique=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("budget_periods.id"))
    kind: Mapped[str] = mapped_column(String(16))
    entry_date: Mapped[date] = mapped_column(Date, index=True)
    amount_pence: Mapped[int] = mapped_column(Pence)
    net_pence: Mapped[int | None] = mapped_column(Pence)
    vat_pence: Mapped[int | None] = mapped_column(Pence)
    gross_pence: Mapped[int | None] = mapped_column(Pence)
    # The category's name as posted (hashed, so it never changes) and the category it names.
    category: Mapped[str | None] = mapped_column(String(60))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("budget_categories.id"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    source_type: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column()
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    # On a release written by post_actual: that actual (reversing the actual reverses it too).
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    period: Mapped[BudgetPeriod] = relationship()
    posted_by = relationship("User")
    commitment: Mapped["LedgerEntry | None"] = relationship(remote_side=[id], foreign_keys=[commitment_id])
    reverses: Mapped["LedgerEntry | None"] = relationship(remote_side=[id], foreign_keys=[reverses_id])
    settled_by: Mapped["LedgerEntry | None"] = relationship(remote_side=[id], foreign_keys=[settled_by_id])

    @property
    def effective_kind(self) -> EntryKind:
        """The kind whose total this entry moves (a reversal moves its original's)."""
        return EntryKind(self.reverses.kind if self.kind == EntryKind.REVERSAL else self.kind)

    def hash_content(self) -> list:
        """Everything an entry says, in a fixed order, with the hash of the one before."""
        return [
            self.previous_hash, self.position, self.period_id, self.kind, self.entry_date.isoformat(),
            self.amount_pence, self.net_pence, self.vat_pence, self.gross_pence, self.category,
            self.case_reference, self.memo, self.source_type, self.source_id, self.commitment_id,
            self.reverses_id, self.settled_by_id, self.posted_at.astimezone(UTC).isoformat(timespec="microseconds"),
            self.posted_by_id,
        ]

    def compute_hash(self) -> str:
        canonical = json.dumps(self.hash_content(), separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class OverspendAlert(db.Model):
    """An actual above its commitment (or beyond the budget). While one is unresolved in a
    period, no new commitment may be made in it."""

    __tablename__ = "overspend_alerts"
    __table_args__ = (
        CheckConstraint("over_by_pence > 0", name="over_by_positive"),
        CheckConstraint("(resolved_at IS NULL) = (resolution IS NULL)", name="resolution_with_date"),
        Index("ix_overspend_alerts_open", "period_id", sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("budget_periods.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    over_by_pence: Mapped[int] = mapped_column(Pence)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(500))

    entry: Mapped[LedgerEntry] = relationship()
    resolved_by = relationship("User")


class MonthClose(db.Model):
    """Finance closed a month (`month` is its first day): nothing may be dated inside it. Reopening (an admin, with a
    reason) ends this row; closing again makes a new one, so the history stays."""

    __tablename__ = "month_closes"
    __table_args__ = (
        CheckConstraint("(reopened_at IS NULL) = (reopen_reason IS NULL)", name="reopen_has_reason"),
        # At most one standing close per month.
        Index("uq_month_closes_open_month", "month", unique=True, sqlite_where=text("reopened_at IS NULL"),
              postgresql_where=text("reopened_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(String(500))

    closed_by = relationship("User", foreign_keys=[closed_by_id])
    reopened_by = relationship("User", foreign_keys=[reopened_by_id])


class PaymentMethod(LabelledEnum):
    """How a direct purchase was paid: the accounts post it to the bank or the card account."""

    BANK = "bank", "Bank (transfer, debit card, direct debit)"
    CARD = "card", "Credit card"


class DirectPurchase(db.Model):
    """Bought without a PO (a lock from a shop, on a card): posted as an actual whose
    source is this row."""

    __tablename__ = "direct_purchases"
    __table_args__ = (
        CheckConstraint("net_pence >= 0 AND vat_pence >= 0 AND gross_pence > 0", name="amounts_sane"),
        CheckConstraint("gross_pence = net_pence + vat_pence", name="gross_is_net_plus_vat"),
        CheckConstraint(one_of("payment_method", PaymentMethod), name="payment_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_name: Mapped[str] = mapped_column(String(120))
    purchased_on: Mapped[date] = mapped_column(Date)
    net_pence: Mapped[int] = mapped_column(Pence)
    vat_pence: Mapped[int] = mapped_column(Pence)
    gross_pence: Mapped[int] = mapped_column(Pence)
    receipt_reference: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(60))
    # None only for a purchase recorded before categories were a list, whose text named none.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("budget_categories.id"))
    case_reference: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payment_method: Mapped[str] = mapped_column(String(8), default=PaymentMethod.BANK,
                                                server_default=PaymentMethod.BANK.value)

    created_by = relationship("User")


class LedgerVerification(db.Model):
    """A passing check of the ledger's hash chain: up to which position, and the hash there.
    The next check starts after the last one (verify-ledger by default), checking only that
    the entry at that position still has this hash; `full` says it walked from entry 1."""

    __tablename__ = "ledger_verifications"
    __table_args__ = (
        CheckConstraint("up_to_position >= 0", name="position_not_negative"),
        CheckConstraint("entries_checked >= 0", name="entries_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    up_to_position: Mapped[int] = mapped_column(Integer)  # 0: the ledger was empty
    last_hash: Mapped[str] = mapped_column(String(64))
    entries_checked: Mapped[int] = mapped_column(Integer)
    full: Mapped[bool] = mapped_column(Boolean)


append_only(LedgerEntry, DirectPurchase, LedgerVerification)
