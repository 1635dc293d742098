"""Use cases for organisations, users, sign-in sessions and API tokens.

Each function changes the session and raises a DomainError on a broken rule; it never
commits: the request's unit of work (or a CLI command) commits once or rolls back.
"""
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from inventory import clock
from inventory.accounts import approvals, throttle
from inventory.accounts.models import (
    ApiToken,
    LoginSession,
    Organisation,
    OrganisationKind,
    TokenRevocation,
    User,
    UserRole,
)
from inventory.accounts.passwords import burn_verification_time, hash_password, password_problem, verify_password
from inventory.accounts.revocation import end_all_sessions, revoke_all_tokens
from inventory.accounts.roles import PERSONAL_DATA_ROLES, apply_role_change, refuse_lead_only_elsewhere
from inventory.accounts.throttle import Attempt, LoginThrottled  # noqa: F401  (authenticate raises it)
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import Conflict, DomainError, InvalidInput, NotFound
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.permissions import Role

API_TOKEN_PREFIX = "sh_"
SESSION_TOKEN_KEY = "sid"  # where the signed session cookie keeps the login session's token


class WrongPassword(InvalidInput):
    """A signed-in user's password check failed: counted by the throttle, so kept."""


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401

    def __init__(self):
        super().__init__("Email or password is not right.")


class SessionTimedOut(Exception):
    """A browser's session is over: idle too long, or too long since signing in."""

    def __init__(self, login_session_id: int, message: str):
        super().__init__(message)
        self.login_session_id, self.message = login_session_id, message


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# Organisations -----------------------------------------------------------------------

REFERENCE_PREFIX = re.compile(r"^[A-Z]{2,6}$")

reference_prefix_claiming = Hook(
    "reference_prefix_claiming",
    "An organisation is taking a case reference prefix: receivers `(organisation_id, prefix)` refuse "
    "(InvalidInput) when another organisation's cases already start with it (cases).")


def _reference_prefix(prefix: str | None, *, kind: OrganisationKind, organisation_id: int | None) -> str | None:
    """The organisation's case reference prefix, checked: a partner must have one (2 to 6
    letters), held by no other organisation nor starting another organisation's cases, so
    that no organisation's new reference can meet another's."""
    prefix = (prefix or "").strip().upper() or None
    if prefix is None:
        if kind == OrganisationKind.LEAD:
            return None
        raise InvalidInput("A partner agency needs its own case reference prefix.",
                           fields={"case_reference_prefix": "Give 2 to 6 letters, e.g. RA for RA-2026-0142."})
    if not REFERENCE_PREFIX.match(prefix):
        raise InvalidInput("A case reference prefix is 2 to 6 letters.",
                           fields={"case_reference_prefix": "Use 2 to 6 letters, A to Z."})
    held = db.session.scalar(select(Organisation.id).where(Organisation.case_reference_prefix == prefix,
                                                           Organisation.id != organisation_id))
    if held is not None:
        raise InvalidInput("Another organisation has that prefix.",
                           fields={"case_reference_prefix": "Another organisation has that prefix."})
    reference_prefix_claiming.fire(organisation_id, prefix)
    return prefix


def create_organisation(*, name: str, kind: str, actor: User | None,
                        case_reference_prefix: str | None = None) -> Organisation:
    name = name.strip()
    kind = OrganisationKind(kind)
    if db.session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        raise InvalidInput("An organisation with that name already exists.", fields={"name": "Already in use."})
    if kind == OrganisationKind.LEAD and db.session.scalar(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.LEAD)
    ):
        raise InvalidInput("There is already a lead provider.", fields={"kind": "Only one lead provider."})
    prefix = _reference_prefix(case_reference_prefix, kind=kind, organisation_id=None)
    organisation = Organisation(name=name, kind=kind, active=True, case_reference_prefix=prefix)
    db.session.add(organisation)
    db.session.flush()
    record_event(AuditEventKind.ORGANISATION_CREATED, actor=actor, organisation_id=organisation.id, kind=kind)
    return organisation


