"""Jobs: the visits a fitter makes (fitter, date, window) and what happened to each item on
them, and the items that came back from cases.

An install visit hands over a request's reserved items. Which items it expects is not
stored: they are the units reserved for its request (`Item.reserved_for_request_id`). What
it did with each unit is a JobItem.

A collection visit takes items back from a case (a loan due back, a faulty unit). The
coordinator chooses the items when booking it: each is a CollectionItem, which records
whether it came back or, if not, why.
"""
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.models import Case
from inventory.database import Pence, UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db
from inventory.requests.models import EquipmentRequest
from inventory.stock.models import Item


class JobKind(LabelledEnum):
    INSTALL = "install"
    COLLECTION = "collection"


class JobStatus(LabelledEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"


class NotIssuedReason(LabelledEnum):
    NOT_HOME = "not_home", "Survivor not home"
    DECLINED = "declined"
    FAULTY = "faulty"
    WRONG_ITEM = "wrong_item"


class Outcome(StrEnum):
    ISSUED = "issued"
    NOT_ISSUED = "not_issued"


# The handover checklist for a connected device (DESIGN.md), in the order it is done.
CHECKLIST = (
    ("account_in_own_name", "The account is in the survivor's own name"),
    ("default_passwords_changed", "Default passwords are changed"),
    ("shared_users_removed", "Shared users are removed"),
    ("two_factor_enabled", "Two-factor sign-in is set up"),
    ("survivor_shown_how", "The survivor has been shown how to use it"),
)
CHECKLIST_KEYS = tuple(key for key, _ in CHECKLIST)


class CheckAnswer(LabelledEnum):
    """How a point of the widened handover was settled: done, or not applicable to this
    survivor's devices (say a camera with no microphone). Unanswered is NULL."""

    DONE = "done"
    NOT_APPLICABLE = "not_applicable"


class CheckStage(LabelledEnum):
    BEFORE_ISSUE = "before_issue", "Before handing over a connected device"
    AT_INSTALL = "at_install", "At install: privacy advice for the camera"


@dataclass(frozen=True)
class HandoverCheck:
    key: str  # its column on the job
    stage: CheckStage
    label: str
    why: str  # one sentence for the fitter on the doorstep


# The widened handover of a job with a connected device, from published guidance for schemes
# that give survivors connected cameras (docs/domain.md): before the first one is handed over,
# then at install the privacy advice the ICO gives for domestic cameras. Stored per job, one
# column each: done, not applicable, or NULL (not answered yet).
HANDOVER_CHECKS = (
    HandoverCheck("phone_only_theirs", CheckStage.BEFORE_ISSUE,
                  "The survivor has a phone that only they control",
                  "The camera's app and alerts go to that phone: one the stalker can reach would show them the home."),
    HandoverCheck("safety_plan_current", CheckStage.BEFORE_ISSUE,
                  "A current risk assessment and safety plan are in place",
                  "A camera can change the risk (found, or provoking); the plan says how it fits in."),
    HandoverCheck("films_within_boundary", CheckStage.AT_INSTALL,
                  "The camera films nothing beyond the property boundary that can be avoided",
                  "Filming a neighbour's home or the street brings data protection duties: angle it, or mask it."),
    HandoverCheck("audio_recording_off", CheckStage.AT_INSTALL,
                  "Audio recording is turned off",
                  "Sound carries past the boundary and is more intrusive than pictures; it is rarely justified."),
    HandoverCheck("recording_signs_up", CheckStage.AT_INSTALL,
                  "Signs say that recording is taking place",
                  "People who are filmed must be told; a sign also deters."),
    HandoverCheck("footage_deleted_regularly", CheckStage.AT_INSTALL,
                  "The survivor knows to delete footage regularly, keeping only evidence",
                  "Footage kept longer than needed is a risk; evidence of an incident is saved apart."),
    HandoverCheck("footage_requests_explained", CheckStage.AT_INSTALL,
                  "The survivor knows how to answer a neighbour's request for their footage",
                  "Anyone filmed may ask for a copy (a subject access request), answered within a month."),
)
HANDOVER_CHECK_KEYS = tuple(check.key for check in HANDOVER_CHECKS)
CHECKS_BEFORE_ISSUE = tuple(check for check in HANDOVER_CHECKS if check.stage is CheckStage.BEFORE_ISSUE)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(one_of("status", JobStatus), name="status_known"),
        CheckConstraint(one_of("kind", JobKind), name="kind_known"),
        # An install hands over a request's items; a collection belongs to a case alone.
        CheckConstraint("(kind = 'install') = (request_id IS NOT NULL)", name="install_iff_request"),
        CheckConstraint("window_starts < window_ends", name="window_in_order"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL AND completed_by_id IS NOT NULL)",
                        name="completed_iff_recorded"),
        # One open visit per request at a time.
        Index("uq_jobs_one_open_per_request", "request_id", unique=True,
              sqlite_where=text("status = 'scheduled'"), postgresql_where=text("status = 'scheduled'")),
        # One open collection per case at a time: a second booking is a mistake.
        Index("uq_jobs_one_open_collection_per_case", "case_id", unique=True,
              sqlite_where=text("status = 'scheduled' AND kind = 'collection'"),
              postgresql_where=text("status = 'scheduled' AND kind = 'collection'")),
        Index("ix_jobs_fitter_day", "fitter_id", "scheduled_for", "id"),
        # My jobs, in the order each tab lists them, so a page reads only its own rows.
        Index("ix_jobs_fitter_open", "fitter_id", "scheduled_for", "window_starts", "id",
              sqlite_where=text("status = 'scheduled'"), postgresql_where=text("status = 'scheduled'")),
        Index("ix_jobs_fitter_done", "fitter_id", "completed_at", "id",
              sqlite_where=text("status = 'completed'"), postgresql_where=text("status = 'completed'")),
        *(CheckConstraint(f"{key} IS NULL OR {one_of(key, CheckAnswer)}", name=f"{key}_known")
          for key in HANDOVER_CHECK_KEYS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default=JobKind.INSTALL)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    fitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scheduled_for: Mapped[date] = mapped_column()
    window_starts: Mapped[time] = mapped_column()
    window_ends: Mapped[time] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.SCHEDULED)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The widened handover (HANDOVER_CHECKS): a CheckAnswer each, NULL until answered.
    phone_only_theirs: Mapped[str | None] = mapped_column(String(16))
    safety_plan_current: Mapped[str | None] = mapped_column(String(16))
    films_within_boundary: Mapped[str | None] = mapped_column(String(16))
    audio_recording_off: Mapped[str | None] = mapped_column(String(16))
    recording_signs_up: Mapped[str | None] = mapped_column(String(16))
    footage_deleted_regularly: Mapped[str | None] = mapped_column(String(16))
    footage_requests_explained: Mapped[str | None] = mapped_column(String(16))

    case: Mapped[Case] = relationship()
    request: Mapped[EquipmentRequest | None] = relationship()
    fitter: Mapped[User] = relationship(foreign_keys=[fitter_id])
    items: Mapped[list["JobItem"]] = relationship(back_populates="job", order_by="JobItem.id", viewonly=True)

    @property
    def is_open(self) -> bool:
        return self.status == JobStatus.SCHEDULED

    @property
    def is_collection(self) -> bool:
        return self.kind == JobKind.COLLECTION

    @property
    def kind_label(self) -> str:
        return JobKind(self.kind).label

    def answer(self, check: HandoverCheck) -> CheckAnswer | None:
        value = getattr(self, check.key)
        return CheckAnswer(value) if value else None

    def unanswered(self, checks=HANDOVER_CHECKS) -> list[HandoverCheck]:
        return [check for check in checks if getattr(self, check.key) is None]

    @property
    def status_label(self) -> str:
        return JobStatus(self.status).label


