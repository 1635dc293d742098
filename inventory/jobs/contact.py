"""The survivor's address and phone, revealed to the fitter on a visit: only the assigned
fitter, only while the job is open, and every reveal is logged."""
from inventory.audit.operations import record_access
from inventory.cases.models import Case
from inventory.errors import NotAllowed
from inventory.jobs.lifecycle import JobClosed
from inventory.jobs.models import Job
from inventory.permissions import can_reveal_contact


def reveal_contact(job: Job, *, actor) -> Case:
    """The survivor's address and phone for the assigned fitter, on a deliberate tap; logged."""
    if not can_reveal_contact(actor, job):
        if job.fitter_id == actor.id and not job.is_open:
            raise JobClosed()
        raise NotAllowed("Only the fitter on this job sees the survivor's address, and only while it is open.")
    case = job.case
    visit = "Collection visit" if job.is_collection else "Fitting visit"
    record_access(actor, case_id=case.id, case_reference=case.reference, job_id=job.id, what="address and phone",
                  reason=f"{visit}, job {job.id}")
    return case
