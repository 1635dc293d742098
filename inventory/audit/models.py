"""Append-only logs. The app never updates or deletes these rows: a flush that tries is
refused here, and database triggers (see the migration) refuse it underneath. The access
log is hash-chained as the ledger is, so a row changed underneath the app shows."""
import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from inventory import clock
from inventory.database import UTCDateTime
from inventory.extensions import db


class AuditEventKind(StrEnum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    NEW_DEVICE_SIGN_IN = "new_device_sign_in"  # which device row, never the browser's own words
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    ROLES_CHANGED = "roles_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATION_UPDATED = "organisation_updated"
    API_TOKEN_CREATED = "api_token_created"
    API_TOKEN_REVOKED = "api_token_revoked"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"
    SECOND_FACTOR_DISABLED = "second_factor_disabled"  # by the user themselves
    SECOND_FACTOR_RESET = "second_factor_reset"  # by an admin, for someone else
    SECOND_FACTOR_FAILED = "second_factor_failed"  # a wrong code at sign-in
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    MONTH_CLOSED = "month_closed"
    MONTH_REOPENED = "month_reopened"
    OVERSPEND_RESOLVED = "overspend_resolved"
    BUDGET_CATEGORY_ADDED = "budget_category_added"
    BUDGET_CATEGORY_RENAMED = "budget_category_renamed"
    BUDGET_CATEGORY_DEACTIVATED = "budget_category_deactivated"
    BUDGET_CATEGORY_REACTIVATED = "budget_category_reactivated"
    CASE_REVIEW_RECORDED = "case_review_recorded"  # which case and review, never what was said
    CASE_ANONYMISED = "case_anonymised"  # which case (id, reference) and the reason's kind, never the data
    # Four-eyes approvals (inventory/accounts/approvals.py): the kind, the approval's id, the role.
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_APPROVED = "approval_approved"
    APPROVAL_REFUSED = "approval_refused"
    APPROVAL_WITHDRAWN = "approval_withdrawn"
    APPROVAL_EXPIRED = "approval_expired"
    REVEALS_THROTTLED = "reveals_throttled"  # a reveal refused beyond REVEAL_RATE_LIMIT (the case's id)
    ACCESS_LOG_EXPORTED = "access_log_exported"  # the filters used and how many rows


class AuditEvent(db.Model):
    """A security event: who did what to whom, when, from where. No survivor data."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_kind_key_time", "kind", "subject_key", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A pseudonymous key (a hash) for attempts that name no known user, so repeated
    # failures can be counted without storing what was typed.
    subject_key: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", foreign_keys=[actor_id])
    subject_user = relationship("User", foreign_keys=[subject_user_id])




class AccessLogEntry(db.Model):
    """One view of a survivor's personal data: who, when, which case, what and why. Each row
    holds the hash of the one before and its own hash over everything it says, so editing,
    removing or inserting a row underneath the app breaks the chain (`verify-access-log`)."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_case_time", "case_id", "occurred_at"),
        # The reveal rate (distinct cases per user in the last hour) and the page's flags.
        Index("ix_access_log_user_time", "user_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int] = mapped_column()
    # The case's non-identifying reference, so the log can be searched by it (NULL only on
    # rows from before it was kept whose case no longer exists).
    case_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    # The fitter's job the reveal was for; none for a reveal on the case itself.
    job_id: Mapped[int | None] = mapped_column()
    what: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(200))
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    position: Mapped[int] = mapped_column(unique=True)  # 1, 2, 3... along the chain
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    user = relationship("User")

    def hash_content(self) -> list:
        """Everything a row says, in a fixed order, with the hash of the one before."""
        return [
            self.previous_hash, self.position, self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            self.user_id, self.case_id, self.case_reference, self.job_id, self.what, self.reason, self.remote_addr,
        ]

    def compute_hash(self) -> str:
        canonical = json.dumps(self.hash_content(), separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class AppendOnlyViolation(RuntimeError):
    pass


def append_only(*models: type) -> None:
    """Refuse, at flush, any update or delete of these models' rows: the audit logs here, the
    ledger and the reconciliation trail in their own modules."""

    @event.listens_for(Session, "before_flush")
    def refuse_changes(session, _flush_context, _instances):
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, models) and (obj in session.deleted or session.is_modified(obj)):
                raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only")


append_only(AuditEvent, AccessLogEntry)
