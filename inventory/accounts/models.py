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
