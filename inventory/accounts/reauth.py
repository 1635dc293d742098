"""Re-authentication before sensitive actions (exports with personal data, role changes,
month close, anonymise now): a signed-in person must have typed their password within the
last REAUTH_SECONDS, so an unlocked browser left on a desk cannot do them.

The moment of the last password check lives in the signed session cookie. API calls with a
bearer token pass: the token itself is the credential, and it has its own expiry.
"""
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for

from inventory import clock

SESSION_KEY = "authenticated_at"


def mark_authenticated() -> None:
    """The person has just proved who they are (signed in, or confirmed their password)."""
    session[SESSION_KEY] = clock.now().timestamp()


def recently_authenticated() -> bool:
    at = session.get(SESSION_KEY)
    return isinstance(at, int | float) and clock.now().timestamp() - at <= current_app.config["REAUTH_SECONDS"]


def _by_token() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _return_to() -> str:
    """Where to come back after confirming: the page itself for a read; for a form's post,
    the page the form was on (the person presses its button again)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    from inventory.accounts.views import safe_next_url

    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    path = referrer[len(host):] if referrer.startswith(host) else ""
    return safe_next_url(path) or url_for("main.home")


def reauthentication_required(view=None, *, methods=None):
    """View decorator, placed under the access decorator: unless the password was confirmed
    recently, send the person to confirm it first (and, for a form, to press it again).
    `@reauthentication_required(methods={"POST"})` asks only when the form is sent (a page
    whose GET shows the form, and whose POST makes the sensitive change)."""
    if view is None:
        return lambda inner: reauthentication_required(inner, methods=methods)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if (methods is not None and request.method not in methods) or _by_token() or recently_authenticated():
            return view(*args, **kwargs)
        if request.method != "GET":
            flash("For your safety, confirm your password, then do that again.", "info")
        return redirect(url_for("accounts.confirm_password", next=_return_to()))

    wrapped.needs_reauthentication = True
    return wrapped
