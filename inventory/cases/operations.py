"""Use cases for cases: create, update, close, find, and reveal personal details (logged).

Functions flush but never commit. Personal fields never reach a log or an error message.
"""
import re
from datetime import date

from sqlalchemy import Select, select

from inventory import clock
from inventory.audit.operations import record_access
from inventory.cases.models import (
    NEED_FLAG_KEYS,
    Case,
    CaseStatus,
    LandlordConsent,
    RiskLevel,
    RiskTool,
    Tenure,
)
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.permissions import (
    CaseAccess,
    Permission,
    case_access,
    has_permission,
    visible_cases_clause,
)

need_changed = Hook("case_need_changed",
                    "A case's risk or flags changed: receivers `(case)` recompute what depends on it.")

REFERENCE_PATTERN = re.compile(r"^[A-Z]{2,4}-\d{4}-\d{4,6}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()-]{6,24}$")
TEXT_LIMITS = {"name": 120, "address": 500, "phone": 24, "safe_contact_notes": 2000, "police_reference": 40}
CHOICES = {"tenure": Tenure, "landlord_consent": LandlordConsent, "risk_tool": RiskTool, "risk_level": RiskLevel}
DATES = ("consent_on", "risk_assessed_on")


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _clean_details(data: dict) -> dict:
    """Check a case's details (from a form or JSON) and return them ready to store.

    Raises InvalidInput naming every bad field. Messages never repeat what was typed.
    """
    fields: dict[str, str] = {}
    clean: dict = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            fields[name] = "Must be text."
            continue
        value = (value or "").strip()
        if len(value) > limit:
            fields[name] = f"At most {limit} characters."
        clean[name] = value or None
    for name in ("name", "address", "phone"):
        if name not in fields and not clean[name]:
            fields[name] = "Required."
    if "phone" not in fields and clean["phone"] and not PHONE_PATTERN.match(clean["phone"]):
        fields["phone"] = "Digits, spaces, +, brackets and dashes only."
    for name, enum in CHOICES.items():
        value = data.get(name)
        if value not in {str(v) for v in enum}:
            fields[name] = "Choose one of: " + ", ".join(v.label for v in enum) + "."
        clean[name] = value
    today = clock.today()
    for name in DATES:
        value = _as_date(data.get(name))
        if value is None:
            fields[name] = "Enter a date (YYYY-MM-DD)."
        elif value > today:
            fields[name] = "Cannot be in the future."
        clean[name] = value
    if data.get("consent_given") is not True:
        fields["consent_given"] = "A case needs the survivor's consent to the referral."
    flags = data.get("flags") or []
    if not isinstance(flags, list | tuple) or any(flag not in NEED_FLAG_KEYS for flag in flags):
        fields["flags"] = "Unknown flag; known flags: " + ", ".join(NEED_FLAG_KEYS) + "."
        flags = []
    clean.update({key: key in flags for key in NEED_FLAG_KEYS})
    marac = data.get("marac", False)
    if not isinstance(marac, bool):
        fields["marac"] = "Yes or no."
    clean["marac"] = marac is True
    if fields:
        raise InvalidInput("Some case details need correcting.", fields=fields)
    return clean


def normalise_reference(reference) -> str:
    return reference.strip().upper() if isinstance(reference, str) else ""


def create_case(data: dict, *, actor) -> Case:
    """A caseworker opens a case for their own organisation, with the survivor's consent."""
    if not has_permission(actor, Permission.MANAGE_CASES):
        raise NotAllowed("Only caseworkers open cases.")
    reference = normalise_reference(data.get("reference"))
    problems = {}
    if not REFERENCE_PATTERN.match(reference):
        problems["reference"] = "Use the form NS-2026-0142."
    elif db.session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
        problems["reference"] = "A case with this reference already exists."
    try:
        details = _clean_details(data)
    except InvalidInput as error:
        raise InvalidInput(error.message, fields={**problems, **error.fields}) from None
    if problems:
        raise InvalidInput("Some case details need correcting.", fields=problems)
    case = Case(reference=reference, organisation_id=actor.organisation_id, created_by_id=actor.id,
                status=CaseStatus.OPEN, **details)
    db.session.add(case)
    db.session.flush()
    return case


def update_case(case: Case, data: dict, *, actor) -> Case:
    """Change a case's details; open requests are re-scored if risk or flags changed."""
    _require_manage(case, actor)
    details = _clean_details(data)
    for key, value in details.items():
        setattr(case, key, value)
    db.session.flush()
    need_changed.fire(case)
    return case


def close_case(case: Case, *, actor) -> None:
    _require_manage(case, actor)
    if not case.is_open:
        raise Conflict("This case is already closed.", code="case_closed")
    case.status, case.closed_on = CaseStatus.CLOSED, clock.today()
    db.session.flush()


def _require_manage(case: Case, actor) -> None:
    if not (has_permission(actor, Permission.MANAGE_CASES)
            and case_access(actor, case.organisation_id) is CaseAccess.PERSONAL):
        raise NotAllowed("Only a caseworker of the case's organisation can change it.")


def visible_cases(user, *, reference: str = "") -> Select:
    """The cases `user` may see, newest first; `reference` narrows by reference prefix."""
    query = select(Case).where(visible_cases_clause(user, Case.organisation_id))
    reference = normalise_reference(reference)
    if reference:
        query = query.where(Case.reference.like(f"{_escape_like(reference)}%", escape="\\"))
    return query.order_by(Case.created_at.desc(), Case.id.desc())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_case(user, case_id: int) -> Case:
    """The case if `user` may see it at all; otherwise NotFound (never a hint it exists)."""
    case = db.session.get(Case, case_id)
    if case is None or case_access(user, case.organisation_id) is CaseAccess.NONE:
        raise NotFound("No such case.")
    return case


def reveal_personal_details(user, case: Case, *, reason: str) -> bool:
    """True if `user` may see the case's personal details, having logged this view."""
    if case_access(user, case.organisation_id) is not CaseAccess.PERSONAL:
        return False
    record_access(user, case_id=case.id, what="name, address, phone, safe contact notes", reason=reason)
    return True
