"""Use cases for organisations, users, sign-in sessions and API tokens.

Each function changes the session and raises a DomainError on a broken rule; it never
commits: the request's unit of work (or a CLI command) commits once or rolls back.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from inventory import clock
from inventory.accounts import approvals
from inventory.accounts.models import ApiToken, LoginSession, Organisation, OrganisationKind, User, UserRole
from inventory.accounts.passwords import burn_verification_time, hash_password, password_problem, verify_password
from inventory.accounts.roles import PERSONAL_DATA_ROLES, apply_role_change, refuse_lead_only_elsewhere
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.audit.operations import record_event
from inventory.errors import Conflict, DomainError, InvalidInput, NotFound
from inventory.extensions import db
from inventory.permissions import Role

LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
API_TOKEN_PREFIX = "sh_"
SESSION_TOKEN_KEY = "sid"  # where the signed session cookie keeps the login session's token


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401

    def __init__(self):
        super().__init__("Email or password is not right.")


class LoginThrottled(DomainError):
    code = "throttled"
    status = 429

    def __init__(self):
        super().__init__("Too many failed sign-ins for this account. Wait 15 minutes and try again.")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# Organisations -----------------------------------------------------------------------

def create_organisation(*, name: str, kind: str, actor: User | None) -> Organisation:
    name = name.strip()
    kind = OrganisationKind(kind)
    if db.session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        raise InvalidInput("An organisation with that name already exists.", fields={"name": "Already in use."})
    if kind == OrganisationKind.LEAD and db.session.scalar(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.LEAD)
    ):
        raise InvalidInput("There is already a lead provider.", fields={"kind": "Only one lead provider."})
    organisation = Organisation(name=name, kind=kind, active=True)
    db.session.add(organisation)
    db.session.flush()
    record_event(AuditEventKind.ORGANISATION_CREATED, actor=actor, organisation_id=organisation.id, kind=kind)
    return organisation


def update_organisation(organisation: Organisation, *, name: str, active: bool, actor: User) -> None:
    name = name.strip()
    clash = db.session.scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == name.lower(), Organisation.id != organisation.id)
    )
    if clash:
        raise InvalidInput("An organisation with that name already exists.", fields={"name": "Already in use."})
    if organisation.is_lead and not active:
        raise InvalidInput("The lead provider cannot be deactivated.", fields={"active": "The lead stays active."})
    changed = sorted(k for k, v in {"name": name, "active": active}.items() if getattr(organisation, k) != v)
    organisation.name, organisation.active = name, active
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
    if problem := password_problem(password, email):
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


def _end_all_sessions(user: User) -> None:
    now = clock.now()
    for login_session in db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ):
        login_session.ended_at = now


def deactivate_user(user: User, *, actor: User) -> None:
    """A deactivated user is signed out everywhere and their API tokens stop working."""
    if user.id == actor.id:
        raise Conflict("You cannot deactivate yourself.", code="cannot_deactivate_self")
    if not user.active:
        return
    user.active = False
    _end_all_sessions(user)
    record_event(AuditEventKind.USER_DEACTIVATED, actor=actor, subject_user=user)


def reactivate_user(user: User, *, actor: User) -> None:
    if user.active:
        return
    user.active = True
    record_event(AuditEventKind.USER_REACTIVATED, actor=actor, subject_user=user)


def set_password(user: User, new_password: str, *, actor: User) -> None:
    """An admin's reset, or the user's own change; either way every session ends."""
    if problem := password_problem(new_password, user.email):
        raise InvalidInput(problem, fields={"password": problem})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    _end_all_sessions(user)
    kind = AuditEventKind.PASSWORD_CHANGED if actor.id == user.id else AuditEventKind.PASSWORD_RESET
    record_event(kind, actor=actor, subject_user=user)


def change_own_password(user: User, *, current_password: str, new_password: str) -> str:
    """A user changes their own password, proving they know the current one. Every session
    ends; returns the token of a new one for the browser that made the change."""
    if not verify_password(user.password_hash, current_password):
        message = "That is not your current password."
        raise InvalidInput(message, fields={"current_password": message})
    set_password(user, new_password, actor=user)
    return start_login_session(user)


def confirm_password(user: User, password: str) -> None:
    """The signed-in user proves again that they know their password (before a sensitive action)."""
    if not verify_password(user.password_hash, password):
        message = "That is not your password."
        raise InvalidInput(message, fields={"password": message})


# Signing in --------------------------------------------------------------------------

def _recent_failures(subject_key: str) -> int:
    since = clock.now() - LOGIN_FAILURE_WINDOW
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.kind == AuditEventKind.LOGIN_FAILED,
            AuditEvent.subject_key == subject_key,
            AuditEvent.occurred_at >= since,
        )
    )


def authenticate(email: str, password: str) -> User:
    """The user for these credentials. Unknown email and wrong password fail alike.

    The failure is recorded before the error is raised; the caller keeps it despite the
    refusal (it counts towards the lockout).
    """
    email = normalise_email(email)
    subject_key = _sha256(email)
    if _recent_failures(subject_key) >= LOGIN_FAILURE_LIMIT:
        record_event(AuditEventKind.LOGIN_THROTTLED, subject_key=subject_key)
        raise LoginThrottled()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        burn_verification_time(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.active and user.organisation.active
    if not ok:
        record_event(AuditEventKind.LOGIN_FAILED, subject_user=user, subject_key=subject_key)
        raise InvalidCredentials()
    user.last_login_at = clock.now()
    record_event(AuditEventKind.LOGIN_SUCCEEDED, actor=user, subject_user=user)
    return user


def start_login_session(user: User) -> str:
    """A new server-side session; returns the token to keep in the signed cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_sha256(token)))
    return token


def user_for_login_session(user_id: str, token: str | None) -> User | None:
    if not token or not str(user_id).isdigit():
        return None
    return db.session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.id == int(user_id),
            User.active.is_(True),
            Organisation.active.is_(True),
            LoginSession.token_hash == _sha256(token),
            LoginSession.ended_at.is_(None),
        )
    )


def end_login_session(user: User, token: str | None) -> None:
    if token:
        login_session = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _sha256(token)))
        if login_session is not None and login_session.ended_at is None:
            login_session.ended_at = clock.now()
    record_event(AuditEventKind.LOGOUT, actor=user, subject_user=user)


# API tokens --------------------------------------------------------------------------

def create_api_token(user: User, *, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new personal token; the plain token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("Name the token so you can recognise it later.", fields={"name": "Required."})
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:80], prefix=plain[:10], token_hash=_sha256(plain))
    db.session.add(token)
    db.session.flush()
    record_event(AuditEventKind.API_TOKEN_CREATED, actor=actor or user, subject_user=user, token_id=token.id)
    return token, plain


def revoke_api_token(user: User, token_id: int, *, actor: User) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record_event(AuditEventKind.API_TOKEN_REVOKED, actor=actor, subject_user=user, token_id=token.id)


def user_for_api_token(plain: str) -> User | None:
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _sha256(plain), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active or not token.user.organisation.active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now  # coarse, so reads do not all become writes
    return token.user
