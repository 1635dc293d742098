"""Schedules: in words, the next run, and which trigger time a run is for."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from inventory.notices import JobOutcome
from inventory.scheduling.jobs import JOBS
from inventory.scheduling.registry import ScheduledJob, schedule_in_words
from inventory.scheduling.runner import DETAIL_LENGTH, describe_error

LONDON = ZoneInfo("Europe/London")


def job(schedule) -> ScheduledJob:
    return ScheduledJob("example", lambda now: JobOutcome(), schedule, "An example.")


@pytest.mark.parametrize("schedule, words", [
    ({"trigger": "cron", "hour": 2, "minute": 15}, "Every day at 02:15"),
    ({"trigger": "cron", "day_of_week": "mon", "hour": 7}, "Every Monday at 07:00"),
    ({"trigger": "interval", "minutes": 15}, "Every 15 minutes"),
    ({"trigger": "interval", "hours": 1}, "Every hour"),
    ({"trigger": "interval", "hours": 1, "minutes": 30}, "Every 1 hour 30 minutes"),
    ({"trigger": "cron", "hour": "*/2", "minute": 5}, "cron: hour=*/2, minute=5"),
])
def test_a_schedule_reads_in_words(schedule, words):
    assert schedule_in_words(schedule) == words


def test_the_next_run_is_read_in_the_schedulers_time_zone():
    daily = job({"trigger": "cron", "hour": 2, "minute": 15})
    summer_evening = datetime(2027, 7, 1, 20, 0, tzinfo=UTC)
    assert daily.next_run_after(summer_evening, LONDON) == datetime(2027, 7, 2, 1, 15, tzinfo=UTC)  # 02:15 BST


def test_a_run_is_for_the_trigger_time_just_due_even_when_it_starts_late():
    daily = job({"trigger": "cron", "hour": 2, "minute": 15})
    due = datetime(2027, 1, 5, 2, 15, tzinfo=UTC)
    for late in (timedelta(0), timedelta(seconds=3), timedelta(minutes=9)):
        assert daily.due_at(due + late, LONDON, within=timedelta(minutes=10)) == due
    assert daily.due_at(due - timedelta(seconds=1), LONDON, within=timedelta(minutes=10)) is None
    assert daily.due_at(due + timedelta(minutes=11), LONDON, within=timedelta(minutes=10)) is None


def test_interval_triggers_agree_between_processes_on_when_they_are_due():
    every_quarter = job({"trigger": "interval", "minutes": 15})
    now = datetime(2027, 1, 5, 10, 31, 20, tzinfo=UTC)
    assert every_quarter.due_at(now, LONDON, within=timedelta(minutes=10)) == datetime(2027, 1, 5, 10, 30, tzinfo=UTC)
    assert every_quarter.next_run_after(now, LONDON) == datetime(2027, 1, 5, 10, 45, tzinfo=UTC)


def test_an_unknown_trigger_is_refused():
    with pytest.raises(ValueError, match="unknown trigger"):
        job({"trigger": "date"}).trigger(LONDON)


def test_every_registered_job_has_a_unique_name_and_a_valid_schedule():
    assert len({j.name for j in JOBS}) == len(JOBS)
    for registered in JOBS:
        assert registered.next_run_after(datetime(2027, 1, 1, tzinfo=UTC), LONDON) is not None


def test_a_failure_is_described_by_its_type_and_first_line_without_the_rows_values():
    class UniqueViolation(Exception):
        pass

    error = IntegrityError("INSERT INTO users (email) VALUES (%(email)s)", {"email": "someone@example.org"},
                           UniqueViolation('duplicate key value violates unique constraint "uq_users_email"\n'
                                           'DETAIL:  Key (email)=(someone@example.org) already exists.'))
    assert describe_error(error) == 'UniqueViolation: duplicate key value violates unique constraint "uq_users_email"'
    assert describe_error(RuntimeError("x" * 2000)) == ("RuntimeError: " + "x" * 2000)[:DETAIL_LENGTH]
    assert describe_error(KeyError()) == "KeyError"


def test_an_hourly_weekday_schedule_reads_in_words():
    assert schedule_in_words({"trigger": "cron", "day_of_week": "mon-fri", "hour": "7-19", "minute": 0}) == (
        "Every weekday, hourly from 07:00 to 19:00")
