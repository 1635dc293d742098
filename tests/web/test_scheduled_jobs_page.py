"""The jobs page (admins): schedule, next run, last result, recent runs, and "Run now";
/healthz reports the scheduler's heartbeat."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.scheduling.models import JobLease, JobRun
from inventory.scheduling.runner import beat


def test_the_jobs_page_lists_each_job_with_its_schedule_next_run_and_last_result(client, login):
    admin = login()
    with clock.frozen_at(datetime(2027, 3, 10, 12, 0, tzinfo=UTC)):
        login(admin)  # months on, the session has long timed out
        client.post("/admin/jobs/prune_job_runs/run")
        page = client.get("/admin/jobs").get_data(as_text=True)
    assert "prune_job_runs" in page and "Every day at 03:40" in page
    assert "11 Mar 2027 03:40" in page  # the next run, in UK time
    assert "Ok, 10 Mar 2027 12:00" in page and "runs deleted: 0" in page
    assert "No scheduler has reported" in page


def test_run_now_runs_the_job_records_who_asked_and_says_what_it_did(client, login):
    admin = login()
    response = client.post("/admin/jobs/prune_job_runs/run")
    assert response.status_code == 302 and response.location.endswith("/admin/jobs")
    (run,) = db.session.scalars(select(JobRun)).all()
    assert (run.outcome, run.requested_by_id, run.scheduled_for) == ("ok", admin.id, None)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "prune_job_runs ran: runs deleted 0, heartbeats deleted 0." in page
    assert f"Run now by {admin.name}" in page


def test_run_now_while_the_job_is_running_says_so_and_does_not_start_it_again(client, login):
    login()
    now = clock.now()
    db.session.add(JobLease(job_name="prune_job_runs", holder="scheduler-host:7:abc", acquired_at=now,
                            expires_at=now + timedelta(hours=1)))
    db.session.commit()
    page = client.post("/admin/jobs/prune_job_runs/run", follow_redirects=True).get_data(as_text=True)
    assert "prune_job_runs is running already; it was not started again." in page
    assert "Running since" in page
    assert db.session.scalar(select(JobRun.outcome)) == "skipped"


def test_an_unknown_job_cannot_be_run(client, login):
    login()
    assert client.post("/admin/jobs/no_such_job/run").status_code == 404


def test_only_admins_see_or_run_jobs(client, login):
    login(roles=("coordinator",))
    assert client.get("/admin/jobs").status_code == 403
    assert client.post("/admin/jobs/prune_job_runs/run").status_code == 403
    assert db.session.scalars(select(JobRun)).all() == []


def test_the_page_names_a_second_scheduler(client, login):
    login()
    now = clock.now()
    beat("host-a:1:x", now, now)
    beat("host-b:2:y", now, now)
    assert "2 schedulers are running" in client.get("/admin/jobs").get_data(as_text=True)


def test_healthz_reports_the_schedulers_heartbeat_and_stays_200_when_it_is_silent(client, app):
    now = clock.now()
    silent = client.get("/healthz")
    assert silent.status_code == 200
    assert silent.get_json() == {"status": "ok", "scheduler": {"healthy": False, "last_beat_at": None,
                                                               "last_run_at": None}}
    beat("host:1:x", now - timedelta(minutes=1), now - timedelta(minutes=1))
    assert client.get("/healthz").get_json()["scheduler"] == {
        "healthy": True, "last_beat_at": (now - timedelta(minutes=1)).isoformat(), "last_run_at": None}
    with clock.frozen_at(now + timedelta(minutes=app.config["SCHEDULER_HEARTBEAT_MAX_MINUTES"] + 1)):
        assert client.get("/healthz").get_json()["scheduler"]["healthy"] is False
