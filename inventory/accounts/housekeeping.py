"""Housekeeping, a scheduled job: delete the records that can no longer do anything.

- Idempotency records older than IDEMPOTENCY_KEY_HOURS: past its window a key is no
  longer remembered (a retry comes within minutes, not days).
- Ended sign-in sessions (signed out, password changed, user deactivated): a session is
  only ever ended, never restarted, so its row is dead at once. Open sessions stay: the
  server does not record when one was last used, so it cannot tell an abandoned one
  from one in use (the cookie's signature expires PERMANENT_SESSION_LIFETIME after its
  last change, which the server does not see).
- API tokens revoked more than REVOKED_TOKEN_KEEP_DAYS ago. Tokens have no expiry, so an
  unrevoked token is never deleted, however old.
- Sign-in throttle counters with no failure for THROTTLE_FORGET_SECONDS (they count from
  zero again anyway), and known devices not seen for DEVICE_COOKIE_DAYS (their cookie has
  expired).

The audit log keeps who signed in and out and which tokens were made and revoked; these
rows held only hashes. Deleting what is already gone changes nothing, so a second run
deletes nothing.
"""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from inventory.accounts.devices import forget_unused_devices
from inventory.accounts.models import ApiToken, LoginSession
from inventory.accounts.throttle import forget_stale_counters
from inventory.api.idempotency import IdempotencyRecord
from inventory.extensions import db
from inventory.notices import JobOutcome


def housekeeping_job(now: datetime) -> JobOutcome:
    """Delete expired idempotency records, ended sessions, long-revoked tokens, stale throttle
    counters and long-unused devices; counts how many of each."""
    config = current_app.config
    key_window = timedelta(hours=config["IDEMPOTENCY_KEY_HOURS"])
    token_grace = timedelta(days=config["REVOKED_TOKEN_KEEP_DAYS"])
    counts = {
        "idempotency_records": _delete(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - key_window)),
        "login_sessions": _delete(delete(LoginSession).where(LoginSession.ended_at.is_not(None))),
        "api_tokens": _delete(delete(ApiToken).where(ApiToken.revoked_at < now - token_grace)),
        "sign_in_counters": forget_stale_counters(now),
        "known_devices": forget_unused_devices(now),
    }
    return JobOutcome(counts=counts)


def _delete(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
