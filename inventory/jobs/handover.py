"""The widened handover of a job with a connected device (HANDOVER_CHECKS): which points
a visit still has to answer, and recording the fitter's answers.

Before the first connected device on a visit is handed over, the fitter answers the
checks before issue (a phone only the survivor controls; a current risk assessment and
safety plan): they are asked at the visit rather than when the request is approved,
because the fitter is the one with the survivor, and whether the phone is still theirs
alone is a fact of that day. At install come the privacy points for a domestic camera.
Each point is done or not applicable; answers may be given a few at a time. The job
cannot be completed while a connected device was handed over on it and a point is
unanswered (completion.py); a connected device is not issued while a check before issue
is unanswered (issuing.issuable_on).

Functions flush and never commit.
"""
from collections.abc import Mapping

from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.jobs.lifecycle import refuse_unless_workable
from inventory.jobs.models import HANDOVER_CHECK_KEYS, HANDOVER_CHECKS, CheckAnswer, HandoverCheck, Job
from inventory.jobs.queries import JobView, get_job, job_view


def involves_connected_device(view: JobView) -> bool:
    """Does this install hand over (or expect to) a connected device?"""
    if view.job.is_collection:
        return False
    return (any(item.item_type.connected_device for item in view.expected)
            or any(row.needs_checklist for row in view.issued))


def checks_due_to_complete(view: JobView) -> list[HandoverCheck]:
    """The points still unanswered that stop the job being completed: every one, once a
    connected device has been handed over on it; none otherwise."""
    if not any(row.needs_checklist for row in view.issued):
        return []
    return view.job.unanswered(HANDOVER_CHECKS)


def record_handover_checks(job_id: int, answers: Mapping[str, CheckAnswer], *, actor) -> Job:
    """Write the fitter's answers (`answers`: point key -> done or not applicable) on the
    job; points not given keep what they had."""
    job = get_job(actor, job_id, for_update=True)
    refuse_unless_workable(job, actor)
    if not involves_connected_device(job_view(job)):
        raise Conflict("Nothing on this job is a connected device, so these checks are not needed.",
                       code="no_connected_device")
    wrong = {key: "Not a point of the handover." for key in answers if key not in HANDOVER_CHECK_KEYS}
    wrong.update({key: "Choose Done or Not applicable." for key, answer in answers.items()
                  if key not in wrong and answer not in set(CheckAnswer)})
    if wrong:
        raise InvalidInput("Each answer is Done or Not applicable, to a point of the handover.", fields=wrong)
    if not answers:
        raise InvalidInput("Choose Done or Not applicable for at least one point, then save.",
                           code="nothing_answered")
    for key, answer in answers.items():
        setattr(job, key, str(CheckAnswer(answer)))
    db.session.flush()
    return job
