import json
from datetime import datetime, timedelta
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, and_, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.sealing.columns import SealedText, seal_key_column
from inventory.database import UTCDateTime, one_of
from inventory.extensions import db
from inventory.permissions import Role

EXPIRY_WARNING = timedelta(days=7)  # a token this close to its expiry is marked on the tokens page


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
        # Each organisation's case references start with its own prefix, so no two
        # organisations' references can meet. Only the lead may go without one (its references
        # then take any letters no partner holds: the format from before prefixes).
        CheckConstraint("case_reference_prefix IS NOT NULL OR kind = 'lead'", name="partner_has_reference_prefix"),
        Index("uq_organisations_case_reference_prefix", "case_reference_prefix", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    case_reference_prefix: Mapped[str | None] = mapped_column(String(6))

    @property
    def is_lead(self) -> bool:
        return self.kind == OrganisationKind.LEAD


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("two_factor_enabled_at IS NULL OR totp_secret IS NOT NULL", name="two_factor_has_secret"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor sign-in (accounts/two_factor.py). The TOTP secret, sealed, is set when
    # enrolment starts and in use once enabled; a code is accepted only for a time step
    # after the last one accepted, so a code seen over someone's shoulder cannot be replayed.
    # Sealed to this user's row: a secret copied from another row does not open here.
    seal_key: Mapped[str | None] = seal_key_column()
    sealed_totp_secret: Mapped[str | None] = mapped_column("totp_secret", Text)
    totp_secret = SealedText("sealed_totp_secret")
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()

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

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

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


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app (lost or broken phone).
    Only its SHA-256 is stored (the codes are random); once used, it is spent."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(db.Model):
    """A signed-in browser. The cookie carries only a random token; ending the row here
    ends the session, so a copied cookie replayed after logout is refused."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TokenRevocation(StrEnum):
    """Why a token stopped working before its expiry."""

    OWNER = "owner"  # its owner revoked it
    ADMIN = "admin"  # an admin revoked it
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    ROLES_CHANGED = "roles_changed"

    @property
    def label(self) -> str:
        return {
            "owner": "by its owner", "admin": "by an admin", "password_reset": "password reset by an admin",
            "password_changed": "password changed", "deactivated": "user deactivated",
            "roles_changed": "roles changed",
        }[self.value]


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once. It works
    until it expires or is revoked, whichever comes first."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(f"revoked_reason IS NULL OR {one_of('revoked_reason', TokenRevocation)}",
                        name="revoked_reason_known"),
        CheckConstraint("(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revoked_with_reason"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def revocation(self) -> TokenRevocation | None:
        return TokenRevocation(self.revoked_reason) if self.revoked_reason else None

    @property
    def expires_soon(self) -> bool:
        """Still working but expiring within EXPIRY_WARNING (the tokens page marks it)."""
        return self.is_active and self.expires_at - clock.now() <= EXPIRY_WARNING

    @classmethod
    def working(cls, now: datetime):
        """SQL condition: neither revoked nor expired at `now`."""
        return and_(cls.revoked_at.is_(None), cls.expires_at > now)



class ThrottleScope(StrEnum):
    ACCOUNT = "account"  # one sign-in name (the email typed), from unknown devices
    ADDRESS = "address"  # one client address, across every name tried from it
    DEVICE = "device"  # one known device of one user


class SignInCounter(db.Model):
    """Recent failed sign-ins of one scope and key (an HMAC of the email or address, or a
    known device's id): one row, updated by a single upsert so concurrent failures all count."""

    __tablename__ = "sign_in_counters"
    __table_args__ = (
        CheckConstraint(one_of("scope", ThrottleScope), name="scope_known"),
        CheckConstraint("failures > 0", name="failures_positive"),
    )

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column()
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KnownDevice(db.Model):
    """A browser that has signed in as this user: its device cookie's token, as a SHA-256."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(40))  # "Firefox on Windows": coarse, never the raw user agent
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)



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
