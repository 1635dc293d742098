"""Use cases for cases: create, update, close (with its closing review), find, and reveal
personal details (logged).

Functions flush but never commit. Personal fields never reach a log or an error message.
"""
from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.exc import IntegrityError

from inventory import clock
from inventory.audit.operations import record_access
from inventory.cases.details import CaseDetails, NewCase
from inventory.cases.models import (
    SUFFIX_MIN_LENGTH,
    Case,
    CaseReferenceSuffix,
    CaseReview,
    CaseStatus,
    reference_key,
)
from inventory.cases.references import reference_problem
from inventory.cases.reviews import Closing, record_closing_review
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.hooks import Hook
from inventory.permissions import (
    Permission,
    can_manage_case,
    can_see_personal_details,
    can_view_case,
    has_permission,
    visible_cases_clause,
)

need_changed = Hook("case_need_changed",
                    "A case's risk or flags changed: receivers `(case)` recompute what depends on it.")


def create_case(new: NewCase, *, actor) -> Case:
    """A caseworker opens a case for their own organisation, with the survivor's consent."""
    if not has_permission(actor, Permission.MANAGE_CASES):
        raise NotAllowed("Only caseworkers open cases.")
    problem = reference_problem(new.reference, actor.organisation)
    if problem is not None:
        raise InvalidInput("Some case details need correcting.", fields={"reference": problem})
    holder = db.session.scalar(select(Case.organisation_id).where(Case.reference == new.reference))
    if holder == actor.organisation_id:
        raise InvalidInput("Some case details need correcting.",
                           fields={"reference": "A case with this reference already exists."})
    if holder is not None:
        # Only a reference from before prefixes, left in the lead's free format: refused
        # without saying whose it is.
        raise InvalidInput("Some case details need correcting.",
                           fields={"reference": "This reference cannot be used: choose another number."})
    case = Case(reference=new.reference, organisation_id=actor.organisation_id, created_by_id=actor.id,
                status=CaseStatus.OPEN, **new.details.columns())
    db.session.add(case)
    try:
        db.session.flush()
    except IntegrityError:
        # The same reference was taken by a colleague a moment ago (in this organisation's format).
        raise Conflict("A case with this reference was opened a moment ago. Check the case list.",
                       code="reference_taken") from None
    return case


def update_case(case: Case, details: CaseDetails, *, actor) -> Case:
    """Change a case's details; open requests are re-scored if risk or flags changed."""
    _require_manage(case, actor)
    _refuse_if_anonymised(case)
    for key, value in details.columns().items():
        setattr(case, key, value)
    db.session.flush()
    need_changed.fire(case)
    return case


def close_case(case: Case, closing: Closing, *, actor) -> CaseReview:
    """A caseworker of the case's organisation closes it, recording its closing review (why
    support ended, and what the survivor said) in the same transaction."""
    _require_manage(case, actor)
    if not case.is_open:
        raise Conflict("This case is already closed.", code="case_closed")
    case.status, case.closed_on = CaseStatus.CLOSED, clock.today()
    db.session.flush()
    return record_closing_review(case, closing, actor=actor)


def _require_manage(case: Case, actor) -> None:
    if not can_manage_case(actor, case):
        raise NotAllowed("Only a caseworker of the case's organisation can change it.")


def _refuse_if_anonymised(case: Case) -> None:
    if case.is_anonymised:
        raise Conflict("This case is anonymised: its details can no longer be changed.", code="case_anonymised")


def visible_cases(user, *, reference: str = "") -> Select:
    """The cases `user` may see, newest first; `reference` narrows to references containing it
    anywhere, whatever its case and hyphens ("0142" finds NS-2026-0142)."""
    query = select(Case).where(visible_cases_clause(user, Case.organisation_id))
    part = reference_key(reference)
    if part:
        query = query.where(_reference_contains(part))
    return query.order_by(Case.created_at.desc(), Case.id.desc())


def _reference_contains(part: str) -> ColumnElement[bool]:
    """A part long enough is the start of one of the reference's indexed suffixes (a range
    on the index); a shorter one matches most references, so scanning the newest cases
    finds a page of them at once."""
    if not part.isascii():  # references are ASCII: nothing else can match (and next(part) stays defined)
        return false()
    if len(part) < SUFFIX_MIN_LENGTH:
        key = func.upper(func.replace(func.replace(Case.reference, "-", ""), " ", ""))
        return key.like(f"%{_escape_like(part)}%", escape="\\")
    after = part[:-1] + chr(ord(part[-1]) + 1)  # the first text that no longer starts with `part`
    return Case.id.in_(select(CaseReferenceSuffix.case_id).where(CaseReferenceSuffix.suffix >= part,
                                                                CaseReferenceSuffix.suffix < after))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_case(user, case_id: int) -> Case:
    """The case if `user` may see it at all; otherwise NotFound (never a hint it exists)."""
    case = db.session.get(Case, case_id)
    if case is None or not can_view_case(user, case):
        raise NotFound("No such case.")
    return case


def reveal_personal_details(user, case: Case, *, reason: str) -> bool:
    """True if `user` may see the case's personal details, having logged this view. An
    anonymised case has none left to show."""
    if case.is_anonymised or not can_see_personal_details(user, case):
        return False
    record_access(user, case_id=case.id, case_reference=case.reference,
                  what="name, address, phone, safe contact notes", reason=reason)
    return True
