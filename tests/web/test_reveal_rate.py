"""Reveals beyond REVEAL_RATE_LIMIT different cases an hour are refused (429) and every
other admin is told at once, once an hour per user."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.audit.models import AccessLogEntry, AuditEvent
from inventory.extensions import db
from inventory.notifications.models import Notification


def access_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AccessLogEntry))


def rate_notifications():
    return db.session.scalars(select(Notification).where(Notification.kind == "reveals_beyond_rate")
                              .order_by(Notification.user_id)).all()


def test_a_bulk_reader_with_a_token_is_stopped_at_the_limit_and_admins_are_told_once(app, api, build):
    admins = [build.user(roles=["admin"]) for _ in range(2)]
    limit = app.config["REVEAL_RATE_LIMIT"]
    caseworker = build.caseworker()
    cases = [build.case(caseworker=caseworker) for _ in range(120)]
    reader = api(roles=["coordinator"])
    answers = [reader.get(f"/cases/{case.id}") for case in cases]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * limit + [429] * (120 - limit)
    refused = answers[limit]
    error = refused.get_json()["error"]
    assert error["code"] == "throttled" and "Try again in 60 minutes" in error["message"]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert "name" not in refused.get_json()
    assert access_rows() == limit
    assert [n.user_id for n in rate_notifications()] == sorted(a.id for a in admins)
    assert rate_notifications()[0].link == f"/admin/access-log?user_id={reader.user.id}"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == "reveals_throttled")) == 120 - limit


def test_opening_a_case_already_opened_this_hour_is_not_refused(app, api, build):
    app.config["REVEAL_RATE_LIMIT"] = 2
    first, second, third = (build.case() for _ in range(3))
    reader = api(roles=["coordinator"])
    assert [reader.get(f"/cases/{c.id}").status_code for c in (first, second, third)] == [200, 200, 429]
    assert reader.get(f"/cases/{first.id}").status_code == 200
    assert reader.get(f"/cases/{first.id}").get_json()["name"]


def test_the_wait_is_until_the_earliest_case_of_the_hour_falls_out(app, api, build):
    app.config["REVEAL_RATE_LIMIT"] = 2
    first, second, third = (build.case() for _ in range(3))
    reader = api(roles=["coordinator"])
    start = clock.now()
    with clock.frozen_at(start):
        reader.get(f"/cases/{first.id}")
    with clock.frozen_at(start + timedelta(minutes=20)):
        reader.get(f"/cases/{second.id}")
        refused = reader.get(f"/cases/{third.id}")
        assert refused.headers["Retry-After"] == str(40 * 60)
        assert "Try again in 40 minutes" in refused.get_json()["error"]["message"]
    with clock.frozen_at(start + timedelta(minutes=60, seconds=1)):
        assert reader.get(f"/cases/{third.id}").status_code == 200


def test_admins_are_told_again_only_after_an_hour(app, api, build):
    app.config["REVEAL_RATE_LIMIT"] = 1
    admin = build.user(roles=["admin"])
    cases = [build.case() for _ in range(4)]
    reader = api(roles=["coordinator"])
    start = clock.now().replace(hour=9, minute=0)
    with clock.frozen_at(start):
        reader.get(f"/cases/{cases[0].id}")
        reader.get(f"/cases/{cases[1].id}")
        reader.get(f"/cases/{cases[2].id}")
    (told,) = rate_notifications()
    told.read_at = start
    db.session.commit()
    with clock.frozen_at(start + timedelta(minutes=30)):
        reader.get(f"/cases/{cases[3].id}")
    db.session.expire_all()
    assert rate_notifications()[0].read_at is not None
    with clock.frozen_at(start + timedelta(minutes=70)):
        assert reader.get(f"/cases/{cases[1].id}").status_code == 200  # 09:00's case is out of the hour
        assert reader.get(f"/cases/{cases[2].id}").status_code == 429
    db.session.expire_all()
    (again,) = rate_notifications()
    assert again.user_id == admin.id and again.read_at is None and again.created_at == start + timedelta(minutes=70)


def test_the_case_page_reveal_beyond_the_limit_is_a_429_page_and_logs_nothing(app, client, login, build):
    app.config["REVEAL_RATE_LIMIT"] = 1
    first, second = build.case(), build.case()
    login(roles=["coordinator"])
    assert client.post(f"/cases/{first.id}/reveal").status_code == 303
    refused = client.post(f"/cases/{second.id}/reveal")
    assert refused.status_code == 429 and "Try again in 60 minutes" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"]
    assert [row.case_id for row in db.session.scalars(select(AccessLogEntry))] == [first.id]
    page = client.get(f"/cases/{second.id}").get_data(as_text=True)
    assert second.name not in page


def test_a_fitters_job_reveal_counts_too(app, client, login, build):
    app.config["REVEAL_RATE_LIMIT"] = 1
    fitter = login(roles=["fitter"])
    jobs = [build.job(fitter=fitter) for _ in range(2)]
    assert client.post(f"/jobs/{jobs[0].id}/contact").status_code == 303
    assert client.post(f"/jobs/{jobs[1].id}/contact").status_code == 429
    (row,) = db.session.scalars(select(AccessLogEntry)).all()
    assert (row.job_id, row.case_reference) == (jobs[0].id, jobs[0].case.reference)


@pytest.fixture
def app_overrides():
    return {"REVEAL_RATE_LIMIT": 30}
