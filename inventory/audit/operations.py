"""The one writer for each log. Adds to the session; the use case's commit saves it."""
from flask import has_request_context, request

from inventory.audit.models import AccessLogEntry, AuditEvent, AuditEventKind
from inventory.extensions import db


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


def record_access(user, *, case_id: int, what: str, reason: str) -> AccessLogEntry:
    """Log a view of a survivor's personal data (address, contact details, export)."""
    entry = AccessLogEntry(
        user_id=user.id, case_id=case_id, what=what, reason=reason, remote_addr=_remote_addr()
    )
    db.session.add(entry)
    return entry
