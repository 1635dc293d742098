"""Revoking all of a user's API tokens at once: when what they were given to do no longer
holds (password changed or reset, roles changed, user deactivated)."""
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import ApiToken, TokenRevocation, User
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.extensions import db


def revoke_all_tokens(user: User, reason: TokenRevocation, actor: User) -> None:
    """Revoke every working token of `user`: what they were given to do no longer holds."""
    now = clock.now()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.working(now))).all()
    for token in tokens:
        token.revoked_at, token.revoked_reason = now, reason
    if tokens:
        record_event(AuditEventKind.API_TOKEN_REVOKED, actor=actor, subject_user=user, reason=reason,
                     count=len(tokens))
