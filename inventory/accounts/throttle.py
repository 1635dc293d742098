"""Sign-in throttling that cannot be turned against staff.

Failed password checks slow further attempts instead of locking an account: after a few
free failures, each further one doubles the wait before the next attempt is even
considered (1 s, 2 s, 4 s ... up to a cap). An attempt during the wait is refused at once,
without checking the password, and does not lengthen the wait. Three counters:

- per sign-in name (the email typed, known or not, so both read the same), for attempts
  from devices not known for that user;
- per client address, across every name tried from it, so spraying one password over many
  accounts is slowed too;
- per known device of a user: a browser that has signed in as that user before (it holds a
  device cookie) counts only its own failures, so someone trying the account elsewhere
  cannot slow or lock out the real person (OWASP's "device cookie" pattern).

Counters live in the database (one row per scope and key, raised by one upsert), or in
Redis when THROTTLE_REDIS_URL is set; either way every worker process shares them. Emails
and addresses are kept only as HMACs under SECRET_KEY. A counter is forgotten after
THROTTLE_FORGET_SECONDS without a failure.

Each step that checks a secret calls `check` first, then `failed` or `succeeded`: the
password at sign-in (`operations.authenticate`), the password confirmation before a
sensitive action, and a second factor. `failed` writes to the request's database session,
so a page that refuses must keep its changes (`unit_of_work.keep()`).
"""
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from inventory import clock
from inventory.accounts.models import KnownDevice, SignInCounter, ThrottleScope, User
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import DomainError
from inventory.extensions import db


class LoginThrottled(DomainError):
    code = "throttled"
    status = 429

    def __init__(self, retry_after: int):
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Too many failed attempts. Wait {retry_after} {unit} and try again.",
                         details={"retry_after": retry_after})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """Who is trying, from where: the email as typed (normalised), the client's address if
    known, and the token of the browser's device cookie if it sent a valid one."""

    email: str
    address: str | None = None
    device_token: str | None = None


def keyed_hash(value: str) -> str:
    """An HMAC-SHA-256 under SECRET_KEY: counts a value without storing it, and cannot be
    reversed by hashing guesses without the key."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()


def device_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def known_device(attempt: Attempt) -> KnownDevice | None:
    """The device the attempt comes from, if it has signed in before as the user named."""
    if not attempt.device_token:
        return None
    return db.session.scalar(
        select(KnownDevice).join(User, User.id == KnownDevice.user_id)
        .where(User.email == attempt.email, KnownDevice.token_hash == device_token_hash(attempt.device_token)))


def _scopes(attempt: Attempt) -> list[tuple[ThrottleScope, str]]:
    device = known_device(attempt)
    if device is not None:
        return [(ThrottleScope.DEVICE, str(device.id))]
    scopes = [(ThrottleScope.ACCOUNT, keyed_hash(attempt.email))]
    if attempt.address:
        scopes.append((ThrottleScope.ADDRESS, keyed_hash(attempt.address)))
    return scopes


def delay_after(scope: ThrottleScope, failures: int) -> int:
    """Seconds to wait after this many recent failures: none for the first few, then
    doubling from one second up to the scope's cap."""
    limits = current_app.config["THROTTLE_LIMITS"][str(scope)]
    beyond = failures - limits["free"]
    if beyond <= 0:
        return 0
    return min(limits["max_seconds"], 2 ** min(beyond - 1, 30))


def _forget_before(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["THROTTLE_FORGET_SECONDS"])


def seconds_to_wait(attempt: Attempt) -> int:
    """How long this attempt must still wait (0: it may go ahead)."""
    now = clock.now()
    counters = _counters()
    wait = 0.0
    for scope, key in _scopes(attempt):
        failures, last = counters.read(scope, key)
        if failures and last >= _forget_before(now):
            wait = max(wait, (last - now).total_seconds() + delay_after(scope, failures))
    return math.ceil(wait)


def check(attempt: Attempt) -> None:
    """Refuse (LoginThrottled, recorded) an attempt made during its wait."""
    if wait := seconds_to_wait(attempt):
        record_event(AuditEventKind.LOGIN_THROTTLED, subject_key=keyed_hash(attempt.email))
        raise LoginThrottled(wait)


