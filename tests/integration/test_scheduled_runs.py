"""Running scheduled jobs: each run recorded (ok, failed, skipped) with its counts; the lease
that keeps two schedulers from running a job at once; one run per trigger time; the
heartbeat; pruning the history."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.scheduling import scheduler as scheduling
from inventory.scheduling.history import last_runs, leases_held, prune_job_runs, scheduler_health
from inventory.scheduling.jobs import JOBS
from inventory.scheduling.models import JobLease, JobRun, RunOutcome, SchedulerHeartbeat
from inventory.scheduling.registry import ScheduledJob
from inventory.scheduling.runner import ALREADY_DONE, IN_PROGRESS, beat, job_finished, run_job, stop_beating

NOW = datetime(2027, 3, 10, 2, 15, tzinfo=UTC)
DAILY = {"trigger": "cron", "hour": 2, "minute": 15}


def counting_job(name="counting", calls=None, *, counts=None, fail=False) -> ScheduledJob:
    calls = [] if calls is None else calls

    def function(now):
        calls.append(now)
        db.session.add(SchedulerHeartbeat(holder=f"made by {name} {len(calls)}", started_at=now, beat_at=now))
        if fail:
            raise RuntimeError("the supplier's feed is down")
        return JobOutcome(counts=counts or {"found": 2})

    return ScheduledJob(name, function, DAILY, "A test job.")


def runs(job_name=None) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id)
    return list(db.session.scalars(query if job_name is None else query.where(JobRun.job_name == job_name)))


def test_a_run_is_recorded_with_its_counts_and_its_changes_committed(app):
    calls = []
    run = run_job(counting_job(calls=calls, counts={"low": 3}), NOW, scheduled_for=NOW)
    db.session.rollback()
    (recorded,) = runs()
    assert (recorded.job_name, recorded.outcome, recorded.counts, recorded.detail) == ("counting", "ok", {"low": 3}, None)
    assert recorded.id == run.id and recorded.scheduled_for == NOW and recorded.started_at == NOW
    assert recorded.finished_at >= recorded.started_at and calls == [NOW]
    assert db.session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 1  # what the job wrote
    assert db.session.scalars(select(JobLease)).all() == []  # released


def test_a_job_that_raises_is_recorded_failed_its_changes_rolled_back_and_the_next_job_still_runs(app):
    failed = run_job(counting_job("broken", fail=True), NOW)
    after = run_job(counting_job("healthy"), NOW)
    db.session.rollback()
    assert [(r.job_name, r.outcome) for r in runs()] == [("broken", "failed"), ("healthy", "ok")]
    assert runs("broken")[0].detail == "RuntimeError: the supplier's feed is down"
    assert failed.outcome == RunOutcome.FAILED and after.outcome == RunOutcome.OK
    holders = db.session.scalars(select(SchedulerHeartbeat.holder)).all()
    assert holders == ["made by healthy 1"]
    assert db.session.scalars(select(JobLease)).all() == []


def test_a_trigger_time_already_done_is_skipped_and_a_run_asked_for_by_hand_is_not(app):
    calls = []
    job = counting_job(calls=calls)
    run_job(job, NOW, scheduled_for=NOW)
    second = run_job(job, NOW + timedelta(seconds=5), scheduled_for=NOW)
    run_job(job, NOW + timedelta(seconds=9))
    run_job(job, NOW + timedelta(days=1), scheduled_for=NOW + timedelta(days=1))
    db.session.rollback()
    assert [r.outcome for r in runs()] == ["ok", "skipped", "ok", "ok"]
    assert second.detail == ALREADY_DONE and len(calls) == 3


def test_a_failed_trigger_time_may_run_again(app):
    calls = []
    run_job(counting_job(calls=calls, fail=True), NOW, scheduled_for=NOW)
    run_job(counting_job(calls=calls), NOW + timedelta(minutes=1), scheduled_for=NOW)
    db.session.rollback()
    assert [r.outcome for r in runs()] == ["failed", "ok"]


def test_a_held_lease_skips_the_run_and_an_expired_one_is_taken_over(app):
    calls = []
    job = counting_job(calls=calls)
    db.session.add(JobLease(job_name=job.name, holder="other-host:41:dead", acquired_at=NOW - timedelta(minutes=5),
                            expires_at=NOW + timedelta(minutes=55)))
    db.session.commit()
    held = run_job(job, NOW, scheduled_for=NOW)
    assert (held.outcome, held.detail, calls) == (RunOutcome.SKIPPED, IN_PROGRESS, [])
    assert db.session.get(JobLease, job.name).holder == "other-host:41:dead"  # still theirs
    assert set(leases_held(NOW)) == {job.name}

    later = NOW + timedelta(minutes=56)  # the holder died: its lease has expired
    taken_over = run_job(job, later, scheduled_for=NOW)
    db.session.rollback()
    assert taken_over.outcome == RunOutcome.OK and calls == [later]
    assert db.session.get(JobLease, job.name) is None and leases_held(later) == {}


def test_a_finished_job_hands_its_outcome_to_the_notification_hook_in_its_transaction(app):
    notice = Notice("low_stock", "item_type:4", "Personal alarms are low.", "/stock")
    received = []
    job_finished.connect(app, lambda job, outcome, now: received.append((job.name, outcome.notices, now)))

    def noticing(now):
        return JobOutcome(counts={"low": 1}, notices=[notice])

    run_job(ScheduledJob("noticing", noticing, DAILY, "Finds something.", kinds=("low_stock",)), NOW)
    run_job(counting_job("broken", fail=True), NOW)
    assert received == [("noticing", [notice], NOW)]


def test_a_receiver_that_fails_fails_the_run(app):
    def refuse(name, outcome, now):
        raise RuntimeError("notifications table missing")

    job_finished.connect(app, refuse)
    run = run_job(counting_job(), NOW)
    db.session.rollback()
    assert run.outcome == RunOutcome.FAILED and runs()[0].detail == "RuntimeError: notifications table missing"
    assert db.session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 0


def test_last_runs_are_each_jobs_latest(app):
    run_job(counting_job("a"), NOW)
    run_job(counting_job("a", fail=True), NOW + timedelta(minutes=1))
    run_job(counting_job("b"), NOW)
    assert {name: run.outcome for name, run in last_runs().items()} == {"a": "failed", "b": "ok"}


def test_pruning_deletes_runs_past_retention_and_silent_schedulers(app):
    old, recent = NOW - timedelta(days=91), NOW - timedelta(days=89)
    for moment in (old, recent):
        db.session.add(JobRun(job_name="x", started_at=moment, finished_at=moment, outcome="ok", counts={}))
    db.session.add_all([SchedulerHeartbeat(holder="gone", started_at=old, beat_at=NOW - timedelta(days=2)),
                        SchedulerHeartbeat(holder="alive", started_at=old, beat_at=NOW - timedelta(minutes=1))])
    db.session.commit()
    (prune,) = [job for job in JOBS if job.name == "prune_job_runs"]
    run = run_job(prune, NOW)
    db.session.rollback()
    assert run.counts == {"runs_deleted": 1, "heartbeats_deleted": 1}
    assert [r.started_at for r in runs("x")] == [recent]
    assert db.session.scalars(select(SchedulerHeartbeat.holder)).all() == ["alive"]
    assert prune_job_runs(NOW).counts == {"runs_deleted": 0, "heartbeats_deleted": 0}


def test_the_scheduler_is_healthy_while_its_heartbeat_is_recent(app):
    assert scheduler_health(NOW).healthy is False
    beat("host:1:a", NOW - timedelta(hours=1), NOW)
    beat("host:1:a", NOW - timedelta(hours=1), NOW + timedelta(minutes=1))
    health = scheduler_health(NOW + timedelta(minutes=5))
    assert (health.healthy, health.last_beat_at, health.schedulers) == (True, NOW + timedelta(minutes=1), 1)
    assert scheduler_health(NOW + timedelta(minutes=7)).healthy is False
    stop_beating("host:1:a")
    assert scheduler_health(NOW + timedelta(minutes=1)).last_beat_at is None


def test_the_scheduler_records_a_trigger_even_when_the_job_fails_and_carries_on(app):
    calls = []
    broken, healthy = counting_job("broken", fail=True), counting_job("healthy", calls=calls)
    scheduling.run_scheduled(app, broken)
    scheduling.run_scheduled(app, healthy)
    db.session.rollback()
    assert [(r.job_name, r.outcome) for r in runs()] == [("broken", "failed"), ("healthy", "ok")]
    assert len(calls) == 1


def test_the_scheduler_survives_a_run_that_cannot_even_be_recorded(app, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(scheduling, "run_job", unreachable)
    monkeypatch.setattr(scheduling.log, "disabled", False)  # the migrations' logging.fileConfig turned it off
    scheduling.run_scheduled(app, counting_job())
    assert "counting could not be run: ConnectionError: database unreachable" in caplog.text


def test_a_scheduler_has_every_job_on_its_trigger_and_a_heartbeat(app):
    scheduler, holder = scheduling.build(app, BackgroundScheduler)
    assert {job.id for job in scheduler.get_jobs()} == {job.name for job in JOBS} | {"heartbeat"}
    assert holder.count(":") == 2


def test_a_background_scheduler_beats_and_runs_a_job_due_every_second(app):
    calls = []
    every_second = ScheduledJob("every_second", lambda now: calls.append(now) or JobOutcome(),
                                {"trigger": "interval", "seconds": 1}, "Ticks.")
    scheduler, holder = scheduling.build(app, BackgroundScheduler, jobs=[every_second])
    done = threading.Event()
    scheduler.add_listener(lambda event: done.set() if event.job_id == "every_second" else None, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        assert done.wait(timeout=20)
    finally:
        scheduler.shutdown(wait=True)
    db.session.rollback()
    assert runs("every_second")[0].outcome == "ok" and runs("every_second")[0].scheduled_for is not None
    assert db.session.get(SchedulerHeartbeat, holder) is not None


@pytest.mark.postgres_only
def test_two_real_schedulers_on_one_database_run_each_trigger_time_once(app):
    """Two APScheduler instances (as two scheduler processes would be) fire the same job every
    second for a few seconds: every trigger time is run exactly once between them."""
    calls = []
    lock = threading.Lock()

    def ticking(now):
        with lock:
            calls.append(now)
        threading.Event().wait(0.2)  # the other scheduler arrives while this one runs
        return JobOutcome(counts={"ticks": 1})

    every_second = ScheduledJob("ticking", ticking, {"trigger": "interval", "seconds": 1}, "Ticks.")
    schedulers = [scheduling.build(app, BackgroundScheduler, jobs=[every_second])[0] for _ in range(2)]
    for scheduler in schedulers:
        scheduler.start()
    try:
        threading.Event().wait(4.5)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
    db.session.rollback()
    done = [run.scheduled_for for run in runs("ticking") if run.outcome == "ok"]
    assert len(done) >= 3
    assert len(done) == len(set(done)) == len(calls)  # no trigger time ran twice


@pytest.mark.postgres_only
def test_two_schedulers_running_the_same_trigger_at_the_same_time_run_the_job_once(app):
    calls = []
    lock = threading.Lock()

    def slow(now):
        with lock:
            calls.append(now)
        threading.Event().wait(0.3)  # long enough for the other scheduler to arrive meanwhile
        return JobOutcome(counts={"done": 1})

    job = ScheduledJob("slow", slow, DAILY, "Takes a moment.")
    barrier = threading.Barrier(2)
    outcomes = []

    def scheduler_process():
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(run_job(job, NOW, scheduled_for=NOW).outcome)
            finally:
                db.session.remove()

    for _ in range(3):  # the same trigger time, fired by both, three times over
        threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(calls) == 1
    assert sorted(outcomes) == ["ok"] + ["skipped"] * 5
    assert [r.outcome for r in runs() if r.outcome == "ok"] == ["ok"]


@pytest.mark.postgres_only
def test_a_run_that_took_over_a_lease_from_a_slow_holder_cannot_record_the_same_time_done_twice(app):
    calls = []
    started = threading.Event()

    def slow(now):
        calls.append(now)
        started.set()
        threading.Event().wait(0.5)
        return JobOutcome()

    job = ScheduledJob("slow", slow, DAILY, "Takes a moment.")
    outcomes = []

    def scheduler_process(now):
        with app.app_context():
            try:
                outcomes.append(run_job(job, now, scheduled_for=NOW).outcome)
            finally:
                db.session.remove()

    first = threading.Thread(target=scheduler_process, args=(NOW,))
    first.start()
    assert started.wait(timeout=30)
    scheduler_process(NOW + timedelta(hours=2))  # by its clock, the first run's lease has expired
    first.join(timeout=30)
    assert len(calls) == 2 and sorted(outcomes) == ["ok", "skipped"]
    assert [r.detail for r in runs() if r.outcome == "skipped"] == [ALREADY_DONE]
