"""Every scheduled job, one line each: name, function (a plain function of "now", in its
feature's package, returning a `JobOutcome`), schedule (APScheduler trigger arguments, in
`SCHEDULER_TIMEZONE`) and what it is for. The jobs page and the scheduler read this list."""
from inventory.scheduling.history import prune_job_runs
from inventory.scheduling.registry import ScheduledJob

JOBS: list[ScheduledJob] = [
    ScheduledJob("prune_job_runs", prune_job_runs, {"trigger": "cron", "hour": 3, "minute": 40},
                 "Deletes run history older than the retention setting."),
]


def job_named(name: str) -> ScheduledJob | None:
    return next((job for job in JOBS if job.name == name), None)
