"""The run history of scheduled jobs, the leases that keep two schedulers from running the
same job at once, and each scheduler's heartbeat."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.database import UTCDateTime, one_of
from inventory.enums import LabelledEnum
from inventory.extensions import db

JOB_NAME_LENGTH = 80
HOLDER_LENGTH = 200


class RunOutcome(LabelledEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class JobRun(db.Model):
    """One run of a job: when, how it ended, what it counted. A scheduled run names the time
    its trigger was due (`scheduled_for`); a run asked for by hand has none. `detail` says
    why a run failed (the error's type and first line, never its parameters) or was skipped."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(one_of("outcome", RunOutcome), name="outcome_known"),
        CheckConstraint("finished_at >= started_at", name="finished_after_start"),
        CheckConstraint("(outcome = 'ok') = (detail IS NULL)", name="detail_unless_ok"),
        # A trigger's time is done at most once, even if two schedulers ran it.
        Index("uq_job_runs_done_once_per_trigger", "job_name", "scheduled_for", unique=True,
              sqlite_where=text("outcome = 'ok'"), postgresql_where=text("outcome = 'ok'")),
        Index("ix_job_runs_job_name_started_at", "job_name", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(JOB_NAME_LENGTH))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(8))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    requested_by = relationship("User")

    @property
    def outcome_label(self) -> str:
        return RunOutcome(self.outcome).label

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class JobLease(db.Model):
    """Who is running a job now, until when. Taken by inserting the row, or by taking over
    one whose holder let it expire (died mid-run); released by deleting it."""

    __tablename__ = "job_leases"
    __table_args__ = (CheckConstraint("expires_at > acquired_at", name="expires_after_acquired"),)

    job_name: Mapped[str] = mapped_column(String(JOB_NAME_LENGTH), primary_key=True)
    holder: Mapped[str] = mapped_column(String(HOLDER_LENGTH))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerHeartbeat(db.Model):
    """A running scheduler (host and process) and when it last said so: `/healthz` and the
    jobs page read them, so a dead scheduler, or a second one, can be seen."""

    __tablename__ = "scheduler_heartbeats"

    holder: Mapped[str] = mapped_column(String(HOLDER_LENGTH), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
