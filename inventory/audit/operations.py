"""The one writer for each log. Adds to the session; the use case's commit saves it.

The access log is a hash chain (like the ledger): a writer serialises on the chain's head
(a transaction-scoped advisory lock on PostgreSQL; SQLite's write lock, taken at BEGIN for
writes, elsewhere) and appends the next position with the previous row's hash. Under the
same lock it counts the distinct cases the user opened in the last hour: beyond
REVEAL_RATE_LIMIT a reveal is refused (RevealsThrottled) and admins are told.
"""
import math
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import func, select

from inventory import clock
from inventory import hash_chain
from inventory.audit.models import AccessLogEntry, AuditEvent, AuditEventKind
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.notices import Notice, announce

CHAIN_LOCK_KEY = 0x5AFE_ACCE  # pg_advisory_xact_lock key that serialises appends to the access log
RATE_WINDOW = timedelta(hours=1)
RATE_NOTICE_KIND = "reveals_beyond_rate"


class RevealsThrottled(DomainError):
    """A reveal beyond REVEAL_RATE_LIMIT distinct cases in an hour."""

    code = "throttled"
    status = 429

    def __init__(self, *, limit: int, retry_after_seconds: int, case_id: int):
        minutes = max(1, math.ceil(retry_after_seconds / 60))
        super().__init__(
            f"You have opened the personal details of {limit} different cases in the last hour, the most allowed. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}; admins have been told.",
            details={"limit": limit, "retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
        self.case_id = case_id


def _remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def record_event(kind: AuditEventKind, /, *, actor=None, subject_user=None, subject_key=None,
                 **details) -> AuditEvent:
    entry = AuditEvent(
        kind=str(kind),
        actor_id=actor.id if actor is not None else None,
        subject_user_id=subject_user.id if subject_user is not None else None,
        subject_key=subject_key,
        remote_addr=_remote_addr(),
        details=details,
    )
    db.session.add(entry)
    return entry


def record_access(user, *, case_id: int, case_reference: str, what: str, reason: str,
                  job_id: int | None = None) -> AccessLogEntry:
    """Log a view of a survivor's personal data (address, contact details, export), as the
    next link of the chain; refused (RevealsThrottled) beyond the reveal rate."""
    position, previous_hash = lock_chain()
    now = clock.now()
    _refuse_beyond_rate(user.id, case_id, now)
    entry = AccessLogEntry(
        occurred_at=now, user_id=user.id, case_id=case_id, case_reference=case_reference, job_id=job_id, what=what,
        reason=reason, remote_addr=_remote_addr(), position=position + 1, previous_hash=previous_hash,
    )
    entry.hash = entry.compute_hash()
    db.session.add(entry)
    db.session.flush()
    return entry


def lock_chain() -> tuple[int, str]:
    """Serialise appends to the access log; returns the last row's (position, hash)."""
    return hash_chain.lock_chain(AccessLogEntry, lock_key=CHAIN_LOCK_KEY, last_by=AccessLogEntry.position)


def _refuse_beyond_rate(user_id: int, case_id: int, now: datetime) -> None:
    """Another view of a case already opened this hour is free; a new case beyond the limit
    is refused until the earliest of the hour's cases falls out of the window."""
    limit = current_app.config["REVEAL_RATE_LIMIT"]
    last_seen = dict(db.session.execute(
        select(AccessLogEntry.case_id, func.max(AccessLogEntry.occurred_at))
        .where(AccessLogEntry.user_id == user_id, AccessLogEntry.occurred_at > now - RATE_WINDOW)
        .group_by(AccessLogEntry.case_id)).all())
    if case_id in last_seen or len(last_seen) < limit:
        return
    frees_at = sorted(last_seen.values())[len(last_seen) - limit] + RATE_WINDOW
    raise RevealsThrottled(limit=limit, retry_after_seconds=max(1, math.ceil((frees_at - now).total_seconds())),
                           case_id=case_id)


def record_refused_reveal(user, error: RevealsThrottled) -> None:
    """Audit a refused reveal and tell every other admin at once, at most once an hour per
    user. For the request's boundary, which keeps this although it refuses the reveal."""
    record_event(AuditEventKind.REVEALS_THROTTLED, actor=user, subject_user=user, case_id=error.case_id,
                 limit=error.details["limit"])
    announce(Notice(
        kind=RATE_NOTICE_KIND, subject=f"user:{user.id}", link=f"/admin/access-log?user_id={user.id}",
        message=f"A user opened the personal details of {error.details['limit']} different cases within an hour, "
                "the most REVEAL_RATE_LIMIT allows; their further reveals are refused for now. Review their access.",
        roles=("admin",)), exclude_user_ids=(user.id,), renew_after=RATE_WINDOW)
