"""The widened handover through the test client: the job page asks each point with its why,
answers save a few at a time (post-redirect-get), bad input is refused at the point with
nothing written, completing names the points missing, and a finished job shows the answers."""
import pytest
from markupsafe import escape
from sqlalchemy import select

from inventory.extensions import db
from inventory.jobs.completion import Completion, complete_job
from inventory.jobs.models import CHECKLIST_KEYS, CHECKS_BEFORE_ISSUE, HANDOVER_CHECKS, Job, JobItem
from inventory.jobs.issuing import record_checklist
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.stock.models import Item

AT_INSTALL = [check for check in HANDOVER_CHECKS if check not in CHECKS_BEFORE_ISSUE]


def camera_job(build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter, lines=[(build.item_type(name="Camera", connected_device=True,
                                                            category="cctv_camera"), 1)])
    return job, fitter


def handed_over(build, job, fitter):
    build.handover_checks(job, fitter, CHECKS_BEFORE_ISSUE)
    camera = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    scan(ScanInput(ScanAction.ISSUE, camera.code, job_id=job.id), actor=fitter)
    record_checklist(job.id, db.session.scalar(select(JobItem.id)), CHECKLIST_KEYS, actor=fitter)
    db.session.commit()


def test_the_fitter_is_asked_each_point_with_why_before_the_scan_button_and_at_install(client, login, build):
    job, fitter = camera_job(build)
    login(fitter)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    before, scan_button, at_install = (page.index('id="handover"'), page.index("Scan items to hand over"),
                                       page.index('id="handover-install"'))
    assert before < scan_button < at_install
    for check in HANDOVER_CHECKS:
        assert escape(check.label) in page and escape(f"Why: {check.why}") in page
        assert f'name="h-{check.key}" type="radio" value="done"' in page
        assert f'name="h-{check.key}" type="radio" value="not_applicable"' in page
    assert "Not applicable" in page


def test_a_job_with_nothing_connected_asks_nothing(client, login, build):
    fitter = build.user(roles=["fitter"])
    job = build.job(fitter=fitter)
    login(fitter)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'id="handover"' not in page and "Why:" not in page
    refused = client.post(f"/jobs/{job.id}/handover", data={"h-phone_only_theirs": "done"}, follow_redirects=True)
    assert refused.status_code == 200 and "Nothing on this job is a connected device" in refused.get_data(as_text=True)


def test_answers_save_a_few_at_a_time_and_show_checked_when_back_on_the_job(client, login, build):
    job, fitter = camera_job(build)
    login(fitter)
    first = client.post(f"/jobs/{job.id}/handover", data={"h-phone_only_theirs": "done",
                                                          "h-safety_plan_current": "not_applicable"})
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/jobs/{job.id}#handover")
    second = client.post(f"/jobs/{job.id}/handover", data={"h-audio_recording_off": "done"})
    assert second.headers["Location"].endswith("#handover-install")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Handover answers saved. 4 still to answer." in page
    assert '<input checked id="h-phone_only_theirs-0" name="h-phone_only_theirs" type="radio" value="done">' in page
    assert '<input checked id="h-safety_plan_current-1"' in page
    assert '<input checked id="h-recording_signs_up' not in page
    job = db.session.get(Job, job.id)
    assert (job.phone_only_theirs, job.safety_plan_current, job.audio_recording_off) == (
        "done", "not_applicable", "done")


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose Done or Not applicable for at least one point, then save."),
    ({"h-phone_only_theirs": "maybe"}, "Not a valid choice"),
    ({"h-phone_only_theirs": "done", "h-audio_recording_off": "yes"}, "Not a valid choice"),
])
def test_bad_answers_are_refused_on_the_page_and_nothing_is_written(client, login, build, data, message):
    job, fitter = camera_job(build)
    login(fitter)
    response = client.post(f"/jobs/{job.id}/handover", data=data)
    assert response.status_code == 302 and response.location.startswith(f"/jobs/{job.id}#handover")
    assert message in client.get(f"/jobs/{job.id}").get_data(as_text=True)  # shown once, on the job page
    assert db.session.get(Job, job.id).unanswered() == list(HANDOVER_CHECKS)


def test_completing_names_every_point_still_unanswered_and_changes_nothing(client, login, build):
    job, fitter = camera_job(build)
    handed_over(build, job, fitter)
    login(fitter)
    response = client.post(f"/jobs/{job.id}/complete", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Answer every point of the handover first" in page
    message = page[page.index("Answer every point"):]
    message = message[:message.index("</")]
    assert all(escape(check.label) in message for check in AT_INSTALL)
    assert not any(escape(check.label) in message for check in CHECKS_BEFORE_ISSUE)
    assert db.session.get(Job, job.id).status == "scheduled"


def test_a_finished_job_shows_the_answers_given(client, login, build):
    job, fitter = camera_job(build)
    handed_over(build, job, fitter)
    build.handover_checks(job, fitter, AT_INSTALL[:1], "not_applicable")
    build.handover_checks(job, fitter, AT_INSTALL[1:])
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    login(roles=["coordinator"])
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Handover checks" in page and 'name="h-' not in page
    assert f"<dt>{escape(AT_INSTALL[0].label)}</dt><dd>Not applicable</dd>" in page
    assert page.count("<dd>Done</dd>") == 6
