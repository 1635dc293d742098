"""Retention, a scheduled job (daily): personal data is kept no longer than the sector's
periods, then the case is anonymised (inventory.privacy.operations), its money and item
history staying under its reference.

- A referral never taken up, RETENTION_REFERRAL_DAYS (42) after the case was opened.
  "Never taken up": no request of the case was ever approved (in whole or in part) and no
  item was ever issued to it; it may have had requests that were rejected or withdrawn.
- A closed case, RETENTION_CLOSED_YEARS (6) after its last contact: the latest of its
  closing date, its visits (booked or completed), its reviews and its items' events
  (issued, returned, collected).

Either way, not while a request or visit is still open on it: it waits until that is
finished. Each rule is one query; an anonymised case is never picked again, so a second run
the same day finds nothing to do.
"""
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import Select, exists, select

from inventory.cases.models import AnonymisationReason, Case, CaseReview, CaseStatus
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.notices import JobOutcome
from inventory.privacy.operations import anonymise_case, open_work_clause
from inventory.requests.models import EquipmentRequest, RequestEvent, RequestState
from inventory.stock.models import ItemEvent, ItemEventKind

EVER_APPROVED = (RequestState.APPROVED, RequestState.PARTLY_APPROVED)


def retention_job(now: datetime) -> JobOutcome:
    """Anonymise the referrals never taken up and the closed cases past their retention
    period; counts how many of each."""
    config = current_app.config
    referrals = referrals_never_taken_up(now - timedelta(days=config["RETENTION_REFERRAL_DAYS"]))
    closed = closed_cases_without_contact_since(years_before(now.date(), config["RETENTION_CLOSED_YEARS"]))
    counts = {"referrals_anonymised": 0, "closed_cases_anonymised": 0, "skipped": 0}
    for query, reason, counted in ((referrals, AnonymisationReason.REFERRAL_NOT_TAKEN_UP, "referrals_anonymised"),
                                   (closed, AnonymisationReason.RETENTION_ENDED, "closed_cases_anonymised")):
        for case in db.session.scalars(query).all():
            try:
                anonymise_case(case, reason=reason)
            except Conflict:  # anonymised, or work opened on it, since the query: refused before any change
                counts["skipped"] += 1
            else:
                counts[counted] += 1
    return JobOutcome(counts=counts)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _waiting() -> Select:
    return select(Case).where(Case.anonymised_at.is_(None), ~open_work_clause(Case.id)).order_by(Case.id)


def referrals_never_taken_up(opened_by: datetime) -> Select:
    """Cases opened at or before `opened_by` whose referral was never taken up."""
    ever_approved = (exists().where(RequestEvent.request_id == EquipmentRequest.id,
                                    RequestEvent.to_state.in_(EVER_APPROVED))
                     .where(EquipmentRequest.case_id == Case.id))
    ever_issued = exists().where(ItemEvent.case_id == Case.id, ItemEvent.kind == ItemEventKind.ISSUED)
    return _waiting().where(Case.created_at <= opened_by, ~ever_approved, ~ever_issued)


def closed_cases_without_contact_since(last_day: date) -> Select:
    """Closed cases whose last contact was on or before `last_day`."""
    after = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)  # the first moment after it
    later_contact = (
        exists().where(Job.case_id == Case.id, Job.scheduled_for > last_day),
        exists().where(Job.case_id == Case.id, Job.completed_at >= after),
        exists().where(CaseReview.case_id == Case.id, CaseReview.reviewed_on > last_day),
        exists().where(ItemEvent.case_id == Case.id, ItemEvent.occurred_at >= after),
    )
    return _waiting().where(Case.status == CaseStatus.CLOSED, Case.closed_on <= last_day,
                            *(~contact for contact in later_contact))

