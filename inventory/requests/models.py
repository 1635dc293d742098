"""Requests for equipment, their lines, their history, comments and priority moves.

What people write here (why a request is needed, a decision's reason, notes on its history,
comments, why its priority moved) can say things about the survivor ("the perpetrator has a
key"), so it is sealed at rest like a case's personal data, each value bound to its row
(inventory.sealing: SealedText). None of it is searched or sorted in SQL."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType
from inventory.database import UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db
from inventory.sealing.columns import SealedText, seal_key_column


class RequestState(LabelledEnum):
    SUBMITTED = "submitted"
    INFO_REQUESTED = "info_requested", "Information requested"
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SCHEDULED = "scheduled"
    FULFILLED = "fulfilled"
    PARTLY_FULFILLED = "partly_fulfilled"
    CLOSED = "closed"


class DeclinedAs(LabelledEnum):
    """Why a rejected request was declined, as the referrer is told and the commissioner counts."""

    UNSUITABLE = "unsuitable", "Unsuitable"
    INELIGIBLE = "ineligible", "Ineligible"
    OTHER = "other", "Another reason"


# States a coordinator's decision leads to (and everything after it).
DECIDED_STATES = frozenset({RequestState.APPROVED, RequestState.PARTLY_APPROVED, RequestState.REJECTED,
                            RequestState.SCHEDULED, RequestState.FULFILLED, RequestState.PARTLY_FULFILLED,
                            RequestState.CLOSED})
# States in which the caseworker may still change what is asked for.
EDITABLE_STATES = frozenset({RequestState.SUBMITTED, RequestState.INFO_REQUESTED})

MAX_LINE_QUANTITY = 20  # more of one item for one household is a typo, not a need
MAX_TEXT = 2000


class EquipmentRequest(db.Model):
    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint(one_of("state", RequestState), name="state_known"),
        # Waiting: no decision yet. Decided: who and when are recorded. Withdrawn: either
        # (a caseworker may withdraw before or after the decision).
        CheckConstraint(
            f"({one_of('state', sorted(EDITABLE_STATES))} AND decided_at IS NULL AND decided_by_id IS NULL)"
            f" OR ({one_of('state', sorted(DECIDED_STATES))} AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL)"
            " OR state = 'withdrawn'",
            name="decision_recorded_when_decided",
        ),
        # Only a rejection is declined as something; older rejections may not say.
        CheckConstraint(f"declined_as IS NULL OR ({one_of('declined_as', DeclinedAs)} AND state = 'rejected')",
                        name="declined_as_only_when_rejected"),
        # The queue reads this backwards: ORDER BY priority_key DESC, id DESC.
        Index("ix_requests_queue", "state", "priority_key", "id"),
        Index("ix_requests_decided_at", "decided_at"),  # decisions in a period (the funder's return)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seal_key: Mapped[str] = seal_key_column()
    sealed_reason: Mapped[str] = mapped_column("reason", Text)
    reason = SealedText("sealed_reason")
    needed_by: Mapped[date | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=RequestState.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Days waiting count from the first submission, through any info_requested round trips.
    submitted_on: Mapped[date] = mapped_column()
    need_points: Mapped[int] = mapped_column()
    manual_adjustment: Mapped[int] = mapped_column(default=0)
    priority_key: Mapped[int] = mapped_column()
    decide_by: Mapped[date] = mapped_column()
    install_by: Mapped[date] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sealed_decision_reason: Mapped[str | None] = mapped_column("decision_reason", Text)
    decision_reason = SealedText("sealed_decision_reason")
    declined_as: Mapped[str | None] = mapped_column(String(12))

    case: Mapped[Case] = relationship()
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    lines: Mapped[list["RequestLine"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestLine.id")
    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="request", order_by="RequestEvent.id", viewonly=True)
    comments: Mapped[list["RequestComment"]] = relationship(
        back_populates="request", order_by="RequestComment.id", viewonly=True)
    adjustments: Mapped[list["PriorityAdjustment"]] = relationship(
        back_populates="request", order_by="PriorityAdjustment.id", viewonly=True)

    @property
    def declined_as_label(self) -> str | None:
        return DeclinedAs(self.declined_as).label if self.declined_as else None

    @property
    def state_enum(self) -> RequestState:
        return RequestState(self.state)

    @property
    def is_decided(self) -> bool:
        return self.state_enum in DECIDED_STATES

    @property
    def is_editable(self) -> bool:
        return self.state_enum in EDITABLE_STATES


class RequestLine(db.Model):
    __tablename__ = "request_lines"
    __table_args__ = (
        UniqueConstraint("request_id", "item_type_id"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_sensible"),
        CheckConstraint("approved_quantity IS NULL OR approved_quantity BETWEEN 0 AND quantity",
                        name="approved_within_asked"),
        CheckConstraint("reserved_quantity BETWEEN 0 AND COALESCE(approved_quantity, 0)",
                        name="reserved_within_approved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    item_type_id: Mapped[int] = mapped_column(ForeignKey("item_types.id"), index=True)
    quantity: Mapped[int] = mapped_column()
    approved_quantity: Mapped[int | None] = mapped_column()  # set by the approval
    # Units set aside from stock for this line, at approval or as goods arrive; the rest of
    # the approved quantity is awaiting stock.
    reserved_quantity: Mapped[int] = mapped_column(default=0)
    # The caseworker marked this line among the most urgent: when the budget cannot cover
    # the whole request, the part that fits funds urgent lines first.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())

    request: Mapped[EquipmentRequest] = relationship(back_populates="lines")
    item_type: Mapped[ItemType] = relationship(lazy="joined")

    @property
    def awaiting_quantity(self) -> int:
        return (self.approved_quantity or 0) - self.reserved_quantity


class RequestEvent(db.Model):
    """One transition in a request's life: who, when, from what to what, and why. Append-only."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    seal_key: Mapped[str] = seal_key_column()
    sealed_note: Mapped[str | None] = mapped_column("note", Text)
    note = SealedText("sealed_note")

    request: Mapped[EquipmentRequest] = relationship(back_populates="events")
    actor: Mapped[User] = relationship(lazy="joined")


class RequestComment(db.Model):
    __tablename__ = "request_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    seal_key: Mapped[str] = seal_key_column()
    sealed_body: Mapped[str] = mapped_column("body", Text)
    body = SealedText("sealed_body")

    request: Mapped[EquipmentRequest] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(lazy="joined")


class PriorityAdjustment(db.Model):
    """A coordinator moved a request up (points > 0) or down, with a written reason. Append-only."""

    __tablename__ = "priority_adjustments"
    __table_args__ = (CheckConstraint("points <> 0", name="points_nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    points: Mapped[int] = mapped_column()
    seal_key: Mapped[str] = seal_key_column()
    sealed_reason: Mapped[str] = mapped_column("reason", Text)
    reason = SealedText("sealed_reason")

    request: Mapped[EquipmentRequest] = relationship(back_populates="adjustments")
    actor: Mapped[User] = relationship(lazy="joined")