def update_organisation(organisation: Organisation, *, name: str, active: bool, case_reference_prefix: str | None,
                        actor: User) -> None:
    """Rename, (de)activate, or change the prefix of the organisation's new case references
    (existing references stay as they are)."""
    name = name.strip()
    clash = db.session.scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == name.lower(), Organisation.id != organisation.id)
    )
    if clash:
        raise InvalidInput("An organisation with that name already exists.", fields={"name": "Already in use."})
    if organisation.is_lead and not active:
        raise InvalidInput("The lead provider cannot be deactivated.", fields={"active": "The lead stays active."})
    prefix = _reference_prefix(case_reference_prefix, kind=OrganisationKind(organisation.kind),
                               organisation_id=organisation.id)
    wanted = {"name": name, "active": active, "case_reference_prefix": prefix}
    changed = sorted(k for k, v in wanted.items() if getattr(organisation, k) != v)
    organisation.name, organisation.active, organisation.case_reference_prefix = name, active, prefix
    record_event(AuditEventKind.ORGANISATION_UPDATED, actor=actor, organisation_id=organisation.id, changed=changed)


# Users -------------------------------------------------------------------------------

def _check_roles(roles, organisation: Organisation) -> set[Role]:
    chosen = {Role(r) for r in roles}
    if not chosen:
        raise InvalidInput("Give the user at least one role.", fields={"roles": "Choose at least one role."})
    refuse_lead_only_elsewhere(chosen, organisation)
    return chosen


def _needing_approval(added: set[Role], actor: User | None) -> set[Role]:
    """Of the roles an admin gives, those a second admin must approve: the ones opening
    personal data (PERSONAL_DATA_ROLES). The server's operator (no actor: `create-admin`,
    `grant-role`) gives any at once."""
    return {role for role in added if role in PERSONAL_DATA_ROLES} if actor is not None else set()


def _change_roles(user: User, chosen: set[Role], *, actor: User | None) -> None:
    """Make the user's roles `chosen`: taking a role away is immediate, and so is giving one
    that opens no personal data; the others wait for a second admin (approvals.py)."""
    before = user.role_set
    waiting = _needing_approval(chosen - before, actor)
    apply_role_change(user, added=chosen - before - waiting, removed=before - chosen, actor=actor)
    _ask_approval(user, waiting, actor=actor)


def _ask_approval(user: User, roles: set[Role], *, actor: User) -> None:
    for role in sorted(roles):
        approvals.request_approval("grant_role", user, actor=actor, role=str(role))


def _check_email_free(email: str, user_id: int | None = None) -> None:
    query = select(User.id).where(User.email == email)
    if user_id is not None:
        query = query.where(User.id != user_id)
    if db.session.scalar(query):
        raise InvalidInput("A user with that email already exists.", fields={"email": "Already in use."})


def create_user(*, email: str, name: str, organisation: Organisation, roles, password: str,
                actor: User | None) -> User:
    email = normalise_email(email)
    _check_email_free(email)
    if not organisation.active:
        raise InvalidInput("That organisation is deactivated.", fields={"organisation_id": "Deactivated."})
    chosen = _check_roles(roles, organisation)
    if problem := password_problem(password, email, name):
        raise InvalidInput(problem, fields={"password": problem})
    waiting = _needing_approval(chosen, actor)
    user = User(email=email, name=name.strip(), organisation=organisation, password_hash=hash_password(password))
    user.role_rows = [UserRole(role=str(r)) for r in sorted(chosen - waiting)]  # a new user has no tokens yet
    db.session.add(user)
    db.session.flush()
    record_event(AuditEventKind.USER_CREATED, actor=actor, subject_user=user, roles=sorted(map(str, chosen - waiting)),
                 **({"awaiting_approval": sorted(map(str, waiting))} if waiting else {}))
    _ask_approval(user, waiting, actor=actor)
    return user


