"""Sign-in throttling: progressive waits per name, per address and per known device, shared by
every worker, on the database and on Redis."""
import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts import devices, operations, throttle
from inventory.accounts.models import SignInCounter
from inventory.extensions import db
from tests.concurrency import run_at_once
from tests.conftest import make_app

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def app_overrides(request):
    if request.param == "database":
        return {}
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: CI must start it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}; start it to test the Redis counters")
    return {"THROTTLE_REDIS_URL": REDIS_URL, "THROTTLE_REDIS_PREFIX": f"safehold-test:{uuid.uuid4().hex}:"}


@pytest.fixture(autouse=True)
def _empty_redis_afterwards(app):
    yield
    if app.config.get("THROTTLE_REDIS_URL"):
        counters = throttle._counters()
        for key in counters.redis.scan_iter(f"{counters.prefix}*"):
            counters.redis.delete(key)


def fail(email, *, address=None, device_token=None, password="not the password"):
    with pytest.raises(operations.InvalidCredentials):
        operations.authenticate(email, password, address=address, device_token=device_token)
    db.session.commit()


def fail_waiting(email, times: int, **attempt):
    """`times` failures, each after waiting out the one before; returns the moment of the last."""
    moment = clock.now()
    for _ in range(times):
        moment += timedelta(seconds=wait_for(email, **attempt))
        with clock.frozen_at(moment):
            fail(email, **attempt)
    return moment


def wait_for(email, *, address=None, device_token=None) -> int:
    return throttle.seconds_to_wait(throttle.Attempt(operations.normalise_email(email), address, device_token))


