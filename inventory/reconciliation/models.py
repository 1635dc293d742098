"""Bank and card statements, and how their lines are matched to ledger entries.

Sign rule: a statement line's `amount_pence` is signed as the bank shows it (negative is
money out). A ledger entry's amount is its effect on *available* (an actual is negative, a
credit positive), so a payment and the actual it paid for carry the same sign. Each pair
(line, entry) in a match carries a positive `amount_pence`: the part of both that pair
accounts for. A line is never allocated beyond its amount, nor an entry beyond its amount.
"""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from inventory import clock
from inventory.audit.models import AppendOnlyViolation, append_only
from inventory.database import Pence, UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db


class Statement(db.Model):
    """One uploaded statement file. Lines already imported from an earlier, overlapping
    file are counted as duplicates and not stored again."""

    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint("new_count >= 0 AND duplicate_count >= 0", name="counts_not_negative"),
        CheckConstraint("line_count = new_count + duplicate_count", name="counts_add_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    line_count: Mapped[int] = mapped_column()
    new_count: Mapped[int] = mapped_column()
    duplicate_count: Mapped[int] = mapped_column()

    imported_by = relationship("User")


class StatementLine(db.Model):
    """One line of a statement. Its money fields never change after import."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        CheckConstraint("amount_pence <> 0", name="amount_not_zero"),
        CheckConstraint("allocated_pence >= 0 AND allocated_pence <= abs(amount_pence)",
                        name="allocated_within_amount"),
        CheckConstraint("(reconciled_at IS NULL) = (reconciled_by_id IS NULL)", name="reconciled_by_whom"),
        CheckConstraint("reconciled_at IS NULL OR allocated_pence = abs(amount_pence)",
                        name="reconciled_only_when_fully_matched"),
        Index("ix_statement_lines_unreconciled_date", "value_date", sqlite_where=text("reconciled_at IS NULL"),
              postgresql_where=text("reconciled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    line_number: Mapped[int] = mapped_column()  # in the file, for people fixing it
    value_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str] = mapped_column(String(120))
    amount_pence: Mapped[int] = mapped_column(Pence)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    allocated_pence: Mapped[int] = mapped_column(Pence, default=0)
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconciled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    statement: Mapped[Statement] = relationship(lazy="joined")

    @property
    def is_money_out(self) -> bool:
        return self.amount_pence < 0

    @property
    def remaining_pence(self) -> int:
        return abs(self.amount_pence) - self.allocated_pence

    @property
    def is_reconciled(self) -> bool:
        return self.reconciled_at is not None


class StatementUpload(db.Model):
    """A statement file kept between the upload page's two steps (choose the file, then its
    columns): only its uploader may use it, it expires, and importing it removes it."""

    __tablename__ = "statement_uploads"
    __table_args__ = (CheckConstraint("expires_at > uploaded_at", name="expires_after_upload"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # random, names it in the URL
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    account: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)


FROZEN_LINE_FIELDS = ("statement_id", "value_date", "amount_pence", "fingerprint", "description", "reference")


class MatchMethod(StrEnum):
    PROPOSAL = "proposal"  # finance accepted a proposed match
    MANUAL = "manual"


class Match(db.Model):
    """Finance's decision that these statement lines and these ledger entries are the same
    money. Not a ledger entry: it may be removed (unmatched), which the event log records."""

    __tablename__ = "reconciliation_matches"
    __table_args__ = (CheckConstraint(one_of("method", MatchMethod), name="method_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    created_by = relationship("User")
    allocations: Mapped[list["MatchAllocation"]] = relationship(
        back_populates="match", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        order_by="MatchAllocation.id",
    )

    @property
    def total_pence(self) -> int:
        return sum(allocation.amount_pence for allocation in self.allocations)


class MatchAllocation(db.Model):
    """How much of one line and one entry a match pairs together."""

    __tablename__ = "reconciliation_allocations"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        UniqueConstraint("match_id", "statement_line_id", "ledger_entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_matches.id", ondelete="CASCADE"), index=True)
    statement_line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(Pence)

    match: Mapped[Match] = relationship(back_populates="allocations")
    statement_line: Mapped[StatementLine] = relationship()
    ledger_entry = relationship("LedgerEntry")


class RejectedProposal(db.Model):
    """Finance said this line and this entry are not the same money: never propose it again."""

    __tablename__ = "reconciliation_rejections"
    __table_args__ = (UniqueConstraint("statement_line_id", "ledger_entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    rejected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    rejected_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class ReconciliationEventKind(StrEnum):
    STATEMENT_IMPORTED = "statement_imported"
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    PROPOSAL_REJECTED = "proposal_rejected"
    LINE_RECONCILED = "line_reconciled"


class ReconciliationEvent(db.Model):
    """The trail of reconciliation decisions (append-only). A removed match keeps its
    story here: `match_id` is deliberately not a foreign key."""

    __tablename__ = "reconciliation_events"
    __table_args__ = (CheckConstraint(one_of("kind", ReconciliationEventKind), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    match_id: Mapped[int | None] = mapped_column(index=True)
    statement_line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")


append_only(ReconciliationEvent)


@event.listens_for(Session, "before_flush")
def _freeze_statement_lines(session, _flush_context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, StatementLine):
            if obj in session.deleted:
                raise AppendOnlyViolation("statement lines are never deleted")
            changed = [name for name in FROZEN_LINE_FIELDS
                       if inspect(obj).attrs[name].history.has_changes()]
            if changed:
                raise AppendOnlyViolation(f"statement line fields are frozen: {', '.join(changed)}")


class ExportFormat(LabelledEnum):
    XERO = "xero", "Xero manual journals"
    SAGE = "sage", "Sage 50 audit trail"


class ExportBatch(db.Model):
    """One export for the accounts: who made it, when, in which format, the ledger entries it
    carries and the file(s) as written, kept so that a past batch downloads byte for byte.
    Never changed afterwards (append-only)."""

    __tablename__ = "export_batches"
    __table_args__ = (
        CheckConstraint(one_of("format", ExportFormat), name="format_known"),
        CheckConstraint("entry_count > 0", name="not_empty"),
        # The target of the entries' (batch, format) reference, which keeps an entry's format its batch's.
        UniqueConstraint("id", "format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entry_count: Mapped[int] = mapped_column()
    vat_reclaimed: Mapped[bool] = mapped_column()  # the VAT_RECLAIMED setting the files were written under

    created_by = relationship("User")
    files: Mapped[list["ExportFile"]] = relationship(order_by="ExportFile.number", lazy="selectin",
                                                     back_populates="batch")

    @property
    def format_label(self) -> str:
        return ExportFormat(self.format).label


class ExportedEntry(db.Model):
    """A ledger entry that left in a batch. Unique per format: no entry is ever in two
    batches for the same accounting package."""

    __tablename__ = "export_batch_entries"
    __table_args__ = (
        UniqueConstraint("format", "ledger_entry_id"),
        ForeignKeyConstraint(["batch_id", "format"], ["export_batches.id", "export_batches.format"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(index=True)
    format: Mapped[str] = mapped_column(String(8))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)


class ExportFile(db.Model):
    """One file of a batch, as it was written (Xero takes a limited number of lines per file,
    so a large batch has several), with its SHA-256 for whoever checks it later."""

    __tablename__ = "export_files"
    __table_args__ = (
        CheckConstraint("number > 0", name="number_positive"),
        UniqueConstraint("batch_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("export_batches.id"))
    number: Mapped[int] = mapped_column()  # 1, 2, ... within the batch
    name: Mapped[str] = mapped_column(String(120))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only to serve the file
    sha256: Mapped[str] = mapped_column(String(64))

    batch: Mapped[ExportBatch] = relationship(back_populates="files")


append_only(ExportBatch, ExportedEntry, ExportFile)
