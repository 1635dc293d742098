"""Personal details shown for a short while after a logged reveal.

Showing a survivor's details is recorded in the access log by a POST (so a link on another
site cannot make someone's browser log a view in their name), which then redirects to the
page that shows them (post-redirect-get). That page shows them to the same user, for the
same record, for REVEAL_SECONDS, so reloading it or coming Back to it neither logs again
nor meets a resubmission page. The session holds which records and until when, never the
details themselves; the page still checks that the user may see them. The user may hide
them sooner (`forget`); the page hides them itself when the time is up (`seconds_left`).
"""
from flask import current_app, session
from flask_login import current_user

from inventory import clock

SESSION_KEY = "reveals"


def _held() -> dict[str, float]:
    """{"kind:id": until when (a timestamp)} of this user's reveals, expired ones dropped."""
    held = session.get(SESSION_KEY) or {}
    if held.get("user_id") != current_user.id:
        return {}
    now = clock.now().timestamp()
    return {key: until for key, until in held.get("until", {}).items() if until > now}


def remember(kind: str, record_id: int) -> None:
    """Note that this user has just revealed (and logged) this record's details."""
    until = _held()
    until[f"{kind}:{record_id}"] = clock.now().timestamp() + current_app.config["REVEAL_SECONDS"]
    session[SESSION_KEY] = {"user_id": current_user.id, "until": until}


def forget(kind: str, record_id: int) -> None:
    """Stop showing this record's details to this user (they chose to hide them)."""
    until = _held()
    if until.pop(f"{kind}:{record_id}", None) is not None:
        session[SESSION_KEY] = {"user_id": current_user.id, "until": until}


def recently_revealed(kind: str, record_id: int) -> bool:
    return f"{kind}:{record_id}" in _held()


def seconds_left(kind: str, record_id: int) -> int:
    """How long this record's details may still be shown to this user: 0 once the time is up.
    Rounded down, so that a page hiding them after this long never outlasts the server."""
    until = _held().get(f"{kind}:{record_id}")
    return 0 if until is None else max(0, int(until - clock.now().timestamp()))