def sign_in_on_a_device(user, build) -> str:
    """The user signs in once from a browser: the browser becomes a known device of theirs."""
    operations.authenticate(user.email, build.PASSWORD)
    token = devices.remember_device(user, None, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    db.session.commit()
    return token


def test_after_three_free_failures_each_one_doubles_the_wait_up_to_a_minute(build):
    user = build.user()
    waits = []
    for _ in range(12):
        with clock.frozen_at(fail_waiting(user.email, 1)):
            waits.append(wait_for(user.email))
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_an_attempt_during_the_wait_is_refused_without_checking_the_password_and_does_not_lengthen_it(build):
    user = build.user()
    with clock.frozen_at(fail_waiting(user.email, 5)) as now:
        before = wait_for(user.email)
        for _ in range(3):
            with pytest.raises(operations.LoginThrottled) as refused:
                operations.authenticate(user.email, build.PASSWORD)
            db.session.commit()
        assert refused.value.retry_after == before == 2
        assert wait_for(user.email) == before
    with clock.frozen_at(now + timedelta(seconds=2)):
        assert operations.authenticate(user.email, build.PASSWORD) == user


def test_unknown_and_known_names_are_slowed_alike_with_the_same_message(build):
    user = build.user()
    refusals = []
    with clock.frozen_at(clock.now()):
        for email in (user.email, "nobody@example.test"):
            for _ in range(4):
                fail(email)
            with pytest.raises(operations.LoginThrottled) as refused:
                operations.authenticate(email, build.PASSWORD)
            refusals.append(refused.value.message)
    assert refusals[0] == refusals[1] == "Too many failed attempts. Wait 1 second and try again."


def test_a_successful_sign_in_starts_the_names_count_again(build):
    user = build.user()
    moment = clock.now()
    with clock.frozen_at(moment):
        for _ in range(3):
            fail(user.email)
    with clock.frozen_at(moment + timedelta(seconds=1)):
        operations.authenticate(user.email, build.PASSWORD)
        db.session.commit()
        fail(user.email)
        assert wait_for(user.email) == 0


def test_failures_are_forgotten_an_hour_after_the_last(app, build):
    user = build.user()
    moment = fail_waiting(user.email, 6)
    with clock.frozen_at(moment + timedelta(seconds=app.config["THROTTLE_FORGET_SECONDS"] + 1)):
        assert wait_for(user.email) == 0
        fail(user.email)
        assert wait_for(user.email) == 0  # counted from one again


def test_someone_elses_failures_do_not_stop_the_real_user_on_their_known_device(build):
    user = build.user()
    token = sign_in_on_a_device(user, build)
    with clock.frozen_at(clock.now()):
        for _ in range(20):  # an attacker elsewhere, wrong every time
            try:
                operations.authenticate(user.email, "a wrong guess", address="203.0.113.9")
            except (operations.InvalidCredentials, operations.LoginThrottled):
                db.session.commit()
        assert wait_for(user.email, address="203.0.113.9") > 0
        assert operations.authenticate(user.email, build.PASSWORD, address="198.51.100.7",
                                       device_token=token) == user


def test_a_known_device_has_its_own_limit(build):
    user = build.user()
    token = sign_in_on_a_device(user, build)
    with clock.frozen_at(clock.now()):
        for _ in range(4):
            fail(user.email, device_token=token)
        assert wait_for(user.email, device_token=token) == 1
        assert wait_for(user.email) == 0  # the name's own count did not move
        with pytest.raises(operations.LoginThrottled):
            operations.authenticate(user.email, build.PASSWORD, device_token=token)


def test_a_device_known_for_one_user_is_unknown_for_another(build):
    owner, other = build.user(), build.user()
    token = sign_in_on_a_device(owner, build)
    with clock.frozen_at(clock.now()):
        for _ in range(4):
            fail(other.email, device_token=token)
        assert wait_for(other.email) == 1  # counted on the name, as from any unknown browser


def test_spraying_one_password_over_ten_accounts_from_one_address_is_slowed(app, build):
    free = app.config["THROTTLE_LIMITS"]["address"]["free"]
    users = [build.user() for _ in range(10)]
    refused = 0
    with clock.frozen_at(clock.now()):
        for user in users:
            try:
                operations.authenticate(user.email, "Summer2026!!", address="203.0.113.9")
            except operations.LoginThrottled:
                refused += 1
            except operations.InvalidCredentials:
                pass
            db.session.commit()
        assert refused == 10 - free - 1
        assert wait_for("someone.else@example.test", address="203.0.113.9") == 1
        assert wait_for("someone.else@example.test", address="198.51.100.7") == 0


def test_signing_in_to_ones_own_account_does_not_clear_the_addresss_count(build):
    sprayer = build.user()
    with clock.frozen_at(clock.now()) as now:
        for n in range(6):
            fail(f"target{n}@example.test", address="203.0.113.9")
    with clock.frozen_at(now + timedelta(seconds=2)):
        operations.authenticate(sprayer.email, build.PASSWORD, address="203.0.113.9")
        db.session.commit()
        fail("target9@example.test", address="203.0.113.9")
        assert wait_for("another@example.test", address="203.0.113.9") == 2


def test_two_app_instances_on_the_same_database_share_the_counters(app, database_url, build):
    user = build.user()
    same_store = {name: app.config[name] for name in ("THROTTLE_REDIS_URL", "THROTTLE_REDIS_PREFIX")}
    other_worker = make_app(database_url, **same_store)
    with clock.frozen_at(clock.now()):
        for _ in range(4):
            fail(user.email)
        with other_worker.app_context():
            assert wait_for(user.email) == 1
            with pytest.raises(operations.LoginThrottled):
                operations.authenticate(user.email, build.PASSWORD)
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("app_overrides", [{}])
def test_emails_and_addresses_are_counted_only_as_keyed_hashes(build):
    fail("Stranger@Example.test", address="203.0.113.9")
    stored = db.session.scalars(select(SignInCounter.key)).all()
    assert len(stored) == 2 and all(len(key) == 64 for key in stored)
    assert not any("stranger" in key or "203" in key for key in stored)


@pytest.mark.postgres_only
@pytest.mark.parametrize("app_overrides", [{}])
def test_failures_hammered_at_once_from_many_connections_are_all_counted(app):
    attempt = throttle.Attempt("target@example.test", "203.0.113.9")
    outcomes = run_at_once(app, [lambda: throttle.failed(attempt)] * 16)
    assert outcomes == ["ok"] * 16
    counts = db.session.scalars(select(SignInCounter.failures)).all()
    assert counts == [16, 16]
    assert db.session.scalar(select(func.count()).select_from(SignInCounter)) == 2
