"""What happens after a correct password, in the browser's session.

Someone with two-factor on is not signed in yet: the session holds only a short-lived
pending sign-in (their user id, when it started and ends, where to go next), with no login
session, until a code is accepted. Someone whose role requires two-factor and who has not
set it up is taken to set it up first, and is signed in only once it is on.

The wrong codes of a pending sign-in are counted in the audit log, not in the cookie, so
replaying an older cookie does not earn more guesses.
"""
from datetime import UTC, datetime, timedelta

from flask import after_this_request, redirect, request, session, url_for
from flask_login import login_user

from inventory import clock
from inventory.accounts import devices, operations, two_factor
from inventory.accounts.models import User
from inventory.accounts.reauth import mark_authenticated
from inventory.extensions import db

PENDING_KEY = "pending_sign_in"
PENDING_FOR = timedelta(minutes=5)
CODE = "code"  # the person has two-factor on: type a code
ENROL = "enrol"  # the person's role requires two-factor: set it up


def after_password(user: User, next_url: str | None):
    """The answer to a correct password: signed in, or on to the second step."""
    if user.two_factor_enabled:
        _start_pending(user, CODE, next_url)
        return redirect(url_for("two_factor.sign_in_code"))
    if two_factor.is_required_for(user):
        two_factor.begin_enrolment(user)
        _start_pending(user, ENROL, next_url)
        return redirect(url_for("two_factor.set_up_at_sign_in"))
    return redirect(complete_sign_in(user, next_url))


def complete_sign_in(user: User, next_url: str | None) -> str:
    """Sign `user` in, in a fresh session (no fixation); the browser becomes (or stays) a
    known device of theirs. Returns where to go next."""
    session.clear()
    session[operations.SESSION_TOKEN_KEY] = operations.start_login_session(user)
    login_user(user)
    mark_authenticated()
    device = devices.remember_device(user, devices.token_from_cookie(), user_agent=request.user_agent.string)

    @after_this_request
    def keep_device_cookie(response):
        devices.set_cookie(response, device)
        return response

    return next_url or url_for("main.home")


def _start_pending(user: User, purpose: str, next_url: str | None) -> None:
    session.clear()
    now = clock.now().timestamp()
    session[PENDING_KEY] = {"user_id": user.id, "purpose": purpose, "started": now,
                            "until": now + PENDING_FOR.total_seconds(), "next": next_url}


def end_pending() -> None:
    session.pop(PENDING_KEY, None)


def pending_next_url() -> str | None:
    return (session.get(PENDING_KEY) or {}).get("next")


def pending_user(purpose: str) -> User | None:
    """The person half-way through signing in for `purpose`, while that is still valid:
    not expired, still active, still in that state, not out of guesses. Else None (and the
    pending state is dropped)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("purpose") != purpose:
        return None
    user = db.session.get(User, pending["user_id"])
    still = (
        user is not None and user.active and user.organisation.active
        and clock.now().timestamp() <= pending["until"]
        and (user.two_factor_enabled if purpose == CODE else not user.two_factor_enabled)
        and code_guesses_left(user) > 0
    )
    if not still:
        end_pending()
        return None
    return user


def code_guesses_left(user: User) -> int:
    """Wrong codes still allowed in this pending sign-in."""
    started = datetime.fromtimestamp(session[PENDING_KEY]["started"], UTC)
    return two_factor.CODE_FAILURE_LIMIT - two_factor.code_failures_since(user, started)
