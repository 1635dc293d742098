"""APScheduler 3: the process that runs the jobs of `jobs.JOBS` on their schedules.

Production runs one `flask --app inventory scheduler` (a BlockingScheduler, its own process);
`make run` starts a BackgroundScheduler inside the development server instead
(`SCHEDULER_IN_PROCESS`). Web workers never start one. Each firing runs `run_job` in an app
context of its own with the clock's "now", for the time its trigger was due; every minute the
scheduler records its heartbeat.
"""
import atexit
import logging
import signal
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from inventory import clock
from inventory.extensions import db
from inventory.scheduling.jobs import JOBS
from inventory.scheduling.registry import ScheduledJob
from inventory.scheduling.runner import beat, describe_error, holder_name, run_job, stop_beating

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60


def timezone(app: Flask) -> ZoneInfo:
    return ZoneInfo(app.config["SCHEDULER_TIMEZONE"])


def run_scheduled(app: Flask, job: ScheduledJob) -> None:
    """What a trigger calls: run `job` now, for the trigger's time it is due. Nothing it
    raises stops the scheduler (a failed job is recorded; an unreachable database is logged
    and the next trigger tries again)."""
    grace = timedelta(seconds=app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
    with app.app_context():
        try:
            now = clock.now()
            run_job(job, now, scheduled_for=job.due_at(now, timezone(app), within=grace))
        except Exception as error:
            log.error("job %s could not be run: %s", job.name, describe_error(error))
        finally:
            db.session.remove()


def _beat(app: Flask, holder: str, started_at: datetime) -> None:
    with app.app_context():
        try:
            beat(holder, started_at, clock.now())
        except Exception as error:
            log.warning("heartbeat not recorded: %s", describe_error(error))
        finally:
            db.session.remove()


def build(app: Flask, scheduler_class: type[BaseScheduler], jobs: list[ScheduledJob] = JOBS) -> tuple[BaseScheduler, str]:
    """A scheduler with every job and the heartbeat, not yet started; and its holder name."""
    zone = timezone(app)
    scheduler = scheduler_class(timezone=zone, job_defaults={
        "coalesce": True,  # runs missed while it was down collapse into one
        "max_instances": 1,
        "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
    })
    for job in jobs:
        scheduler.add_job(run_scheduled, job.trigger(zone), args=(app, job), id=job.name, name=job.name)
    holder = holder_name()
    scheduler.add_job(_beat, IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=zone),
                      args=(app, holder, clock.now()), id="heartbeat", name="heartbeat",
                      next_run_time=datetime.now(zone))
    return scheduler, holder


def serve(app: Flask) -> None:
    """Run the scheduler in this process until Ctrl-C or SIGTERM; a job running then finishes first."""
    scheduler, holder = build(app, BlockingScheduler)
    signal.signal(signal.SIGTERM, _exit)
    log.info("scheduler %s starting: %s", holder, ", ".join(job.name for job in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
    finally:
        _stop_beating(app, holder)
        log.info("scheduler %s stopped", holder)


def _exit(_signal, _frame):
    raise SystemExit(0)


def start_in_background(app: Flask) -> BaseScheduler:
    """For the development server only (`SCHEDULER_IN_PROCESS`, set by `make run`)."""
    scheduler, holder = build(app, BackgroundScheduler)
    scheduler.start()
    log.info("scheduler %s running inside this process", holder)

    @atexit.register
    def _stop():
        scheduler.shutdown(wait=False)
        _stop_beating(app, holder)

    return scheduler


def _stop_beating(app: Flask, holder: str) -> None:
    with app.app_context():
        try:
            stop_beating(holder)
        except Exception as error:
            log.warning("heartbeat not removed: %s", describe_error(error))
        finally:
            db.session.remove()