def update_user(user: User, *, email: str, name: str, organisation: Organisation, roles, actor: User) -> None:
    email = normalise_email(email)
    _check_email_free(email, user.id)
    chosen = _check_roles(roles, organisation)
    before = user.role_set
    if user.id == actor.id and Role.ADMIN in before and Role.ADMIN not in chosen:
        raise InvalidInput("You cannot remove your own admin role.", fields={"roles": "Keep admin on yourself."})
    changed = sorted(
        field for field, value in {"email": email, "name": name.strip(), "organisation_id": organisation.id}.items()
        if getattr(user, field) != value
    )
    user.email, user.name, user.organisation = email, name.strip(), organisation
    if changed:
        record_event(AuditEventKind.USER_UPDATED, actor=actor, subject_user=user, changed=changed)
    _change_roles(user, chosen, actor=actor)


def deactivate_user(user: User, *, actor: User) -> None:
    """A deactivated user is signed out everywhere and their API tokens are revoked (so
    reactivating them does not bring the tokens back)."""
    if user.id == actor.id:
        raise Conflict("You cannot deactivate yourself.", code="cannot_deactivate_self")
    if not user.active:
        return
    user.active = False
    end_all_sessions(user)
    revoke_all_tokens(user, TokenRevocation.DEACTIVATED, actor)
    record_event(AuditEventKind.USER_DEACTIVATED, actor=actor, subject_user=user)


def reactivate_user(user: User, *, actor: User) -> None:
    if user.active:
        return
    user.active = True
    record_event(AuditEventKind.USER_REACTIVATED, actor=actor, subject_user=user)


def set_password(user: User, new_password: str, *, actor: User) -> None:
    """An admin's reset, or the user's own change; either way every session ends and every
    API token is revoked."""
    if problem := password_problem(new_password, user.email, user.name):
        raise InvalidInput(problem, fields={"password": problem})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    end_all_sessions(user)
    own = actor.id == user.id
    record_event(AuditEventKind.PASSWORD_CHANGED if own else AuditEventKind.PASSWORD_RESET,
                 actor=actor, subject_user=user)
    revoke_all_tokens(user, TokenRevocation.PASSWORD_CHANGED if own else TokenRevocation.PASSWORD_RESET, actor)


def change_own_password(user: User, *, current_password: str, new_password: str, address: str | None = None,
                        device_token: str | None = None) -> str:
    """A user changes their own password, proving they know the current one. Every session
    ends; returns the token of a new one for the browser that made the change."""
    _check_own_password(user, current_password, Attempt(user.email, address, device_token),
                        field="current_password", message="That is not your current password.")
    set_password(user, new_password, actor=user)
    return start_login_session(user)


def confirm_password(user: User, password: str, *, address: str | None = None,
                     device_token: str | None = None) -> None:
    """The signed-in user proves again that they know their password (before a sensitive action)."""
    _check_own_password(user, password, Attempt(user.email, address, device_token),
                        field="password", message="That is not your password.")


def _check_own_password(user: User, password: str, attempt: Attempt, *, field: str, message: str) -> None:
    """Failures are throttled like sign-ins: the caller keeps a WrongPassword or
    LoginThrottled refusal, so that it counts."""
    throttle.check(attempt)
    if not verify_password(user.password_hash, password):
        throttle.failed(attempt)
        raise WrongPassword(message, fields={field: message})
    throttle.succeeded(attempt)


# Signing in --------------------------------------------------------------------------

def authenticate(email: str, password: str, *, address: str | None = None, device_token: str | None = None) -> User:
    """The user for these credentials. Unknown email and wrong password fail alike.

    An attempt while its name, address or device must wait is refused (LoginThrottled)
    without checking the password. A failure is recorded and counted (see `throttle`) before
    the error is raised; the caller keeps it despite the refusal.
    """
    email = normalise_email(email)
    attempt = Attempt(email, address, device_token)
    throttle.check(attempt)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        burn_verification_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.active and user.organisation.active
    if not ok:
        throttle.failed(attempt)
        record_event(AuditEventKind.LOGIN_FAILED, subject_user=user, subject_key=throttle.keyed_hash(email))
        raise InvalidCredentials()
    throttle.succeeded(attempt)
    user.last_login_at = clock.now()
    record_event(AuditEventKind.LOGIN_SUCCEEDED, actor=user, subject_user=user)
    return user


