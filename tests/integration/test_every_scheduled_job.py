"""Every registered job runs under the scheduler's runner, and what a job finds reaches the
people it concerns as notifications that close once the condition is gone."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.extensions import db
from inventory.notifications.models import Notification
from inventory.scheduling.jobs import JOBS, job_named
from inventory.scheduling.models import RunOutcome
from inventory.scheduling.runner import run_job
from inventory.stock.receiving import NewUnits, receive_units


@pytest.fixture
def app_overrides(tmp_path):
    return {"BACKUP_DIR": str(tmp_path / "backups")}


@pytest.mark.parametrize("job", JOBS, ids=[job.name for job in JOBS])
def test_every_registered_job_runs_and_is_recorded_ok(app, build, job):
    build.budget_period(allocated_pence=100_000)
    run = run_job(job, clock.now())
    assert run.outcome == RunOutcome.OK, run.detail


def test_job_names_are_unique_and_every_schedule_has_a_next_time_and_words():
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    for job in JOBS:
        assert job.next_run_after(datetime(2026, 12, 1, tzinfo=UTC), UTC) is not None, job.name
        assert job.schedule_in_words.startswith("Every"), job.name


def test_low_stock_found_at_seven_tells_coordinators_once_a_day_and_closes_when_stock_comes(app, build):
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    alarm = build.item_type(name="Personal alarm", reorder_level=3)
    build.items(1, item_type=alarm)
    morning = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    job = job_named("low_stock")

    first = run_job(job, morning)
    run_job(job, morning.replace(hour=8))  # run again the same day: still one notification
    notes = list(db.session.scalars(select(Notification).where(Notification.kind == "low_stock")))
    assert [(n.user_id, n.subject, n.closed_at) for n in notes] == [(coordinator.id, f"item_type:{alarm.id}", None)]
    assert first.counts["notifications_created"] == 1
    assert not db.session.scalars(select(Notification).where(Notification.user_id == fitter.id)).all()

    receive_units(NewUnits(item_type=alarm, quantity=5, location=build.location()), actor=coordinator)
    db.session.commit()
    later = run_job(job, morning.replace(hour=9))
    assert later.counts["notifications_closed"] == 1
    assert db.session.scalar(select(Notification.closed_at).where(Notification.id == notes[0].id)) is not None
