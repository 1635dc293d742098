"""The widened handover without HTTP: the checks before issue stop a connected device being
handed over, every point stops the job closing once one was, answers come a few at a time,
and every bad answer is refused with nothing written."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inventory.errors import Conflict, InvalidInput, NotFound
from inventory.extensions import db
from inventory.jobs.completion import Completion, NotDone, complete_job
from inventory.jobs.handover import record_handover_checks
from inventory.jobs.issuing import record_checklist
from inventory.jobs.models import (
    CHECKLIST_KEYS,
    CHECKS_BEFORE_ISSUE,
    HANDOVER_CHECK_KEYS,
    HANDOVER_CHECKS,
    Job,
    JobItem,
    JobStatus,
    NotIssuedReason,
)
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.stock.models import Item, ItemState

AT_INSTALL = [check for check in HANDOVER_CHECKS if check not in CHECKS_BEFORE_ISSUE]


def camera_job(build, *, with_alarm=False):
    fitter = build.user(roles=["fitter"])
    lines = [(build.item_type(name="Camera", connected_device=True, category="cctv_camera"), 1)]
    if with_alarm:
        lines.append((build.item_type(name="Personal alarm"), 1))
    job = build.job(fitter=fitter, lines=lines)
    units = {unit.item_type.connected_device: unit for unit in db.session.scalars(
        select(Item).where(Item.reserved_for_request_id == job.request_id))}
    return job, units[True], units.get(False), fitter


def issue(job, unit, fitter):
    result = scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=fitter)
    db.session.commit()
    return result


def answer(job, fitter, checks, value="done"):
    record_handover_checks(job.id, {check.key: value for check in checks}, actor=fitter)
    db.session.commit()


def test_a_connected_device_is_not_handed_over_until_both_checks_before_issue_are_answered(build):
    job, camera, _, fitter = camera_job(build)
    answer(job, fitter, CHECKS_BEFORE_ISSUE[:1])
    with pytest.raises(Conflict) as refused:
        issue(job, camera, fitter)
    assert refused.value.code == "checks_before_issue"
    assert "A current risk assessment and safety plan are in place" in refused.value.message
    assert "phone that only they control" not in refused.value.message  # answered already
    db.session.rollback()
    assert db.session.get(Item, camera.id).state == ItemState.RESERVED
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 0
    answer(job, fitter, CHECKS_BEFORE_ISSUE[1:], "not_applicable")
    assert issue(job, camera, fitter).result == "issued"


def test_other_items_are_handed_over_without_the_checks(build):
    job, _, alarm, fitter = camera_job(build, with_alarm=True)
    assert issue(job, alarm, fitter).result == "issued"


def test_once_a_connected_device_is_handed_over_the_job_closes_only_with_every_point_answered(build):
    job, camera, _, fitter = camera_job(build)
    answer(job, fitter, CHECKS_BEFORE_ISSUE)
    issue(job, camera, fitter)
    record_checklist(job.id, db.session.scalar(select(JobItem.id)), CHECKLIST_KEYS, actor=fitter)
    answer(job, fitter, AT_INSTALL[:2], "not_applicable")
    with pytest.raises(Conflict) as refused:
        complete_job(job.id, Completion(), actor=fitter)
    assert refused.value.code == "handover_checks_incomplete"
    assert refused.value.details == {"missing": [check.key for check in AT_INSTALL[2:]]}
    assert all(check.label in refused.value.message for check in AT_INSTALL[2:])
    db.session.rollback()
    assert db.session.get(Job, job.id).status == JobStatus.SCHEDULED
    answer(job, fitter, AT_INSTALL[2:])
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.COMPLETED
    assert [job.answer(check) for check in HANDOVER_CHECKS] == ["done"] * 2 + ["not_applicable"] * 2 + ["done"] * 3


def test_a_visit_that_handed_no_connected_device_over_closes_without_the_points(build):
    job, camera, alarm, fitter = camera_job(build, with_alarm=True)
    issue(job, alarm, fitter)
    complete_job(job.id, Completion(not_issued=(NotDone(camera.id, NotIssuedReason.NOT_HOME),)), actor=fitter)
    db.session.commit()
    assert db.session.get(Job, job.id).status == JobStatus.COMPLETED


def test_answers_come_a_few_at_a_time_and_may_be_changed_while_the_job_is_open(build):
    job, _, _, fitter = camera_job(build)
    answer(job, fitter, HANDOVER_CHECKS[:1])
    answer(job, fitter, HANDOVER_CHECKS[3:4], "not_applicable")
    job = db.session.get(Job, job.id)
    assert [check.key for check in job.unanswered()] == [HANDOVER_CHECK_KEYS[i] for i in (1, 2, 4, 5, 6)]
    answer(job, fitter, HANDOVER_CHECKS[:1], "not_applicable")
    assert db.session.get(Job, job.id).phone_only_theirs == "not_applicable"


@pytest.mark.parametrize(("answers", "fields"), [
    ({"phone_only_theirs": "maybe"}, {"phone_only_theirs": "Choose Done or Not applicable."}),
    ({"wifi_password": "done"}, {"wifi_password": "Not a point of the handover."}),
    ({"phone_only_theirs": "done", "audio_recording_off": ""},
     {"audio_recording_off": "Choose Done or Not applicable."}),
])
def test_a_bad_answer_is_refused_at_its_point_and_nothing_is_written(build, answers, fields):
    job, _, _, fitter = camera_job(build)
    with pytest.raises(InvalidInput) as refused:
        record_handover_checks(job.id, answers, actor=fitter)
    assert refused.value.fields == fields
    db.session.rollback()
    assert db.session.get(Job, job.id).unanswered() == list(HANDOVER_CHECKS)


def test_saving_no_answer_at_all_is_refused_with_a_message(build):
    job, _, _, fitter = camera_job(build)
    with pytest.raises(InvalidInput) as refused:
        record_handover_checks(job.id, {}, actor=fitter)
    assert refused.value.code == "nothing_answered"


def test_a_job_with_nothing_connected_has_no_points_to_answer(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    with pytest.raises(Conflict) as refused:
        record_handover_checks(job.id, {"phone_only_theirs": "done"}, actor=fitter)
    assert refused.value.code == "no_connected_device"


def test_only_the_fitter_of_an_open_job_answers_for_it(build):
    job, camera, _, fitter = camera_job(build)
    with pytest.raises(NotFound):
        record_handover_checks(job.id, {"phone_only_theirs": "done"}, actor=build.user(roles=["fitter"]))
    db.session.rollback()
    answer(job, fitter, CHECKS_BEFORE_ISSUE)
    complete_job(job.id, Completion(not_issued=(NotDone(camera.id, NotIssuedReason.DECLINED),)), actor=fitter)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        record_handover_checks(job.id, {"audio_recording_off": "done"}, actor=fitter)
    assert refused.value.code == "job_closed"


def test_the_database_refuses_an_answer_that_is_neither(build):
    job, _, _, _ = camera_job(build)
    db.session.get(Job, job.id).recording_signs_up = "yes"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_subject_access_export_carries_the_answers_of_each_visit(build):
    from inventory.privacy.subject_access import subject_access_export

    job, _, _, fitter = camera_job(build)
    answer(job, fitter, CHECKS_BEFORE_ISSUE)
    answer(job, fitter, AT_INSTALL[1:2], "not_applicable")
    (visit,) = subject_access_export(db.session.get(Job, job.id).case)["visits"]
    assert visit["handover_checks"] == {"phone_only_theirs": "done", "safety_plan_current": "done",
                                        "films_within_boundary": None, "audio_recording_off": "not_applicable",
                                        "recording_signs_up": None, "footage_deleted_regularly": None,
                                        "footage_requests_explained": None}
