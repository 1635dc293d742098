"""Small writes made after a request, on a connection of their own, that a busy database may
skip: when an API token was last used, and the end of a session that timed out.

The request's own transaction does not make them: a read (GET) commits nothing, and writing
there would turn a read into a write that waits for, or on SQLite fails on, the database's
write lock. Each here waits only briefly for a lock and, if it cannot have it, is logged
(with ids, never secrets) and dropped:
- a token's last use is recorded at most once a minute (a conditional UPDATE; on PostgreSQL
  it skips a row another request is updating), so the next use records it;
- a timed-out session is refused on every request anyway (its cookie is cleared and its age
  checked), and housekeeping deletes sessions past the absolute timeout.
"""
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from inventory.accounts.models import ApiToken, LoginSession
from inventory.database import brief_write

log = logging.getLogger(__name__)

TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def worth_recording(token: ApiToken, now: datetime) -> bool:
    """Whether this use would change the token's recorded last use (most requests do not)."""
    return token.last_used_at is None or token.last_used_at <= now - TOKEN_USE_RESOLUTION


def record_token_use(engine: Engine, token_id: int, now: datetime) -> None:
    """The token was used at `now`, unless a use within the last minute is recorded."""
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION)
    this_one = select(ApiToken.id).where(ApiToken.id == token_id, stale)
    try:
        with brief_write(engine) as connection:
            if connection.dialect.name == "postgresql":
                this_one = this_one.with_for_update(skip_locked=True)
            connection.execute(update(ApiToken).where(ApiToken.id.in_(this_one)).values(last_used_at=now))
    except DBAPIError as error:
        log.warning("last use of API token %s not recorded (%s)", token_id, type(error.orig).__name__)


def end_login_session_quietly(engine: Engine, login_session_id: int, now: datetime) -> None:
    """End a sign-in session that timed out, if it is still open."""
    try:
        with brief_write(engine) as connection:
            connection.execute(update(LoginSession).where(LoginSession.id == login_session_id,
                                                          LoginSession.ended_at.is_(None)).values(ended_at=now))
    except DBAPIError as error:
        log.warning("timed-out session %s not ended (%s)", login_session_id, type(error.orig).__name__)
