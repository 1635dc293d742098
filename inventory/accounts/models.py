import json
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.database import UTCDateTime, one_of
from inventory.extensions import db
from inventory.permissions import Role


class OrganisationKind(StrEnum):
    LEAD = "lead"
    PARTNER = "partner"


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(one_of("kind", OrganisationKind), name="kind_known"),
        # There is exactly one lead provider holding the contract.
        Index(
            "uq_organisations_one_lead", "kind", unique=True,
            sqlite_where=text("kind = 'lead'"), postgresql_where=text("kind = 'lead'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def is_lead(self) -> bool:
        return self.kind == OrganisationKind.LEAD


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_set(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    @property
    def roles(self) -> list[str]:
        return sorted(str(r) for r in self.role_set)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set & set(roles))

    @classmethod
    def holding(cls, role: Role):
        """SQL condition: the user holds `role`."""
        return cls.id.in_(select(UserRole.user_id).where(UserRole.role == role))


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint(one_of("role", Role), name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="role_rows")


class LoginSession(db.Model):
    """A signed-in browser. The cookie carries only a random token; ending the row here
    ends the session, so a copied cookie replayed after logout is refused."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApprovalOutcome(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # by the admin who asked
    EXPIRED = "expired"  # nobody decided within APPROVAL_DAYS


class AdminApproval(db.Model):
    """A change one admin asks for and another must approve (four eyes): giving a role that
    opens survivors' personal data, say. `kind` names what approving does
    (inventory/accounts/approvals.py); `payload` says the rest, as canonical JSON."""

    __tablename__ = "admin_approvals"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('approved', 'refused', 'withdrawn', 'expired')", name="outcome_known"),
        CheckConstraint("(outcome IS NULL) = (decided_at IS NULL)", name="decided_when_outcome"),
        # Nobody decides a request of their own or one about themselves. No decider (NULL)
        # is the server's operator (`flask grant-role`) or the expiry; the operator's own
        # grants have no asker either.
        CheckConstraint(
            "outcome NOT IN ('approved', 'refused') OR decided_by_id IS NULL "
            "OR (decided_by_id <> requested_by_id AND decided_by_id <> subject_user_id)",
            name="four_eyes"),
        CheckConstraint("requested_by_id IS NOT NULL OR (outcome = 'approved' AND decided_by_id IS NULL)",
                        name="only_the_operator_asks_unnamed"),
        CheckConstraint("outcome NOT IN ('approved', 'refused') OR length(reason) > 0", name="decision_has_reason"),
        # One pending request for the same change about the same person.
        Index("uq_admin_approvals_one_pending", "kind", "subject_user_id", "payload", unique=True,
              sqlite_where=text("outcome IS NULL"), postgresql_where=text("outcome IS NULL")),
        Index("ix_admin_approvals_pending", "requested_at",
              sqlite_where=text("outcome IS NULL"), postgresql_where=text("outcome IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    payload: Mapped[str] = mapped_column(String(500), default="{}")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # none: the server's operator
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500), default="")

    subject_user: Mapped[User] = relationship(foreign_keys=[subject_user_id], lazy="joined")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @staticmethod
    def canonical(values: dict) -> str:
        return json.dumps(values, sort_keys=True, separators=(",", ":"))

    @property
    def values(self) -> dict:
        return json.loads(self.payload)

    @property
    def is_pending(self) -> bool:
        return self.outcome is None

    def may_be_decided_by(self, user) -> bool:
        """Four eyes: neither the admin who asked nor the person it is about."""
        return user.id not in (self.requested_by_id, self.subject_user_id)
