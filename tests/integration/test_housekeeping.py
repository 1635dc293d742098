"""Housekeeping deletes what can no longer do anything: idempotency records past their
window, ended or timed-out sign-in sessions, tokens revoked or expired long ago; and nothing
else, twice over."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts import operations
from inventory.accounts.housekeeping import housekeeping_job
from inventory.accounts.models import ApiToken, KnownDevice, LoginSession, SignInCounter
from inventory.api.idempotency import IdempotencyRecord
from inventory.extensions import db
from inventory.notices import JobOutcome

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
NO_THROTTLE_RECORDS = {"sign_in_counters": 0, "known_devices": 0}  # deleted by the tests that make them


@pytest.fixture
def user(build):
    return build.user(roles=["fitter"])


def idempotency_record(user, key, *, at):
    with clock.frozen_at(at):
        db.session.add(IdempotencyRecord(user_id=user.id, key=key, endpoint="api.scan", request_hash="0" * 64,
                                         response_status=200, response_body="{}"))
        db.session.flush()


def session_started(user, *, at, ended_at=None):
    with clock.frozen_at(at):
        token = operations.start_login_session(user)
        db.session.flush()
    login_session = db.session.scalar(select(LoginSession).order_by(LoginSession.id.desc()).limit(1))
    login_session.ended_at = ended_at
    return token


def api_token(user, name, *, created_at=NOW - timedelta(days=1), revoked_at=None):
    with clock.frozen_at(revoked_at - timedelta(days=1) if revoked_at else created_at):
        token, _ = operations.create_api_token(user, name=name)
    if revoked_at:
        token.revoked_at, token.revoked_reason = revoked_at, "owner"
    return token


def names(model, column):
    return sorted(db.session.scalars(select(column).order_by(model.id)))


def test_housekeeping_deletes_only_what_is_past_its_time_and_counts_each_kind(app, user):
    idempotency_record(user, "a-day-and-a-minute-ago", at=NOW - timedelta(hours=24, minutes=1))
    idempotency_record(user, "a-day-ago-to-the-minute", at=NOW - timedelta(hours=24))
    idempotency_record(user, "this-morning", at=NOW - timedelta(hours=2))
    session_started(user, at=NOW - timedelta(days=3), ended_at=NOW - timedelta(days=3))  # signed out
    session_started(user, at=NOW - timedelta(minutes=5), ended_at=NOW - timedelta(minutes=1))  # signed out just now
    session_started(user, at=NOW - timedelta(days=40))  # never signed out, but past the 12 hours
    session_started(user, at=NOW - timedelta(hours=12))  # just past them
    session_started(user, at=NOW - timedelta(hours=11, minutes=59))  # may still be in use
    api_token(user, "revoked long ago", revoked_at=NOW - timedelta(days=91))
    api_token(user, "revoked lately", revoked_at=NOW - timedelta(days=89))
    api_token(user, "expired long ago", created_at=NOW - timedelta(days=181))
    api_token(user, "expired lately", created_at=NOW - timedelta(days=179))
    api_token(user, "in use")
    db.session.commit()

    outcome = housekeeping_job(NOW)
    db.session.commit()

    assert outcome == JobOutcome(counts={"idempotency_records": 1, "login_sessions": 4, "api_tokens": 2,
                                         **NO_THROTTLE_RECORDS})
    assert names(IdempotencyRecord, IdempotencyRecord.key) == ["a-day-ago-to-the-minute", "this-morning"]
    assert db.session.scalars(select(LoginSession.created_at)).all() == [NOW - timedelta(hours=11, minutes=59)]
    assert names(ApiToken, ApiToken.name) == ["expired lately", "in use", "revoked lately"]


def test_stale_sign_in_counters_and_long_unused_devices_are_deleted(app, user):
    forget, keep_days = app.config["THROTTLE_FORGET_SECONDS"], app.config["DEVICE_COOKIE_DAYS"]
    for key, seconds_ago in (("stale", forget + 1), ("recent", forget - 60)):
        db.session.add(SignInCounter(scope="address", key=key, failures=4,
                                     last_failed_at=NOW - timedelta(seconds=seconds_ago)))
    for token, days_ago in (("unused", keep_days + 1), ("in use", keep_days - 1)):
        db.session.add(KnownDevice(user_id=user.id, token_hash=token, label="Firefox on Linux",
                                   first_seen_at=NOW - timedelta(days=400), last_seen_at=NOW - timedelta(days=days_ago)))
    db.session.commit()

    counts = housekeeping_job(NOW).counts
    db.session.commit()

    assert (counts["sign_in_counters"], counts["known_devices"]) == (1, 1)
    assert db.session.scalars(select(SignInCounter.key)).all() == ["recent"]
    assert names(KnownDevice, KnownDevice.token_hash) == ["in use"]


def test_a_second_run_deletes_nothing(app, user):
    idempotency_record(user, "old", at=NOW - timedelta(days=2))
    session_started(user, at=NOW - timedelta(days=1), ended_at=NOW - timedelta(hours=1))
    api_token(user, "revoked long ago", revoked_at=NOW - timedelta(days=200))
    db.session.commit()

    first = housekeeping_job(NOW)
    second = housekeeping_job(NOW)
    db.session.commit()

    assert first.counts == {"idempotency_records": 1, "login_sessions": 1, "api_tokens": 1, **NO_THROTTLE_RECORDS}
    assert second == JobOutcome(counts={"idempotency_records": 0, "login_sessions": 0, "api_tokens": 0,
                                        **NO_THROTTLE_RECORDS})


def test_an_open_session_still_signs_in_after_housekeeping(app, user):
    token = session_started(user, at=NOW - timedelta(hours=11))
    db.session.commit()

    housekeeping_job(NOW)
    db.session.commit()

    with clock.frozen_at(NOW):
        assert operations.user_for_login_session(str(user.id), token) == user


@pytest.mark.parametrize("app_overrides", [{"IDEMPOTENCY_KEY_HOURS": 48, "REVOKED_TOKEN_KEEP_DAYS": 7,
                                            "SESSION_ABSOLUTE_HOURS": 24}])
def test_the_windows_are_settings(app, user):
    idempotency_record(user, "thirty-hours-ago", at=NOW - timedelta(hours=30))
    session_started(user, at=NOW - timedelta(hours=23))
    api_token(user, "revoked last fortnight", revoked_at=NOW - timedelta(days=14))
    db.session.commit()

    assert housekeeping_job(NOW).counts == {"idempotency_records": 0, "login_sessions": 0, "api_tokens": 1,
                                            **NO_THROTTLE_RECORDS}