def failed(attempt: Attempt) -> None:
    """Count a failed check of a secret against each of the attempt's counters."""
    now = clock.now()
    counters = _counters()
    for scope, key in _scopes(attempt):
        counters.add_failure(scope, key, now=now, forget_before=_forget_before(now))


def succeeded(attempt: Attempt) -> None:
    """The person proved who they are: the counter that slowed them (this device's, or the
    name's from an unknown device) starts again. The address's counter stays, so signing in
    to one's own account cannot clear a spray over others."""
    counters = _counters()
    for scope, key in _scopes(attempt):
        if scope != ThrottleScope.ADDRESS:
            counters.clear(scope, key)


def forget_stale_counters(now: datetime) -> int:
    """Delete database counters with no failure for THROTTLE_FORGET_SECONDS (housekeeping)."""
    statement = delete(SignInCounter).where(SignInCounter.last_failed_at < _forget_before(now))
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


# Where the counters live -------------------------------------------------------------------

class DatabaseCounters:
    """Counters as rows of sign_in_counters, in the request's transaction."""

    def read(self, scope: ThrottleScope, key: str) -> tuple[int, datetime | None]:
        row = db.session.execute(select(SignInCounter.failures, SignInCounter.last_failed_at)
                                 .where(SignInCounter.scope == scope, SignInCounter.key == key)).first()
        return (row.failures, row.last_failed_at) if row else (0, None)

    def add_failure(self, scope: ThrottleScope, key: str, *, now: datetime, forget_before: datetime) -> None:
        # One statement: concurrent failures on the same counter queue on its row, none is lost.
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        table = SignInCounter.__table__
        insert = dialect.insert(table).values(scope=str(scope), key=key, failures=1, last_failed_at=now)
        db.session.execute(insert.on_conflict_do_update(
            index_elements=[table.c.scope, table.c.key],
            set_={"failures": case((table.c.last_failed_at < forget_before, 1), else_=table.c.failures + 1),
                  "last_failed_at": now}))

    def clear(self, scope: ThrottleScope, key: str) -> None:
        db.session.execute(delete(SignInCounter).where(SignInCounter.scope == scope, SignInCounter.key == key)
                           .execution_options(synchronize_session=False))


# Raises the count (from 0 when the last failure is older than ARGV[2]) and stamps the time,
# atomically; the key expires by itself once it would be forgotten anyway.
_ADD_FAILURE = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if last < tonumber(ARGV[2]) then failures = 0 end
redis.call('HSET', KEYS[1], 'failures', failures + 1, 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return failures + 1
"""


class RedisCounters:
    """Counters as Redis hashes (failures, last failure as a Unix time) under a prefix."""

    def __init__(self, url: str, prefix: str, forget_seconds: int):
        import redis  # only where Redis is configured

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self.ttl = forget_seconds
        self._add_failure = self.redis.register_script(_ADD_FAILURE)

    def _key(self, scope: ThrottleScope, key: str) -> str:
        return f"{self.prefix}{scope}:{key}"

    def read(self, scope: ThrottleScope, key: str) -> tuple[int, datetime | None]:
        failures, last = self.redis.hmget(self._key(scope, key), "failures", "last")
        if failures is None or last is None:
            return 0, None
        return int(failures), datetime.fromtimestamp(float(last), UTC)

    def add_failure(self, scope: ThrottleScope, key: str, *, now: datetime, forget_before: datetime) -> None:
        self._add_failure(keys=[self._key(scope, key)], args=[now.timestamp(), forget_before.timestamp(), self.ttl])

    def clear(self, scope: ThrottleScope, key: str) -> None:
        self.redis.delete(self._key(scope, key))


def _counters() -> DatabaseCounters | RedisCounters:
    config = current_app.config
    if not config.get("THROTTLE_REDIS_URL"):
        return DatabaseCounters()
    counters = current_app.extensions.get("safehold_throttle_counters")
    if counters is None:
        counters = current_app.extensions["safehold_throttle_counters"] = RedisCounters(
            config["THROTTLE_REDIS_URL"], config["THROTTLE_REDIS_PREFIX"], config["THROTTLE_FORGET_SECONDS"])
    return counters