def start_login_session(user: User) -> str:
    """A new server-side session; returns the token to keep in the signed cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_sha256(token)))
    return token


def user_for_login_session(user_id: str, token: str | None, *, last_seen: datetime | None = None) -> User | None:
    """The user a browser's session signs in, or None. Raises SessionTimedOut when the session
    began SESSION_ABSOLUTE_HOURS ago or more, or when the browser was last seen (`last_seen`,
    kept in its cookie) SESSION_IDLE_MINUTES ago or more."""
    if not token or not str(user_id).isdigit():
        return None
    row = db.session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.id == int(user_id),
            User.active.is_(True),
            Organisation.active.is_(True),
            LoginSession.token_hash == _sha256(token),
            LoginSession.ended_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    user, login_session = row
    now, config = clock.now(), current_app.config
    hours, minutes = config["SESSION_ABSOLUTE_HOURS"], config["SESSION_IDLE_MINUTES"]
    if now - login_session.created_at >= timedelta(hours=hours):
        raise SessionTimedOut(login_session.id,
                              f"You were signed out {hours} hours after signing in. Sign in again to carry on.")
    if last_seen is not None and now - last_seen >= timedelta(minutes=minutes):
        raise SessionTimedOut(login_session.id, f"You were signed out after {minutes} minutes without activity.")
    return user


def end_login_session(user: User, token: str | None) -> None:
    if token:
        login_session = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
        if login_session is not None and login_session.ended_at is None:
            login_session.ended_at = clock.now()
    record_event(AuditEventKind.LOGOUT, actor=user, subject_user=user)


# API tokens --------------------------------------------------------------------------

def create_api_token(user: User, *, name: str, days: int | None = None,
                     actor: User | None = None) -> tuple[ApiToken, str]:
    """A new personal token lasting `days` (at most, and by default, API_TOKEN_DAYS); the
    plain token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("Name the token so you can recognise it later.", fields={"name": "Required."})
    longest = current_app.config["API_TOKEN_DAYS"]
    days = longest if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= longest:
        message = f"A token lasts from 1 to {longest} days."
        raise InvalidInput(message, fields={"days": message})
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(user=user, name=name[:80], prefix=plain[:10], token_hash=_sha256(plain), created_at=now,
                     expires_at=now + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    record_event(AuditEventKind.API_TOKEN_CREATED, actor=actor or user, subject_user=user, token_id=token.id,
                 days=days)
    return token, plain


def revoke_api_token(user: User, token_id: int, *, actor: User) -> None:
    """The owner, or an admin, revokes one of `user`'s tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        reason = TokenRevocation.OWNER if actor.id == user.id else TokenRevocation.ADMIN
        token.revoked_at, token.revoked_reason = clock.now(), reason
        record_event(AuditEventKind.API_TOKEN_REVOKED, actor=actor, subject_user=user, token_id=token.id,
                     reason=reason, count=1)



def api_token_for(plain: str) -> ApiToken | None:
    """The working token with this value, of an active user in an active organisation."""
    # One statement: the token with its user, organisation and roles (every API request asks).
    user = joinedload(ApiToken.user)
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _sha256(plain), ApiToken.working(clock.now()))
        .options(user.joinedload(User.organisation), user.joinedload(User.role_rows))
    ).unique().scalar_one_or_none()
    if token is None or not token.user.active or not token.user.organisation.active:
        return None
    return token


def user_for_api_token(plain: str) -> User | None:
    token = api_token_for(plain)
    return token.user if token else None
