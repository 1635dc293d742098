"""Reading the run history and the schedulers' heartbeats, and keeping them short."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, func, select

from inventory.extensions import db
from inventory.notices import JobOutcome
from inventory.scheduling.models import JobLease, JobRun, RunOutcome, SchedulerHeartbeat


def last_runs() -> dict[str, JobRun]:
    """Each job's latest run, by job name, in one query."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job_name)
    return {run.job_name: run for run in db.session.scalars(select(JobRun).where(JobRun.id.in_(latest)))}


def recent_runs(job_name: str | None = None) -> Select:
    """Runs, latest first (of one job, given its name): a query to paginate."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    return query if job_name is None else query.where(JobRun.job_name == job_name)


def leases_held(now: datetime) -> dict[str, JobLease]:
    """The jobs running now (their lease taken and not expired), by name."""
    return {lease.job_name: lease for lease in db.session.scalars(select(JobLease).where(JobLease.expires_at > now))}


@dataclass(frozen=True)
class SchedulerHealth:
    last_beat_at: datetime | None  # the latest heartbeat of any scheduler
    last_run_at: datetime | None  # when the latest run of any job finished
    schedulers: int  # schedulers that beat within the window (more than one: one too many)

    @property
    def healthy(self) -> bool:
        return self.schedulers > 0


def scheduler_health(now: datetime) -> SchedulerHealth:
    """Whether a scheduler has said it is alive within `SCHEDULER_HEARTBEAT_MAX_MINUTES`."""
    since = now - timedelta(minutes=current_app.config["SCHEDULER_HEARTBEAT_MAX_MINUTES"])
    last_beat_at, schedulers = db.session.execute(select(
        func.max(SchedulerHeartbeat.beat_at),
        func.count().filter(SchedulerHeartbeat.beat_at >= since))).one()
    last_run_at = db.session.scalar(select(func.max(JobRun.finished_at)))
    return SchedulerHealth(last_beat_at, last_run_at, schedulers)


def prune_job_runs(now: datetime) -> JobOutcome:
    """Housekeeping of the scheduler's own tables: runs older than `JOB_RUN_RETENTION_DAYS`,
    and the heartbeats of schedulers silent for a day (stopped without saying so)."""
    runs = db.session.execute(delete(JobRun).where(
        JobRun.started_at < now - timedelta(days=current_app.config["JOB_RUN_RETENTION_DAYS"]))).rowcount
    heartbeats = db.session.execute(delete(SchedulerHeartbeat).where(
        SchedulerHeartbeat.beat_at < now - timedelta(days=1))).rowcount
    return JobOutcome(counts={"runs_deleted": runs, "heartbeats_deleted": heartbeats})


def failed_runs(since: datetime, *, limit: int = 5) -> tuple[int, list[JobRun]]:
    """How many runs failed since `since` (one statement), and the latest `limit` failures of
    any age still in the history (one statement)."""
    count = db.session.scalar(select(func.count()).select_from(JobRun).where(
        JobRun.outcome == RunOutcome.FAILED, JobRun.started_at >= since))
    latest = db.session.scalars(select(JobRun).where(JobRun.outcome == RunOutcome.FAILED)
                                .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit))
    return count, list(latest)
