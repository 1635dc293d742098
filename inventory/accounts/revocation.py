"""Ending all of a user's sessions, or revoking all their API tokens, at once: when what
they were given no longer holds (password changed or reset, roles changed, user
deactivated, second factor reset)."""
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import ApiToken, LoginSession, TokenRevocation, User
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.extensions import db


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere."""
    now = clock.now()
    for login_session in db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        login_session.ended_at = now


def revoke_all_tokens(user: User, reason: TokenRevocation, actor: User) -> None:
    """Revoke every working token of `user`: what they were given to do no longer holds."""
    now = clock.now()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.working(now))).all()
    for token in tokens:
        token.revoked_at, token.revoked_reason = now, reason
    if tokens:
        record_event(AuditEventKind.API_TOKEN_REVOKED, actor=actor, subject_user=user, reason=reason,
                     count=len(tokens))
