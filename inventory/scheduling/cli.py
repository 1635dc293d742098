"""`flask --app inventory scheduler` (the one scheduler of a deployment) and `run-job NAME`."""
import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from inventory import clock
from inventory.scheduling.jobs import JOBS, job_named
from inventory.scheduling.models import RunOutcome
from inventory.scheduling.runner import run_job
from inventory.scheduling.scheduler import serve


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run every scheduled job on its schedule, recording each run, until stopped (Ctrl-C,
    SIGTERM). Run exactly one, as its own process, beside the web workers."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(current_app._get_current_object())


@click.command("run-job")
@click.argument("name")
@with_appcontext
def run_job_command(name: str):
    """Run one scheduled job now, under its lease, and record the run (as "Run now" does)."""
    job = job_named(name)
    if job is None:
        raise click.BadParameter(f"no such job; the jobs are: {', '.join(job.name for job in JOBS)}", param_hint="NAME")
    run = run_job(job, clock.now())
    click.echo(f"{job.name}: {run.outcome_label}. {run.detail or run.counts}")
    if run.outcome == RunOutcome.FAILED:
        raise SystemExit(1)
