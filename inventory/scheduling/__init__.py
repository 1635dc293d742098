"""Scheduled work: the registry of jobs (`jobs.JOBS`), running one under a database lease
and recording it (`runner.run_job`), the APScheduler process (`scheduler`), its heartbeat,
and the admin page of jobs and their runs.

Exactly one scheduler should run (`flask --app inventory scheduler`); a second one started
by mistake runs nothing twice: each run takes the job's lease, and a run already recorded
as done for the same scheduled time is skipped.
"""