class JobItem(db.Model):
    """What a job did with one unit: issued it (loaned or gifted, with its dates and, for a
    connected device, the handover checklist) or did not, and why."""

    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "item_id"),
        CheckConstraint(one_of("outcome", Outcome), name="outcome_known"),
        CheckConstraint(f"reason IS NULL OR {one_of('reason', NotIssuedReason)}", name="reason_known"),
        CheckConstraint("(outcome = 'not_issued') = (reason IS NOT NULL)", name="not_issued_has_reason"),
        CheckConstraint("(outcome = 'issued') = (first_review_on IS NOT NULL AND second_review_on IS NOT NULL)",
                        name="issued_has_reviews"),
        CheckConstraint("return_due_on IS NULL OR (outcome = 'issued' AND loaned)", name="only_loans_come_back"),
        CheckConstraint("checklist_done_at IS NULL OR (" + " AND ".join(CHECKLIST_KEYS) + ")",
                        name="checklist_done_means_all_ticked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(12))
    loaned: Mapped[bool] = mapped_column(default=False)
    return_due_on: Mapped[date | None] = mapped_column(index=True)
    first_review_on: Mapped[date | None] = mapped_column()
    second_review_on: Mapped[date | None] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    account_in_own_name: Mapped[bool] = mapped_column(default=False)
    default_passwords_changed: Mapped[bool] = mapped_column(default=False)
    shared_users_removed: Mapped[bool] = mapped_column(default=False)
    two_factor_enabled: Mapped[bool] = mapped_column(default=False)
    survivor_shown_how: Mapped[bool] = mapped_column(default=False)
    checklist_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()

    @property
    def needs_checklist(self) -> bool:
        return self.outcome == Outcome.ISSUED and self.item.item_type.connected_device

    @property
    def reason_label(self) -> str | None:
        return NotIssuedReason(self.reason).label if self.reason else None


class ReturnCondition(LabelledEnum):
    """How an item came back, as the person holding it judges."""

    GOOD = "good"
    NEEDS_WIPE = "needs_wipe", "Needs a wipe"
    FAULTY = "faulty"
    DAMAGED = "damaged"
    LOST = "lost", "Lost / not recovered"


class ItemReturn(db.Model):
    """An item back from a case (or not recovered), and the value put back into stock for
    re-issue (for reporting the money that re-use saves)."""

    __tablename__ = "item_returns"
    __table_args__ = (
        CheckConstraint(one_of("condition", ReturnCondition), name="condition_known"),
        CheckConstraint("value_reused_pence >= 0", name="value_not_negative"),
        CheckConstraint("value_reused_pence = 0 OR condition = 'good'", name="only_good_items_reused"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    condition: Mapped[str] = mapped_column(String(12))
    value_reused_pence: Mapped[int] = mapped_column(Pence, default=0)
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship()


class NotCollectedReason(LabelledEnum):
    NOT_HOME = "not_home", "Survivor not home"
    DECLINED = "declined", "Survivor still needs it"
    LOST = "lost", "Lost / not recovered"


class CollectionOutcome(StrEnum):
    COLLECTED = "collected"
    NOT_COLLECTED = "not_collected"


class CollectionItem(db.Model):
    """One item a collection visit is booked to take back, and what became of it: collected
    (scanned back in on the visit) or not, and why. Pending while `outcome` is empty."""

    __tablename__ = "collection_items"
    __table_args__ = (
        UniqueConstraint("job_id", "item_id"),
        CheckConstraint(f"outcome IS NULL OR {one_of('outcome', CollectionOutcome)}", name="outcome_known"),
        CheckConstraint(f"reason IS NULL OR {one_of('reason', NotCollectedReason)}", name="reason_known"),
        CheckConstraint("(COALESCE(outcome, '') = 'not_collected') = (reason IS NOT NULL)",
                        name="not_collected_has_reason"),
        CheckConstraint("(outcome IS NULL AND recorded_at IS NULL AND recorded_by_id IS NULL) OR "
                        "(outcome IS NOT NULL AND recorded_at IS NOT NULL AND recorded_by_id IS NOT NULL)",
                        name="outcome_recorded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(14))
    reason: Mapped[str | None] = mapped_column(String(12))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship()

    @property
    def reason_label(self) -> str | None:
        return NotCollectedReason(self.reason).label if self.reason else None
