"""Two fitters scanning the same unit at the same moment, on real PostgreSQL connections."""
import threading

import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.jobs.models import JobItem
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.stock.models import Item, ItemEvent, ItemState
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


def scanner(code, job_id, fitter_id):
    return lambda: scan(ScanInput(ScanAction.ISSUE, code, job_id=job_id), actor=db.session.get(User, fitter_id))


def test_two_fitters_scanning_the_same_shelf_unit_at_once_issue_it_once(app, build):
    alarm = build.item_type()
    jobs = [build.job(lines=[(alarm, 1)]) for _ in range(2)]
    unit = build.item(item_type=alarm)  # on the shelf; each fitter takes it instead of their reserved one
    outcomes = run_at_once(app, [scanner(unit.code, job.id, job.fitter_id) for job in jobs])
    assert sorted(outcomes) == ["already_issued", "ok"]
    db.session.expire_all()
    assert db.session.get(Item, unit.id).state == ItemState.ISSUED
    assert db.session.scalar(select(func.count()).select_from(JobItem).where(JobItem.item_id == unit.id)) == 1
    issued_events = db.session.scalar(select(func.count()).select_from(ItemEvent).where(
        ItemEvent.item_id == unit.id, ItemEvent.kind == "issued"))
    assert issued_events == 1
    # The loser's own reserved unit is untouched, still waiting for them.
    reserved = db.session.scalar(select(func.count()).select_from(Item).where(Item.state == ItemState.RESERVED))
    assert reserved == 1


def test_the_same_fitter_scanning_their_reserved_unit_twice_at_once_issues_it_once(app, build):
    job = build.job()
    unit = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    outcomes = run_at_once(app, [scanner(unit.code, job.id, job.fitter_id) for _ in range(2)])
    assert sorted(outcomes) == ["already_issued", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 1


def test_a_double_tap_sending_one_scan_twice_at_once_issues_once_and_answers_alike(app, build):
    job = build.job()
    unit = db.session.scalar(select(Item).where(Item.reserved_for_request_id == job.request_id))
    headers = {"Authorization": f"Bearer {build.token(job.fitter)}", "Idempotency-Key": "double-tap"}
    body = {"action": "issue", "code": unit.code, "job_id": job.id}
    answers = []
    barrier = threading.Barrier(2)

    def tap():
        phone = app.test_client()
        barrier.wait()
        response = phone.post("/api/v1/scans", json=body, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2 and answers[0] == answers[1] and answers[0][0] == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JobItem)) == 1
