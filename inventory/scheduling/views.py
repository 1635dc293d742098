"""The jobs page (admins): every scheduled job, when it runs next, how it last ended, the
recent runs, and "Run now"."""
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from inventory import clock
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required
from inventory.scheduling.history import last_runs, leases_held, recent_runs, scheduler_health
from inventory.scheduling.jobs import JOBS, job_named
from inventory.scheduling.models import JobLease, JobRun, RunOutcome
from inventory.scheduling.registry import ScheduledJob
from inventory.scheduling.runner import run_job
from inventory.scheduling.scheduler import timezone

bp = Blueprint("scheduling", __name__, url_prefix="/admin/jobs")


@dataclass(frozen=True)
class JobRow:
    job: ScheduledJob
    next_run_at: datetime | None
    last_run: JobRun | None
    running: JobLease | None


@bp.get("")
@permission_required(Permission.MANAGE_SCHEDULED_JOBS)
def jobs():
    now = clock.now()
    zone = timezone(current_app)
    last, running = last_runs(), leases_held(now)
    rows = [JobRow(job, job.next_run_after(now, zone), last.get(job.name), running.get(job.name)) for job in JOBS]
    shown = request.args.get("job") if job_named(request.args.get("job", "")) else None
    page, per_page = page_args()
    return render_template("scheduling/jobs.html", rows=rows, health=scheduler_health(now), shown=shown,
                           page=paginate(recent_runs(shown), page, per_page))


@bp.post("/<job_name>/run")
@permission_required(Permission.MANAGE_SCHEDULED_JOBS)
def run_now(job_name: str):
    job = job_named(job_name) or abort(404)
    run = run_job(job, clock.now(), requested_by=current_user)
    if run.outcome == RunOutcome.OK:
        flash(f"{job.name} ran: {_counts_in_words(run.counts)}.", "success")
    elif run.outcome == RunOutcome.FAILED:
        flash(f"{job.name} failed: {run.detail}", "error")
    else:  # skipped: another run holds the job's lease
        flash(f"{job.name} is running already; it was not started again. Reload this page to see when it ends.",
              "warning")
    return redirect(url_for("scheduling.jobs"))


def _counts_in_words(counts: dict) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in counts.items()) or "nothing to report"
