"""Housekeeping, a scheduled job: delete the records that can no longer do anything.

- Idempotency records older than IDEMPOTENCY_KEY_HOURS: past its window a key is no
  longer remembered (a retry comes within minutes, not days).
- Ended sign-in sessions (signed out, password changed, user deactivated, timed out): a
  session is only ever ended, never restarted, so its row is dead at once; and sessions
  begun SESSION_ABSOLUTE_HOURS ago or more, which no browser can use any longer (the idle
  timeout lives in the browser's cookie, which the server does not see, so a session
  merely idle stays until then).
- API tokens revoked, or expired, more than REVOKED_TOKEN_KEEP_DAYS ago (until then their
  owner still sees them listed, greyed).
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
    """Delete expired idempotency records, ended or timed-out sessions, tokens long revoked
    or expired, stale throttle counters and long-unused devices; counts how many of each."""
    config = current_app.config
    key_window = timedelta(hours=config["IDEMPOTENCY_KEY_HOURS"])
    token_grace = timedelta(days=config["REVOKED_TOKEN_KEEP_DAYS"])
    session_limit = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    counts = {
        "idempotency_records": _delete(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - key_window)),
        "login_sessions": _delete(delete(LoginSession).where(
            LoginSession.ended_at.is_not(None) | (LoginSession.created_at <= now - session_limit))),
        "api_tokens": _delete(delete(ApiToken).where(
            (ApiToken.revoked_at < now - token_grace) | (ApiToken.expires_at < now - token_grace))),
        "sign_in_counters": forget_stale_counters(now),
        "known_devices": forget_unused_devices(now),
    }
    return JobOutcome(counts=counts)


def _delete(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
