"""Every scheduled job, one line each: name, function (a plain function of "now", in its
feature's package, returning a `JobOutcome`), schedule (APScheduler trigger arguments, in
`SCHEDULER_TIMEZONE`), what it is for, and the notice kinds it reports. The jobs page and
the scheduler read this list; `deliver_notices` hands each run's notices to the
notification centre."""
from datetime import datetime

from inventory.accounts.approvals import expire_approvals_job
from inventory.accounts.housekeeping import housekeeping_job
from inventory.backups.operations import backup_job
from inventory.budget.forecast import check_budget_forecast
from inventory.budget.nightly import verify_ledger_job
from inventory.jobs.reminders import remind_loans_due, remind_reviews_due
from inventory.jobs.stale_reservations import stale_reservations
from inventory.notices import JobOutcome
from inventory.notifications.delivery import deliver
from inventory.privacy.retention import retention_job
from inventory.procurement.reorder import low_stock
from inventory.requests.overdue import requests_overdue
from inventory.scheduling.history import prune_job_runs
from inventory.scheduling.registry import ScheduledJob


def daily(hour: int, minute: int = 0) -> dict:
    return {"trigger": "cron", "hour": hour, "minute": minute}


JOBS: list[ScheduledJob] = [
    ScheduledJob("backup", backup_job, daily(1), "Backs the database up to BACKUP_DIR, keeping the newest BACKUP_KEEP."),
    ScheduledJob("verify_ledger", verify_ledger_job, daily(2, 30),
                 "Verifies the ledger (and its signed checkpoints, where a folder is set) and the access log's hash "
                 "chain; tells finance and admins of a failure.",
                 kinds=("ledger_verification_failed", "access_log_verification_failed")),
    ScheduledJob("housekeeping", housekeeping_job, daily(3, 15),
                 "Deletes Idempotency-Key records past their window, ended sessions, long-revoked tokens, "
                 "forgotten sign-in throttle counters and long-unused devices."),
    ScheduledJob("retention", retention_job, daily(3, 25),
                 "Anonymises referrals never taken up and closed cases past their retention period (money and "
                 "item history stay under the case reference)."),
    ScheduledJob("expire_approvals", expire_approvals_job, {"trigger": "interval", "hours": 1},
                 "Requests for a second admin's approval that nobody decided within APPROVAL_DAYS expire."),
    ScheduledJob("prune_job_runs", prune_job_runs, daily(3, 40), "Deletes run history older than the retention setting."),
    ScheduledJob("budget_forecast", check_budget_forecast, daily(6, 30),
                 "Projects the last 90 days' spending to the period end: warns of running out, or of money left "
                 "unspent before the contract ends.", kinds=("budget_runs_out", "budget_underspend")),
    ScheduledJob("low_stock", low_stock, daily(7),
                 "Item types whose stock and orders fall below their reorder level, with suggested order lines.",
                 kinds=("low_stock",)),
    ScheduledJob("loans_due", remind_loans_due, daily(7, 5),
                 "Loaned items due back soon or overdue: the case's caseworker, and coordinators to book collections.",
                 kinds=("loans_due", "loans_due_summary")),
    ScheduledJob("reviews_due", remind_reviews_due, daily(7, 10), "3- and 6-month reviews due: the case's caseworker.",
                 kinds=("review_due",)),
    ScheduledJob("stale_reservations", stale_reservations, daily(7, 15),
                 "Units reserved to a request for too long without a visit booked.", kinds=("reservation_stale",)),
    ScheduledJob("requests_overdue", requests_overdue,
                 {"trigger": "cron", "day_of_week": "mon-fri", "hour": "7-19", "minute": 0},
                 "Requests past their decision target, by risk level.", kinds=("requests_overdue",)),
]


def job_named(name: str) -> ScheduledJob | None:
    return next((job for job in JOBS if job.name == name), None)


def deliver_notices(job: ScheduledJob, outcome: JobOutcome, now: datetime) -> dict[str, int]:
    """Receiver of `job_finished`: the run's notices become notifications (and those of the
    job's kinds it no longer reports close); the counts go into the run's history."""
    if not job.kinds and not outcome.notices:
        return {}  # a job that tells nobody anything (backups, housekeeping)
    return deliver(job.name, outcome, kinds=job.kinds, now=now).as_counts()
