"""Device cookies: a browser that has signed in as a user is known for that user.

After a successful sign-in the browser keeps a long-lived cookie holding a random token,
signed with SECRET_KEY; the server keeps the token's SHA-256 with the user's id. One cookie
per browser: a second person signing in on the same computer adds a row for the same
token. Sign-ins from a known device are slowed only by that device's own failures (see
`throttle`); a sign-in from a new one is recorded (audit NEW_DEVICE_SIGN_IN) and shown to
the user on their devices page.
"""
import secrets
from datetime import datetime, timedelta

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from inventory import clock
from inventory.accounts.models import KnownDevice, User
from inventory.accounts.throttle import device_token_hash
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.extensions import db

# How far back the devices page announces "Signed in from a new device on ...".
NEW_DEVICE_NOTICE_DAYS = 30

_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str | None) -> str:
    """A coarse name for a browser ("Firefox on Windows") from a fixed vocabulary, so that
    nothing the browser sends is stored as it was sent."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "A browser")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "another system")
    return f"{browser} on {system}"


def remember_device(user: User, token: str | None, *, user_agent: str | None) -> str:
    """After a successful sign-in: mark the browser seen, or record it as a new device of the
    user (audited). Returns the token its device cookie should hold."""
    now = clock.now()
    if token:
        device = db.session.scalar(select(KnownDevice).where(
            KnownDevice.user_id == user.id, KnownDevice.token_hash == device_token_hash(token)))
        if device is not None:
            device.last_seen_at = now
            return token
    token = token or secrets.token_urlsafe(32)
    device = KnownDevice(user_id=user.id, token_hash=device_token_hash(token), label=device_label(user_agent),
                         first_seen_at=now, last_seen_at=now)
    db.session.add(device)
    db.session.flush()
    record_event(AuditEventKind.NEW_DEVICE_SIGN_IN, actor=user, subject_user=user, device_id=device.id)
    return token


def devices_of(user: User) -> list[KnownDevice]:
    """The user's known devices, the most recently seen first."""
    return db.session.scalars(select(KnownDevice).where(KnownDevice.user_id == user.id)
                              .order_by(KnownDevice.last_seen_at.desc(), KnownDevice.id.desc())).all()


def new_since() -> datetime:
    """Devices first seen since then are announced as new on the devices page."""
    return clock.now() - timedelta(days=NEW_DEVICE_NOTICE_DAYS)


def forget_unused_devices(now: datetime) -> int:
    """Delete devices not seen for as long as their cookie lasts (housekeeping)."""
    cutoff = now - timedelta(days=current_app.config["DEVICE_COOKIE_DAYS"])
    statement = delete(KnownDevice).where(KnownDevice.last_seen_at < cutoff)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


# The cookie --------------------------------------------------------------------------------

def cookie_name() -> str:
    # __Host-: the browser keeps it only if set Secure, for the whole site, from this host.
    return "__Host-safehold_device" if current_app.config["SESSION_COOKIE_SECURE"] else "safehold_device"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="safehold-device")


def token_from_cookie() -> str | None:
    """The device token of this request's browser, if its cookie is there and genuine."""
    value = request.cookies.get(cookie_name())
    if not value:
        return None
    try:
        token = _signer().loads(value)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def set_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(), _signer().dumps(token), max_age=current_app.config["DEVICE_COOKIE_DAYS"] * 24 * 60 * 60,
        path="/", secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
