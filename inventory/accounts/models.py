from datetime import datetime, timedelta
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, and_, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
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
