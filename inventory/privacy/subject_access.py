"""The subject-access export of one case: everything SafeHold holds about its survivor, as
one plain structure that the printable page and the JSON download both show.

The case's details; its requests with their lines, decisions, history, comments and
priority moves; its visits and what each did with each item; the items issued to it and
back, with dates; its reviews; and the access log of who viewed the personal data and why.
Staff appear by name (the survivor may ask who saw their data). Each part is one query.
"""
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.cases.models import Case, CaseReview
from inventory.extensions import db
from inventory.jobs.models import HANDOVER_CHECKS, CollectionItem, ItemReturn, Job, JobItem
from inventory.requests.models import EquipmentRequest, RequestComment, RequestEvent
from inventory.stock.models import Item, ItemEvent

FORMAT = "safehold-subject-access/1"
CASE_FIELDS = ("name", "address", "phone", "safe_contact_notes", "police_reference", "consent_on", "tenure",
               "landlord_consent", "risk_tool", "risk_level", "risk_assessed_on", "marac", "referral_source",
               "referral_agency", "status", "closed_on")


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def subject_access_export(case: Case) -> dict:
    """Everything held about the case's survivor (call after logging the access)."""
    return {
        "format": FORMAT,
        "generated_at": clock.now().isoformat(),
        "case": {"id": case.id, "reference": case.reference, "organisation": case.organisation.name,
                 "opened_at": case.created_at.isoformat(), "opened_by": case.created_by.name,
                 **{name: _plain(getattr(case, name)) for name in CASE_FIELDS}, "flags": case.flags},
        "requests": _requests(case),
        "visits": _visits(case),
        "item_events": _item_events(case),
        "returns": _returns(case),
        "reviews": _reviews(case),
        "access_log": _access_log(case),
    }


def _requests(case: Case) -> list[dict]:
    requests = db.session.scalars(
        select(EquipmentRequest).where(EquipmentRequest.case_id == case.id).order_by(EquipmentRequest.id)
        .options(selectinload(EquipmentRequest.lines), joinedload(EquipmentRequest.raised_by),
                 joinedload(EquipmentRequest.decided_by),
                 selectinload(EquipmentRequest.events).joinedload(RequestEvent.actor),
                 selectinload(EquipmentRequest.comments).joinedload(RequestComment.author),
                 selectinload(EquipmentRequest.adjustments))).all()
    return [{
        "id": request.id, "state": request.state, "reason": request.reason, "needed_by": _plain(request.needed_by),
        "raised_by": request.raised_by.name, "submitted_at": _plain(request.submitted_at),
        "decided_at": _plain(request.decided_at), "decided_by": request.decided_by.name if request.decided_by else None,
        "decision_reason": request.decision_reason, "declined_as": request.declined_as,
        "lines": [{"item_type": line.item_type.name, "quantity": line.quantity,
                   "approved_quantity": line.approved_quantity} for line in request.lines],
        "history": [{"at": _plain(event.occurred_at), "by": event.actor.name, "action": event.action,
                     "from_state": event.from_state, "to_state": event.to_state, "note": event.note}
                    for event in request.events],
        "comments": [{"at": _plain(comment.created_at), "by": comment.author.name, "body": comment.body}
                     for comment in request.comments],
        "priority_moves": [{"at": _plain(move.occurred_at), "by": move.actor.name, "points": move.points,
                            "reason": move.reason} for move in request.adjustments],
    } for request in requests]


def _visits(case: Case) -> list[dict]:
    jobs = db.session.scalars(select(Job).where(Job.case_id == case.id).order_by(Job.scheduled_for, Job.id)
                              .options(joinedload(Job.fitter),
                                       selectinload(Job.items).joinedload(JobItem.item).joinedload(Item.item_type))
                              ).all()
    collected: dict[int, list[CollectionItem]] = {}
    for row in db.session.scalars(select(CollectionItem).where(CollectionItem.job_id.in_([job.id for job in jobs]))
                                  .options(joinedload(CollectionItem.item).joinedload(Item.item_type))
                                  .order_by(CollectionItem.id)):
        collected.setdefault(row.job_id, []).append(row)
    return [{
        "id": job.id, "kind": job.kind, "status": job.status, "fitter": job.fitter.name,
        "scheduled_for": _plain(job.scheduled_for), "window": f"{job.window_starts:%H:%M}-{job.window_ends:%H:%M}",
        "completed_at": _plain(job.completed_at),
        "handed_over": [{"item": row.item.code, "item_type": row.item.item_type.name, "outcome": row.outcome,
                         "not_issued_because": row.reason, "loaned": row.loaned,
                         "return_due_on": _plain(row.return_due_on), "checklist_done_at": _plain(row.checklist_done_at)}
                        for row in job.items],
        # The widened handover: each point "done", "not_applicable" or None (not answered).
        "handover_checks": {check.key: getattr(job, check.key) for check in HANDOVER_CHECKS},
        "collected": [{"item": row.item.code, "item_type": row.item.item_type.name, "outcome": row.outcome,
                       "not_collected_because": row.reason} for row in collected.get(job.id, [])],
    } for job in jobs]


def _item_events(case: Case) -> list[dict]:
    events = db.session.scalars(select(ItemEvent).where(ItemEvent.case_id == case.id)
                                .options(joinedload(ItemEvent.item).joinedload(Item.item_type))
                                .order_by(ItemEvent.occurred_at, ItemEvent.id))
    return [{"at": _plain(event.occurred_at), "item": event.item.code, "item_type": event.item.item_type.name,
             "serial_number": event.item.serial_number, "event": event.kind, "note": event.note}
            for event in events]


def _returns(case: Case) -> list[dict]:
    returns = db.session.scalars(select(ItemReturn).where(ItemReturn.case_id == case.id)
                                 .options(joinedload(ItemReturn.item).joinedload(Item.item_type))
                                 .order_by(ItemReturn.returned_at, ItemReturn.id))
    return [{"at": _plain(row.returned_at), "item": row.item.code, "item_type": row.item.item_type.name,
             "condition": row.condition} for row in returns]


def _reviews(case: Case) -> list[dict]:
    reviews = db.session.scalars(select(CaseReview).where(CaseReview.case_id == case.id)
                                 .options(joinedload(CaseReview.recorded_by), selectinload(CaseReview.items))
                                 .order_by(CaseReview.reviewed_on, CaseReview.id))
    return [{"kind": review.kind, "reviewed_on": _plain(review.reviewed_on), "recorded_by": review.recorded_by.name,
             "feels_safer": review.feels_safer, "still_at_address": review.still_at_address,
             "incidents_since_fitting": review.incidents_since_fitting, "support_ended": review.support_ended,
             "items": [{"item_id": row.item_id, "in_use": row.in_use, "working": row.working}
                       for row in review.items]}
            for review in reviews]


def _access_log(case: Case) -> list[dict]:
    entries = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case.id)
                                 .options(joinedload(AccessLogEntry.user))
                                 .order_by(AccessLogEntry.occurred_at, AccessLogEntry.id))
    return [{"at": _plain(entry.occurred_at), "by": entry.user.name, "what": entry.what, "why": entry.reason}
            for entry in entries]
