"""A case: one survivor referred to the service, holding the minimum personal data.

Name, address, phone, safe-contact notes, the police crime reference and the referring
agency are sealed at rest, each bound to its case (inventory.sealing: SealedText); they are
never searched, sorted or logged. The reference is the case's non-identifying handle.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, delete,
                        event, insert)
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

from inventory import clock
from inventory.accounts.models import Organisation, User
from inventory.database import UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db
from inventory.sealing.columns import SealedText, seal_key_column


class RiskLevel(LabelledEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


class RiskTool(LabelledEnum):
    DASH = "dash", "DASH"
    S_DASH = "s_dash", "S-DASH"
    SASH = "sash", "SASH"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"


class Tenure(LabelledEnum):
    OWNER_OCCUPIER = "owner_occupier", "Owner-occupier"
    PRIVATE_TENANT = "private_tenant"
    SOCIAL_TENANT = "social_tenant", "Social housing tenant"
    TEMPORARY = "temporary", "Temporary accommodation"
    OTHER = "other"


class LandlordConsent(LabelledEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending", "Asked, waiting"
    GIVEN = "given"
    REFUSED = "refused"


class ReferralSource(LabelledEnum):
    """Where the referral came from (the commissioner counts referrals by source)."""

    POLICE = "police"
    SELF = "self", "Self-referral"
    AGENCY = "agency", "Another agency"
    OTHER = "other"


class AnonymisationReason(LabelledEnum):
    """Why a case's personal data was erased: the two retention rules, or a person's decision."""

    REFERRAL_NOT_TAKEN_UP = "referral_not_taken_up", "Referral never taken up (retention period ended)"
    RETENTION_ENDED = "retention_ended", "Closed case, retention period after last contact ended"
    SURVIVOR_ASKED = "survivor_asked", "The survivor asked for their data to be erased"
    SAFETY = "safety", "Keeping the data puts the survivor at risk"
    RECORDED_IN_ERROR = "recorded_in_error", "Recorded in error (wrong person or a duplicate)"


# The reasons a coordinator may give for "anonymise now" (the others are the retention job's).
MANUAL_ANONYMISATION_REASONS = (AnonymisationReason.SURVIVOR_ASKED, AnonymisationReason.SAFETY,
                                AnonymisationReason.RECORDED_IN_ERROR)
ANONYMISED = "[anonymised]"  # what replaces erased text where a value is required


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class NeedFlag:
    """A fact about the case that raises its need; `key` is its column and its API name."""

    key: str
    label: str


NEED_FLAGS = (
    NeedFlag("address_known", "Perpetrator knows or has visited the home address"),
    NeedFlag("recent_escalation", "Recent escalation"),
    NeedFlag("repeat_victimisation", "Repeat victimisation"),
    NeedFlag("children", "Children in the household"),
    NeedFlag("vulnerability", "Disability or other vulnerability"),
    NeedFlag("lives_alone", "Lives alone"),
    NeedFlag("police_request", "Police request"),
)
NEED_FLAG_KEYS = tuple(flag.key for flag in NEED_FLAGS)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(one_of("risk_level", RiskLevel), name="risk_level_known"),
        CheckConstraint(one_of("risk_tool", RiskTool), name="risk_tool_known"),
        CheckConstraint(one_of("tenure", Tenure), name="tenure_known"),
        CheckConstraint(one_of("landlord_consent", LandlordConsent), name="landlord_consent_known"),
        CheckConstraint(one_of("status", CaseStatus), name="status_known"),
        # Closed exactly when it has a closing date.
        CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_on_iff_closed"),
        # Cases from before referral sources were recorded have none ("not recorded").
        CheckConstraint(f"referral_source IS NULL OR {one_of('referral_source', ReferralSource)}",
                        name="referral_source_known"),
        # Which agency is named only for a referral from another agency.
        CheckConstraint("referral_agency IS NULL OR referral_source = 'agency'", name="referral_agency_only_for_agency"),
        Index("ix_cases_created_at", "created_at"),  # referrals in a period (the funder's return)
        # Anonymised exactly when a reason is recorded, and only for a known reason.
        CheckConstraint("(anonymised_reason IS NULL AND anonymised_at IS NULL) OR "
                        f"({one_of('anonymised_reason', AnonymisationReason)} AND anonymised_at IS NOT NULL)",
                        name="anonymised_reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    # Personal data, sealed at rest and bound to this case: `case.name` is the plaintext,
    # `sealed_name` what the database holds (in the column `name`).
    seal_key: Mapped[str] = seal_key_column()
    sealed_name: Mapped[str] = mapped_column("name", Text)
    sealed_address: Mapped[str] = mapped_column("address", Text)
    sealed_phone: Mapped[str] = mapped_column("phone", Text)
    sealed_safe_contact_notes: Mapped[str | None] = mapped_column("safe_contact_notes", Text)
    sealed_police_reference: Mapped[str | None] = mapped_column("police_reference", Text)
    # An agency's name, not a person's; sealed all the same, as free text typed by people and
    # shown only with the personal details.
    sealed_referral_agency: Mapped[str | None] = mapped_column("referral_agency", Text)
    name = SealedText("sealed_name")
    address = SealedText("sealed_address")
    phone = SealedText("sealed_phone")
    safe_contact_notes = SealedText("sealed_safe_contact_notes")
    police_reference = SealedText("sealed_police_reference")
    referral_agency = SealedText("sealed_referral_agency")

    consent_on: Mapped[date] = mapped_column()  # the survivor consented to the referral that day
    tenure: Mapped[str] = mapped_column(String(24))
    landlord_consent: Mapped[str] = mapped_column(String(16))
    risk_tool: Mapped[str] = mapped_column(String(24))
    risk_level: Mapped[str] = mapped_column(String(10))
    risk_assessed_on: Mapped[date] = mapped_column()
    marac: Mapped[bool] = mapped_column(default=False)

    address_known: Mapped[bool] = mapped_column(default=False)
    recent_escalation: Mapped[bool] = mapped_column(default=False)
    repeat_victimisation: Mapped[bool] = mapped_column(default=False)
    children: Mapped[bool] = mapped_column(default=False)
    vulnerability: Mapped[bool] = mapped_column(default=False)
    lives_alone: Mapped[bool] = mapped_column(default=False)
    police_request: Mapped[bool] = mapped_column(default=False)

    referral_source: Mapped[str | None] = mapped_column(String(10))

    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.OPEN)
    closed_on: Mapped[date | None] = mapped_column()
    # Set once, when the personal data is erased (by the retention job or "anonymise now").
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_reason: Mapped[str | None] = mapped_column(String(24))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def flags(self) -> list[str]:
        return [key for key in NEED_FLAG_KEYS if getattr(self, key)]

    @property
    def flag_labels(self) -> list[str]:
        return [flag.label for flag in NEED_FLAGS if getattr(self, flag.key)]

    @property
    def risk_label(self) -> str:
        return RiskLevel(self.risk_level).label

    @property
    def risk_tool_label(self) -> str:
        return RiskTool(self.risk_tool).label

    @property
    def tenure_label(self) -> str:
        return Tenure(self.tenure).label

    @property
    def landlord_consent_label(self) -> str:
        return LandlordConsent(self.landlord_consent).label

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def anonymised_reason_label(self) -> str | None:
        return AnonymisationReason(self.anonymised_reason).label if self.anonymised_reason else None

    @property
    def referral_source_label(self) -> str:
        return ReferralSource(self.referral_source).label if self.referral_source else "Not recorded"


# What a reference is searched by: its letters and digits in upper case, so "ns 2026 0142",
# "2026-01" and "NS-2026-0142" all find NS-2026-0142.
_NOT_IN_KEY = re.compile(r"[-\s]+")
SUFFIX_MIN_LENGTH = 3  # shorter searches match most cases anyway: a scan stops at the first page


def reference_key(text: str) -> str:
    return _NOT_IN_KEY.sub("", text).upper()


def reference_suffixes(reference: str) -> list[str]:
    """Every tail of the reference's key of SUFFIX_MIN_LENGTH characters or more: a search
    for any part of a reference is then a search for the start of one of them, which an
    index serves (a LIKE '%part%' never can)."""
    key = reference_key(reference)
    return [key[start:] for start in range(len(key) - SUFFIX_MIN_LENGTH + 1)]


class CaseReferenceSuffix(db.Model):
    """The search index of case references, kept by Case on every flush (never written
    elsewhere). Compared byte by byte (collation "C" on PostgreSQL, SQLite's own), so a
    range `suffix >= part AND suffix < next(part)` is a prefix search whatever the
    database's collation."""

    __tablename__ = "case_reference_suffixes"

    suffix: Mapped[str] = mapped_column(String(20).with_variant(String(20, collation="C"), "postgresql"),
                                        primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)


@event.listens_for(Case, "after_insert")
def _index_new_reference(_mapper, connection, case: Case) -> None:
    _write_suffixes(connection, case)


@event.listens_for(Case, "after_update")
def _reindex_changed_reference(_mapper, connection, case: Case) -> None:
    if attributes.get_history(case, "reference").has_changes():
        connection.execute(delete(CaseReferenceSuffix).where(CaseReferenceSuffix.case_id == case.id))
        _write_suffixes(connection, case)


def _write_suffixes(connection, case: Case) -> None:
    rows = [{"suffix": suffix, "case_id": case.id} for suffix in reference_suffixes(case.reference)]
    if rows:
        connection.execute(insert(CaseReferenceSuffix), rows)


class ReviewKind(LabelledEnum):
    """The reviews of a case: 3 and 6 months after its equipment was fitted, and on closing."""

    THREE_MONTHS = "three_months", "3-month review"
    SIX_MONTHS = "six_months", "6-month review"
    CLOSING = "closing", "Closing review"


# The survivor's own answer to "do you feel safer?", a five-point scale stored as 1..5.
FEELS_SAFER_SCALE = {1: "Much less safe", 2: "Less safe", 3: "No different", 4: "Safer", 5: "Much safer"}


class SupportEnded(LabelledEnum):
    """Why support ended, recorded by the closing review."""

    NO_LONGER_NEEDED = "no_longer_needed"
    MOVED = "moved", "Moved away"
    DECLINED = "declined", "Declined further support"
    LOST_CONTACT = "lost_contact"
    OTHER = "other"


class CaseReview(db.Model):
    """What a review found: outcomes the commissioner counts, never free text about the
    survivor. An answer the survivor did not give is left empty (NULL)."""

    __tablename__ = "case_reviews"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        CheckConstraint(one_of("kind", ReviewKind), name="kind_known"),
        CheckConstraint("feels_safer IS NULL OR feels_safer BETWEEN 1 AND 5", name="feels_safer_on_scale"),
        CheckConstraint("incidents_since_fitting IS NULL OR incidents_since_fitting >= 0",
                        name="incidents_not_negative"),
        CheckConstraint(f"support_ended IS NULL OR {one_of('support_ended', SupportEnded)}",
                        name="support_ended_known"),
        # Only the closing review says why support ended, and it always does.
        CheckConstraint("(kind = 'closing') = (support_ended IS NOT NULL)", name="support_ended_iff_closing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reviewed_on: Mapped[date] = mapped_column(index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    feels_safer: Mapped[int | None] = mapped_column(SmallInteger)
    still_at_address: Mapped[bool | None] = mapped_column()
    incidents_since_fitting: Mapped[int | None] = mapped_column()
    support_ended: Mapped[str | None] = mapped_column(String(20))

    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User] = relationship()
    items: Mapped[list["ReviewedItem"]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewedItem.item_id")

    @property
    def kind_label(self) -> str:
        return ReviewKind(self.kind).label

    @property
    def feels_safer_label(self) -> str:
        return FEELS_SAFER_SCALE[self.feels_safer] if self.feels_safer is not None else "Did not say"

    @property
    def still_at_address_label(self) -> str:
        return {True: "Yes", False: "No", None: "Did not say"}[self.still_at_address]

    @property
    def support_ended_label(self) -> str | None:
        return SupportEnded(self.support_ended).label if self.support_ended else None


class ReviewedItem(db.Model):
    """Whether one item issued to the case is still in use, and working, at a review."""

    __tablename__ = "reviewed_items"

    review_id: Mapped[int] = mapped_column(ForeignKey("case_reviews.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)
    in_use: Mapped[bool] = mapped_column()
    working: Mapped[bool] = mapped_column()

    review: Mapped[CaseReview] = relationship(back_populates="items")

    @property
    def label(self) -> str:
        return ("In use" if self.in_use else "Not in use") + (", working" if self.working else ", not working")
