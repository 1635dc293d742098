"""A job's states as data: a visit is scheduled until it is completed, and only an open
visit can be worked on (items scanned, a checklist ticked) or completed. Completing it
records who closed it and when, on the job itself.
"""
from enum import StrEnum

from inventory.errors import Conflict, NotAllowed
from inventory.extensions import db
from inventory.jobs.models import Job, JobStatus
from inventory.permissions import can_work_on_job
from inventory.states import Change, StateMachine, Transition


class JobAction(StrEnum):
    WORK = "worked on"  # scan items, tick a checklist: the job stays as it is
    COMPLETE = "completed"


class JobClosed(Conflict):
    code = "job_closed"

    def __init__(self, message: str = "This job is already completed.", **kwargs):
        super().__init__(message, **kwargs)


def _record(change: Change) -> Change:
    if change.action is JobAction.COMPLETE:
        job = change.record
        job.completed_at, job.completed_by_id = change.at, change.actor.id
        db.session.flush()
    return change


OPEN = frozenset({JobStatus.SCHEDULED})

JOB_MACHINE = StateMachine("job", {
    JobAction.WORK: Transition(OPEN),
    JobAction.COMPLETE: Transition(OPEN, JobStatus.COMPLETED),
}, refusal=JobClosed, describe_refusal=lambda job, action: JobClosed().message, recorder=_record,
    state_attribute="status")


def refuse_unless_workable(job: Job, actor) -> None:
    """Working on a job (scanning for it, ticking its checklist, closing it) needs the job
    open (else JobClosed) and the user its fitter or a coordinator."""
    JOB_MACHINE.apply(job, JobAction.WORK, actor=actor)
    if not can_work_on_job(actor, job):
        raise NotAllowed("Only the fitter on this job (or a coordinator) can do that.")
