"""Running a scheduled job: its own unit of work, outside any web request.

`run_job` is the one way a job runs (the scheduler, "Run now", `flask run-job`, tests):
1. it takes the job's lease in a transaction of its own (one statement: insert the lease,
   or take over one whose holder let it expire), so a second scheduler finds it held and
   records its run as skipped;
2. a run for a trigger's time that is already recorded as done is skipped (and the database
   refuses a second "ok" for the same time, should two runs ever overlap);
3. the job runs as of `now`; its changes, its "ok" record and what the `job_finished`
   receivers do with its notices commit together; a job that raises is rolled back and
   recorded as failed, and the caller carries on;
4. the lease is released in the same transaction as the record.

Like the `flask` commands, this module commits for itself (tests/unit/test_commit_boundary.py).
"""
import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError

from inventory.database import intent_to_write
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.scheduling.models import JobLease, JobRun, RunOutcome, SchedulerHeartbeat
from inventory.scheduling.registry import ScheduledJob

log = logging.getLogger(__name__)

job_finished = Hook("job_finished", """A job ran: (job, outcome, now), in the run's transaction,
before its record. The notification centre delivers the outcome's notices and closes those of
the job's kinds it no longer returns; a receiver may return counts to add to the run's.""")

DETAIL_LENGTH = 500
ALREADY_DONE = "Already done for this scheduled time."
IN_PROGRESS = "Another run of this job was in progress."


def holder_name() -> str:
    """This host and process, and a tag of this run (two threads never share a lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_job(job: ScheduledJob, now: datetime, *, scheduled_for: datetime | None = None,
            requested_by=None) -> JobRun:
    """Run `job` as of `now` under its lease, record the run and commit it. `scheduled_for`
    is the trigger's time the run is for (None for a run asked for by hand)."""
    holder, began = holder_name(), time.monotonic()

    def record(outcome: RunOutcome, *, counts: dict | None = None, detail: str | None = None) -> JobRun:
        run = JobRun(job_name=job.name, scheduled_for=scheduled_for, started_at=now,
                     finished_at=now + timedelta(seconds=time.monotonic() - began), outcome=outcome,
                     counts=counts or {}, detail=detail, requested_by=requested_by)
        db.session.add(run)
        return run

    with intent_to_write():  # on SQLite, every transaction here takes the write lock at BEGIN
        if not _take_lease(job.name, holder, now):
            run = record(RunOutcome.SKIPPED, detail=IN_PROGRESS)
        else:
            try:
                run = _run_under_lease(job, now, scheduled_for, record)
            except Exception as error:  # any failure of the job is its run's outcome, not the caller's
                db.session.rollback()
                run = record(RunOutcome.FAILED, detail=describe_error(error))
            _release_lease(job.name, holder)
        outcome, said = run.outcome, run.detail or run.counts
        db.session.commit()
    if outcome == RunOutcome.FAILED:
        log.error("job %s failed: %s", job.name, said)
    else:
        log.info("job %s %s: %s", job.name, outcome, said)
    return run


def _run_under_lease(job: ScheduledJob, now: datetime, scheduled_for: datetime | None, record) -> JobRun:
    if scheduled_for is not None and _done_for(job.name, scheduled_for):
        return record(RunOutcome.SKIPPED, detail=ALREADY_DONE)
    outcome = job.function(now)
    db.session.flush()  # the job's own refusals surface here, as its failure
    counts = dict(outcome.counts)
    for more in job_finished.fire(job, outcome, now):  # e.g. how many notifications it made
        counts.update(more or {})
    run = record(RunOutcome.OK, counts=counts)
    try:
        db.session.flush()
    except IntegrityError:  # a run for the same time was recorded meanwhile: its work stands, not ours
        db.session.rollback()
        return record(RunOutcome.SKIPPED, detail=ALREADY_DONE)
    return run


def _done_for(job_name: str, scheduled_for: datetime) -> bool:
    return db.session.scalar(select(exists().where(
        JobRun.job_name == job_name, JobRun.scheduled_for == scheduled_for, JobRun.outcome == RunOutcome.OK)))


def describe_error(error: BaseException) -> str:
    """The error's type and the first line of its message, shortened. A database error is
    described by the driver's own error without the statement, its parameters or its DETAIL
    line, which quote row values (the run history and the log never hold personal data)."""
    if isinstance(error, StatementError) and error.orig is not None:
        error = error.orig
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text[:DETAIL_LENGTH]


def _upsert(model, values: dict, *, key: str, update: tuple[str, ...], where=None):
    """INSERT ... ON CONFLICT (key) DO UPDATE [WHERE ...] RETURNING key: one statement on
    SQLite and PostgreSQL alike; returns the key if a row was written."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={name: statement.excluded[name] for name in update}, where=where)
    return db.session.execute(statement.returning(getattr(model, key))).scalar()


def _take_lease(job_name: str, holder: str, now: datetime) -> bool:
    """Take the job's lease, or one whose holder let it expire, and commit at once."""
    expires_at = now + timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    taken = _upsert(JobLease, dict(job_name=job_name, holder=holder, acquired_at=now, expires_at=expires_at),
                    key="job_name", update=("holder", "acquired_at", "expires_at"),
                    where=JobLease.expires_at <= now) is not None
    db.session.commit()
    return taken


def _release_lease(job_name: str, holder: str) -> None:
    db.session.execute(delete(JobLease).where(JobLease.job_name == job_name, JobLease.holder == holder))


def beat(holder: str, started_at: datetime, now: datetime) -> None:
    """The scheduler `holder` is alive at `now` (for /healthz and the jobs page)."""
    with intent_to_write():
        _upsert(SchedulerHeartbeat, dict(holder=holder, started_at=started_at, beat_at=now), key="holder",
                update=("beat_at",))
        db.session.commit()


def stop_beating(holder: str) -> None:
    """A scheduler that stops cleanly says so: only a dead one leaves its heartbeat behind."""
    with intent_to_write():
        db.session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.holder == holder))
        db.session.commit()
