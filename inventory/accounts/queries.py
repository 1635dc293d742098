"""Read-side questions about people and their security events, for admins: how many users
(by role, not yet signed in), how many sign-in names are being slowed, the recent security
events. Each is one statement, counted in SQL.

The audit log's queries that name users live here, not in `inventory.audit`: the audit log
sits below accounts (accounts writes to it), as the audit pages do.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from inventory.accounts.models import ApiToken, User, UserRole
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.extensions import db
from inventory.permissions import Role

K = AuditEventKind
# What an admin watches for: failed and throttled sign-ins, wrong second-factor codes,
# changes to who may do what and how they sign in (and the requests for a second admin's
# approval), API tokens, reveals refused beyond the rate and exports of the access log.
# (Routine sign-ins, sign-outs, one's own password changes and enrolling in two-factor are
# left out.)
SECURITY_EVENT_KINDS = (K.LOGIN_FAILED, K.LOGIN_THROTTLED, K.SECOND_FACTOR_FAILED, K.USER_CREATED, K.ROLES_CHANGED,
                        K.USER_DEACTIVATED, K.USER_REACTIVATED, K.PASSWORD_RESET, K.SECOND_FACTOR_RESET,
                        K.SECOND_FACTOR_DISABLED, K.RECOVERY_CODE_USED, K.API_TOKEN_CREATED, K.API_TOKEN_REVOKED,
                        K.APPROVAL_REQUESTED, K.APPROVAL_APPROVED, K.APPROVAL_REFUSED, K.REVEALS_THROTTLED,
                        K.ACCESS_LOG_EXPORTED)


@dataclass(frozen=True)
class UserCounts:
    active: int
    inactive: int
    never_signed_in: int  # active, and not signed in yet
    by_role: dict[Role, int]  # active users holding each role (a user may hold several)


def user_counts() -> UserCounts:
    """Users active and not, active ones yet to sign in (one statement), and active users per
    role (one grouped statement)."""
    active, inactive, never = db.session.execute(select(
        func.count().filter(User.active.is_(True)), func.count().filter(User.active.is_(False)),
        func.count().filter(User.active.is_(True), User.last_login_at.is_(None)))).one()
    held = dict(db.session.execute(
        select(UserRole.role, func.count()).join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True)).group_by(UserRole.role)).all())
    return UserCounts(active, inactive, never, {role: held.get(str(role), 0) for role in Role})


def slowed_sign_in_count(now: datetime) -> int:
    """Sign-in names being slowed down at `now`: those with more failed sign-ins than the
    throttle lets through freely, within the time it remembers them (one statement, over the
    audit log, wherever the throttle keeps its counters)."""
    config = current_app.config
    since = now - timedelta(seconds=config["THROTTLE_FORGET_SECONDS"])
    slowed = (select(AuditEvent.subject_key)
              .where(AuditEvent.kind == K.LOGIN_FAILED, AuditEvent.subject_key.is_not(None),
                     AuditEvent.occurred_at >= since, AuditEvent.occurred_at <= now)
              .group_by(AuditEvent.subject_key).having(func.count() > config["THROTTLE_LIMITS"]["account"]["free"])
              .subquery())
    return db.session.scalar(select(func.count()).select_from(slowed))


def security_event_counts(since: datetime) -> dict[AuditEventKind, int]:
    """Security events since `since`, counted per kind (one grouped statement)."""
    found = dict(db.session.execute(
        select(AuditEvent.kind, func.count())
        .where(AuditEvent.kind.in_([str(kind) for kind in SECURITY_EVENT_KINDS]), AuditEvent.occurred_at >= since)
        .group_by(AuditEvent.kind)).all())
    return {kind: found.get(str(kind), 0) for kind in SECURITY_EVENT_KINDS}


@dataclass(frozen=True)
class SecurityEvent:
    id: int
    occurred_at: datetime
    kind: AuditEventKind
    actor_email: str | None  # who did it (none for a failed sign-in)
    subject_email: str | None  # whom it was about, when a known user

    @property
    def label(self) -> str:
        return str(self.kind).replace("_", " ").capitalize()


def recent_security_events(*, limit: int = 10) -> list[SecurityEvent]:
    """The latest `limit` security events, newest first, with who did it and to whom (one statement)."""
    actor, subject = aliased(User), aliased(User)
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.kind, actor.email, subject.email)
        .outerjoin(actor, actor.id == AuditEvent.actor_id).outerjoin(subject, subject.id == AuditEvent.subject_user_id)
        .where(AuditEvent.kind.in_([str(kind) for kind in SECURITY_EVENT_KINDS]))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit))
    return [SecurityEvent(event_id, occurred_at, AuditEventKind(kind), actor_email, subject_email)
            for event_id, occurred_at, kind, actor_email, subject_email in rows]


def tokens_of(user: User) -> list[ApiToken]:
    """A user's API tokens, newest first: working, revoked and expired alike (housekeeping
    deletes the dead ones after REVOKED_TOKEN_KEEP_DAYS)."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
