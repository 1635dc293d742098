"""Anonymising a case: its survivor's personal data erased for good, in one transaction;
what the service did (money, items, dates, risk and need flags, outcomes) kept under the
case's reference, so the ledger, item histories and the funder's return still add up.

Erased: the case's name, address and phone ("[anonymised]"), safe contact notes and police
reference (emptied), and every free text written about the case: request reasons, decision
reasons, comments, priority-move reasons (replaced), request history notes and the notes of
its items' events (emptied). Histories stay append-only otherwise: the database lets that
text alone change, and only once the case is anonymised (migration 0025), so the case is
marked first. Text is assigned through the models' attributes, never in SQL, so it is
sealed or cleared however each column stores it.
"""
from sqlalchemy import exists, or_, select

from inventory import clock
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.cases.models import ANONYMISED, AnonymisationReason, Case, CaseStatus
from inventory.errors import Conflict, NotAllowed
from inventory.extensions import db
from inventory.jobs.models import Job, JobStatus
from inventory.permissions import can_anonymise_case
from inventory.requests.models import EquipmentRequest, PriorityAdjustment, RequestComment, RequestEvent
from inventory.requests.performance import OPEN_STATES
from inventory.stock.models import ItemEvent


def open_work_clause(case_id_column):
    """SQL: the case has a request still waiting or in progress, or a visit booked."""
    return or_(
        exists().where(EquipmentRequest.case_id == case_id_column, EquipmentRequest.state.in_(OPEN_STATES)),
        exists().where(Job.case_id == case_id_column, Job.status == JobStatus.SCHEDULED),
    )


def anonymise_case(case: Case, *, reason: AnonymisationReason, actor=None) -> Case:
    """Erase the case's personal data (`actor` None: the retention job). Refused while a
    request or visit is still open on it, and for a case already anonymised."""
    if actor is not None and not can_anonymise_case(actor, case):
        raise NotAllowed("Only a coordinator can anonymise a case.")
    # One anonymisation at a time: the retention job and a coordinator may meet here.
    case = db.session.scalars(select(Case).where(Case.id == case.id).with_for_update()
                              .execution_options(populate_existing=True)).one()
    if case.is_anonymised:
        raise Conflict("This case is already anonymised.", code="case_anonymised")
    if db.session.scalar(select(open_work_clause(case.id))):
        raise Conflict("This case still has a request or visit open: finish or withdraw it first.",
                       code="case_has_open_work")
    case.anonymised_at, case.anonymised_reason = clock.now(), AnonymisationReason(reason)
    if case.is_open:
        case.status, case.closed_on = CaseStatus.CLOSED, clock.today()
    case.name = case.address = case.phone = ANONYMISED
    case.safe_contact_notes = case.police_reference = None
    db.session.flush()  # marked first: the histories' guards let their text change only now
    _erase_free_text(case)
    record_event(AuditEventKind.CASE_ANONYMISED, actor=actor, case_id=case.id, reference=case.reference,
                 reason=str(reason))
    db.session.flush()
    return case


def _erase_free_text(case: Case) -> None:
    request_ids = select(EquipmentRequest.id).where(EquipmentRequest.case_id == case.id)
    for request in db.session.scalars(select(EquipmentRequest).where(EquipmentRequest.case_id == case.id)):
        request.reason = ANONYMISED
        if request.decision_reason is not None:
            request.decision_reason = None
    for comment in db.session.scalars(select(RequestComment).where(RequestComment.request_id.in_(request_ids))):
        comment.body = ANONYMISED
    for adjustment in db.session.scalars(
            select(PriorityAdjustment).where(PriorityAdjustment.request_id.in_(request_ids))):
        adjustment.reason = ANONYMISED
    for event in db.session.scalars(select(RequestEvent).where(RequestEvent.request_id.in_(request_ids),
                                                               RequestEvent.sealed_note.is_not(None))):
        event.note = None
    for event in db.session.scalars(select(ItemEvent).where(
            or_(ItemEvent.case_id == case.id, ItemEvent.request_id.in_(request_ids)), ItemEvent.note.is_not(None))):
        event.note = None
