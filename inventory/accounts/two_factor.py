"""Two-factor sign-in: six-digit codes from an authenticator app (TOTP, RFC 6238, computed by
pyotp) and one-time recovery codes for a lost phone.

The rules:
- A code is accepted for the current 30-second time step or one either side (a phone's
  clock drifts, people type slowly), and only for a step later than the last one accepted
  for that user: the same code never works twice, nor does an older one.
- Recovery codes: ten random ones, shown once; only their SHA-256 is stored; each works once.
  Making new ones voids the old.
- Enrolment: a secret is made and shown (QR code and typed key); two-factor is on only once
  a current code from it has been typed.
- Roles in TWO_FACTOR_REQUIRED_ROLES must use it: they cannot turn it off themselves; an
  admin may reset someone else's (then they set it up again at their next sign-in).

Codes and secrets never reach the audit log or any log.
"""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from inventory import clock
from inventory.accounts.models import RecoveryCode, User
from inventory.accounts.revocation import end_all_sessions
from inventory.accounts.passwords import verify_password
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.permissions import Role

VALID_WINDOW = 1  # time steps either side of now
CODE_DIGITS = 6
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o or 1/l/i to misread
CODE_FAILURE_LIMIT = 5  # wrong codes in one pending sign-in, then back to the password


class WrongCode(InvalidInput):
    def __init__(self, field: str = "code"):
        message = ("That code is not right, or was used already. Type the code your app shows now."
                   if field == "code" else "That recovery code is not right, or was used already.")
        super().__init__(message, fields={field: message})


# The rules, without the database -----------------------------------------------------

def parse_code(typed: str | None) -> str:
    """The six digits of a typed code (spaces allowed, as apps show "123 456")."""
    code = "".join((typed or "").split())
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        message = f"Type the {CODE_DIGITS} digits your authenticator app shows."
        raise InvalidInput(message, fields={"code": message})
    return code


def matching_step(secret: str, code: str, at: datetime, *, after_step: int | None) -> int | None:
    """The time step at which `code` is valid around `at` (that step or one either side),
    provided it is later than `after_step`, the last one accepted; otherwise None."""
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_code() -> str:
    """Ten random characters (about 50 bits), shown as two groups of five: "abcde-fghjk"."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_hash(typed: str) -> str:
    """The stored form of a recovery code; case, spaces and dashes do not matter."""
    normal = "".join(ch for ch in (typed or "").lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def key_in_groups(secret: str) -> str:
    """The secret as people type it into an app: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@dataclass(frozen=True)
class Enrolment:
    """What a person needs to add SafeHold to their authenticator app."""
    uri: str  # otpauth://totp/<service>:<email>?secret=...&issuer=<service>, shown as a QR code
    key: str  # the secret in groups of four, to type instead


# Who must use it ---------------------------------------------------------------------

def required_roles() -> set[Role]:
    return {Role(role) for role in current_app.config["TWO_FACTOR_REQUIRED_ROLES"]}


def is_required_for(user: User) -> bool:
    return bool(user.role_set & required_roles())


# Enrolment ---------------------------------------------------------------------------

def begin_enrolment(user: User) -> None:
    """A new secret for `user`, not in use until `confirm_enrolment` (starting again
    replaces one not yet confirmed)."""
    if user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on.", code="two_factor_on")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None


def enrolment_for(user: User) -> Enrolment | None:
    """The pending enrolment's QR payload and key (None when none is pending)."""
    if user.two_factor_enabled or user.totp_secret is None:
        return None
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email,
                                                       issuer_name=current_app.config["SERVICE_NAME"])
    return Enrolment(uri=uri, key=key_in_groups(user.totp_secret))


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn two-factor on once the person proves their app has the secret; returns the
    recovery codes, to show once."""
    if user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on.", code="two_factor_on")
    if user.totp_secret is None:
        raise Conflict("Start setting up two-factor sign-in again.", code="no_enrolment")
    _accept_code(user, code)
    user.two_factor_enabled_at = clock.now()
    record_event(AuditEventKind.SECOND_FACTOR_ENROLLED, actor=user, subject_user=user)
    return _replace_recovery_codes(user)


def regenerate_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    if not user.two_factor_enabled:
        raise Conflict("Turn on two-factor sign-in first.", code="two_factor_off")
    codes = _replace_recovery_codes(user)
    record_event(AuditEventKind.RECOVERY_CODES_REGENERATED, actor=user, subject_user=user)
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_code_hash(code)) for code in codes)
    db.session.flush()
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable_second_factor(user: User, *, password: str) -> None:
    """A person turns off their own two-factor sign-in, with their password; not when one
    of their roles requires it."""
    if is_required_for(user):
        raise Conflict("Your role requires two-factor sign-in, so it stays on.", code="two_factor_required")
    if not verify_password(user.password_hash, password):
        message = "That is not your password."
        raise InvalidInput(message, fields={"password": message})
    if not user.two_factor_enabled and user.totp_secret is None:
        return
    _clear(user)
    record_event(AuditEventKind.SECOND_FACTOR_DISABLED, actor=user, subject_user=user)


def reset_second_factor(user: User, *, actor: User) -> None:
    """An admin clears someone else's second factor (a lost phone and no recovery codes):
    secret and recovery codes go, and every session of theirs ends. If their role requires
    two-factor, they set it up again at their next sign-in."""
    if user.id == actor.id:
        raise Conflict("You cannot reset your own two-factor sign-in; ask another admin.",
                       code="cannot_reset_own_second_factor")
    _clear(user)
    end_all_sessions(user)
    record_event(AuditEventKind.SECOND_FACTOR_RESET, actor=actor, subject_user=user)


# Signing in --------------------------------------------------------------------------

def _accept_code(user: User, typed: str) -> None:
    """Accept a current code once. The step is claimed with one conditional UPDATE, so of
    two requests racing with the same code only one succeeds."""
    step = matching_step(user.totp_secret, parse_code(typed), clock.now(), after_step=user.totp_last_step)
    if step is None:
        raise WrongCode()
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    if claimed.rowcount != 1:
        raise WrongCode()


def check_sign_in_code(user: User, typed: str) -> None:
    """The second step of signing in, with a code from the app. A refusal is recorded
    (the caller keeps it despite the refusal)."""
    try:
        _accept_code(user, typed)
    except InvalidInput:
        record_code_failure(user, via="app")
        raise


def check_recovery_code(user: User, typed: str) -> int:
    """The second step of signing in with a recovery code, which is spent; returns how many
    are left. A refusal is recorded (the caller keeps it)."""
    spent = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == recovery_code_hash(typed),
               RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        record_code_failure(user, via="recovery_code")
        raise WrongCode("recovery_code")
    left = recovery_codes_left(user)
    record_event(AuditEventKind.RECOVERY_CODE_USED, actor=user, subject_user=user, left=left)
    return left


def record_code_failure(user: User, *, via: str) -> None:
    """A wrong second-factor code: an audit event, counted per pending sign-in (and by the
    sign-in throttle, like a wrong password)."""
    record_event(AuditEventKind.SECOND_FACTOR_FAILED, subject_user=user, via=via)


def code_failures_since(user: User, since: datetime) -> int:
    """Wrong second-factor codes for `user` since `since` (one statement)."""
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.kind == AuditEventKind.SECOND_FACTOR_FAILED,
        AuditEvent.subject_user_id == user.id,
        AuditEvent.occurred_at >= since,
    ))
