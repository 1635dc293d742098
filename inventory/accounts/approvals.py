"""Four-eyes approvals: a change one admin asks for and another admin carries out by
approving it (giving a role that opens survivors' personal data; resetting someone's second
factor). Nobody decides their own request, nor one about themselves; every other active
admin is told of a request at once; a request nobody decides within APPROVAL_DAYS expires.

`KINDS` says what approving each kind does: adding a kind is one line there. If no other
admin can decide, the server's operator can (`flask --app inventory grant-role`), audited.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exc, select

from inventory import clock
from inventory.accounts.models import AdminApproval, ApprovalOutcome, User
from inventory.accounts.roles import apply_role_change, refuse_lead_only_elsewhere
from inventory.accounts.two_factor import reset_second_factor
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice, announce, announcement_ended
from inventory.parsing import Fields
from inventory.permissions import Role

APPROVALS_PAGE = "/admin/approvals"
NOTICE_KIND = "approval_requested"
REASON_MAX = 500


def _grant_role(user: User, *, actor: User | None, role: str) -> None:
    refuse_lead_only_elsewhere({Role(role)}, user.organisation)
    apply_role_change(user, added={Role(role)}, actor=actor)


@dataclass(frozen=True)
class ApprovalKind:
    describe: Callable[..., str]  # (**payload) -> what approving does, for people
    carry_out: Callable[..., None]  # (subject_user, *, actor, **payload): done when approved


KINDS: dict[str, ApprovalKind] = {
    "grant_role": ApprovalKind(lambda role: f"Give the {Role(role).label.lower()} role", _grant_role),
    "reset_second_factor": ApprovalKind(lambda: "Reset their two-factor sign-in", reset_second_factor),
}


class ApprovalExpired(Conflict):
    code = "approval_expired"

    def __init__(self):
        super().__init__("This request has expired: nobody decided it in time. Ask for the change again.")


def describe(approval: AdminApproval) -> str:
    return KINDS[approval.kind].describe(**approval.values)


# Asking -----------------------------------------------------------------------------------

def request_approval(kind: str, subject: User, *, actor: User, **payload) -> AdminApproval:
    """Record that `actor` asks for this change, and tell every other active admin at once.
    Asking again for a change already waiting is the same request."""
    if kind not in KINDS:
        raise ValueError(f"unknown approval kind {kind!r}")
    now = clock.now()
    key = AdminApproval.canonical(payload)
    same = (AdminApproval.kind == kind, AdminApproval.subject_user_id == subject.id, AdminApproval.payload == key,
            AdminApproval.outcome.is_(None))
    for overdue in db.session.scalars(select(AdminApproval).where(*same, AdminApproval.expires_at <= now)):
        _expire(overdue, now)
    waiting = db.session.scalar(select(AdminApproval).where(*same))
    if waiting is not None:
        return waiting
    approval = AdminApproval(kind=kind, subject_user_id=subject.id, payload=key, requested_by_id=actor.id,
                             requested_at=now, expires_at=now + timedelta(days=current_app.config["APPROVAL_DAYS"]))
    try:
        with db.session.begin_nested():  # a second admin's identical request a moment ago wins
            db.session.add(approval)
    except exc.IntegrityError:
        return db.session.scalar(select(AdminApproval).where(*same))
    record_event(AuditEventKind.APPROVAL_REQUESTED, actor=actor, subject_user=subject, approval_id=approval.id,
                 approval_kind=kind, **payload)
    announce(Notice(kind=NOTICE_KIND, subject=f"approval:{approval.id}", link=APPROVALS_PAGE,
                    message=f"Another admin asks: {describe(approval)} to a user. A second admin must approve "
                            "or refuse it.", roles=(Role.ADMIN.value,)),
             exclude_user_ids=(actor.id, subject.id))
    return approval


def deciders_exist(approval: AdminApproval) -> bool:
    """Whether any active admin may decide it (not the one who asked, nor its subject)."""
    return db.session.scalar(select(User.id).where(
        User.active.is_(True), User.holding(Role.ADMIN),
        User.id.not_in((approval.requested_by_id, approval.subject_user_id))).limit(1)) is not None


def pending_query(now: datetime | None = None):
    """SELECT of the requests still waiting (not yet expired), oldest first."""
    return (select(AdminApproval)
            .where(AdminApproval.outcome.is_(None), AdminApproval.expires_at > (now or clock.now()))
            .order_by(AdminApproval.requested_at, AdminApproval.id))


def pending_for(user: User) -> list[AdminApproval]:
    return db.session.scalars(pending_query().where(AdminApproval.subject_user_id == user.id)).all()


# Deciding ---------------------------------------------------------------------------------

def approve(approval: AdminApproval, *, actor: User, reason: str) -> None:
    """A second admin approves: the change is made now, by them."""
    approval = _decidable(approval, actor=actor)
    reason = _reason(reason)
    KINDS[approval.kind].carry_out(approval.subject_user, actor=actor, **approval.values)
    _decide(approval, ApprovalOutcome.APPROVED, actor=actor, reason=reason)


def refuse(approval: AdminApproval, *, actor: User, reason: str) -> None:
    """A second admin refuses: nothing changes."""
    approval = _decidable(approval, actor=actor)
    _decide(approval, ApprovalOutcome.REFUSED, actor=actor, reason=_reason(reason))


def withdraw(approval: AdminApproval, *, actor: User) -> None:
    """The admin who asked takes the request back."""
    approval = _locked_pending(approval)
    if approval.requested_by_id != actor.id:
        raise NotAllowed("Only the admin who asked can withdraw a request; another admin refuses it.")
    _decide(approval, ApprovalOutcome.WITHDRAWN, actor=actor, reason="")


def carry_out_as_operator(kind: str, subject: User, *, reason: str, **payload) -> AdminApproval:
    """The server's operator makes the change (`flask grant-role`), when no second admin can:
    approving the request waiting for it, or recording one of their own, approved, with
    `reason`. Either way the approvals history and the audit log keep it."""
    reason = _reason(reason)
    key = AdminApproval.canonical(payload)
    approval = db.session.scalar(pending_query().where(
        AdminApproval.kind == kind, AdminApproval.subject_user_id == subject.id, AdminApproval.payload == key))
    if approval is None:
        now = clock.now()
        approval = AdminApproval(kind=kind, subject_user_id=subject.id, payload=key, requested_at=now, expires_at=now)
        db.session.add(approval)
        db.session.flush()
    else:
        approval = _locked_pending(approval)
    KINDS[kind].carry_out(subject, actor=None, **payload)
    _decide(approval, ApprovalOutcome.APPROVED, actor=None, reason=reason)
    return approval


def expire_approvals_job(now: datetime) -> JobOutcome:
    """A scheduled job: requests nobody decided within APPROVAL_DAYS expire (audited)."""
    overdue = db.session.scalars(select(AdminApproval).where(
        AdminApproval.outcome.is_(None), AdminApproval.expires_at <= now).with_for_update(of=AdminApproval)).all()
    for approval in overdue:
        _expire(approval, now)
    return JobOutcome(counts={"approvals_expired": len(overdue)})


def _locked_pending(approval: AdminApproval) -> AdminApproval:
    approval = db.session.scalar(select(AdminApproval).where(AdminApproval.id == approval.id)
                                 .with_for_update(of=AdminApproval).execution_options(populate_existing=True))
    if not approval.is_pending:
        raise Conflict(f"This request was already {approval.outcome}.", code="already_decided")
    if approval.expires_at <= clock.now():
        raise ApprovalExpired()
    return approval


def _decidable(approval: AdminApproval, *, actor: User) -> AdminApproval:
    approval = _locked_pending(approval)
    if approval.requested_by_id == actor.id:
        raise NotAllowed("You asked for this change: another admin must decide it.")
    if approval.subject_user_id == actor.id:
        raise NotAllowed("This change is about you: another admin must decide it.")
    return approval


def _reason(reason: str) -> str:
    fields = Fields({"reason": reason})
    text = fields.text("reason", max_length=REASON_MAX)
    if fields.errors:
        raise InvalidInput("Say why.", fields={"reason": "Say why (at most 500 characters)."})
    return text


def _decide(approval: AdminApproval, outcome: ApprovalOutcome, *, actor: User | None, reason: str) -> None:
    approval.outcome, approval.decided_at = str(outcome), clock.now()
    approval.decided_by_id = actor.id if actor is not None else None
    approval.reason = reason
    kind = {ApprovalOutcome.APPROVED: AuditEventKind.APPROVAL_APPROVED,
            ApprovalOutcome.REFUSED: AuditEventKind.APPROVAL_REFUSED,
            ApprovalOutcome.WITHDRAWN: AuditEventKind.APPROVAL_WITHDRAWN}[outcome]
    record_event(kind, actor=actor, subject_user=approval.subject_user, approval_id=approval.id,
                 approval_kind=approval.kind, by_operator=actor is None, **approval.values)
    db.session.flush()
    announcement_ended(NOTICE_KIND, f"approval:{approval.id}")


def _expire(approval: AdminApproval, now: datetime) -> None:
    approval.outcome, approval.decided_at = str(ApprovalOutcome.EXPIRED), now
    record_event(AuditEventKind.APPROVAL_EXPIRED, subject_user=approval.subject_user, approval_id=approval.id,
                 approval_kind=approval.kind, **approval.values)
    db.session.flush()
    announcement_ended(NOTICE_KIND, f"approval:{approval.id}")
