"""Retention at simulated dates: a referral never taken up is anonymised 6 weeks after it
was made, a closed case 6 years after its last contact; anonymising erases the personal data
and every note about the case, keeps money, items and the figures reported, and runs once."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from inventory import clock
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.budget import operations as budget
from inventory.budget.models import LedgerEntry
from inventory.cases import operations as cases
from inventory.cases.details import read_case_details
from inventory.cases.models import ANONYMISED, AnonymisationReason, Case, CaseReview, SupportEnded
from inventory.cases.reviews import Closing
from inventory.errors import Conflict, NotAllowed
from inventory.extensions import db
from inventory.jobs.models import JobStatus, ReturnCondition
from inventory.jobs.returns import take_back
from inventory.parsing import Fields
from inventory.privacy.operations import anonymise_case
from inventory.reports.funder_return import funder_return
from inventory.requests.models import DeclinedAs, PriorityAdjustment, RequestComment, RequestEvent
from inventory.requests.operations import add_comment, adjust_priority, reject_request, take_action
from inventory.requests.transitions import Action
from inventory.scheduling.jobs import job_named
from inventory.scheduling.runner import run_job
from inventory.stock.models import Item, ItemEvent

OPENED = datetime(2026, 5, 4, 10, tzinfo=UTC)


def retention(at: datetime):
    with clock.frozen_at(at):
        return run_job(job_named("retention"), at).counts


def opened_case(build, at=OPENED, **details):
    with clock.frozen_at(at):
        return build.case(**details)


def anonymised(case) -> bool:
    db.session.expire_all()
    return db.session.get(Case, case.id).is_anonymised


@pytest.mark.parametrize(("days", "erased"), [(41, False), (42, True), (43, True)])
def test_a_referral_never_taken_up_is_anonymised_six_weeks_after_it_was_made(app, build, days, erased):
    case = opened_case(build)
    counts = retention(OPENED + timedelta(days=days))
    assert anonymised(case) is erased
    assert counts["referrals_anonymised"] == int(erased)


def test_a_referral_whose_request_was_only_rejected_or_withdrawn_was_never_taken_up(app, build):
    coordinator = build.user(roles=["coordinator"])
    rejected, withdrawn = opened_case(build), opened_case(build)
    with clock.frozen_at(OPENED + timedelta(days=1)):
        raised = build.equipment_request(case=rejected)
        reject_request(raised.id, DeclinedAs.INELIGIBLE, note="Lives out of area.", actor=coordinator)
        other = build.equipment_request(case=withdrawn)
        take_action(other.id, Action.WITHDRAW, note=None, actor=other.raised_by)
        db.session.commit()
    retention(OPENED + timedelta(days=43))
    assert anonymised(rejected) and anonymised(withdrawn)


def test_a_referral_with_an_approved_request_or_one_still_waiting_is_kept(app, build):
    with clock.frozen_at(OPENED + timedelta(days=1)):
        approved = build.approved_request(case=opened_case(build)).case
        waiting = build.equipment_request(case=opened_case(build)).case
    counts = retention(OPENED + timedelta(days=60))
    assert not anonymised(approved) and not anonymised(waiting)
    assert counts == {"referrals_anonymised": 0, "closed_cases_anonymised": 0, "skipped": 0}


def closed_on(build, day: date, *, taken_up=True):
    """A case taken up (an item handed over), closed on `day`."""
    with clock.frozen_at(datetime.combine(day - timedelta(days=30), datetime.min.time(), tzinfo=UTC)):
        case = build.case()
        if taken_up:
            case, _ = build.handed_over(case=case)
    with clock.frozen_at(datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=10)):
        caseworker = build.caseworker(case.organisation)
        cases.close_case(case, Closing(SupportEnded.MOVED), actor=caseworker)
        db.session.commit()
    return case


@pytest.mark.parametrize(("after", "erased"), [(timedelta(days=-1), False), (timedelta(0), True),
                                               (timedelta(days=1), True)])
def test_a_closed_case_is_anonymised_six_years_after_its_last_contact(app, build, after, erased):
    case = closed_on(build, date(2020, 3, 10))
    counts = retention(datetime(2026, 3, 10, 4, tzinfo=UTC) + after)
    assert anonymised(case) is erased
    assert counts["closed_cases_anonymised"] == int(erased)


@pytest.mark.parametrize("contact", ["review", "item back", "visit"])
def test_contact_after_closing_starts_the_six_years_again(app, build, contact):
    case = closed_on(build, date(2020, 3, 10))
    later = datetime(2020, 9, 1, 10, tzinfo=UTC)
    with clock.frozen_at(later):
        if contact == "review":
            db.session.add(CaseReview(case_id=case.id, kind="six_months", reviewed_on=later.date(),
                                      recorded_by_id=build.user(roles=["coordinator"]).id))
        elif contact == "item back":
            item = db.session.scalar(select(Item).where(Item.issued_case_id == case.id))
            take_back(item, ReturnCondition.GOOD, job=None, actor=build.user(roles=["coordinator"]))
        else:
            item = db.session.scalar(select(Item).where(Item.issued_case_id == case.id))
            job = build.collection(case=case, items=[item], scheduled_for=later.date())
            job.status, job.completed_at, job.completed_by_id = JobStatus.COMPLETED, later, job.fitter_id
        db.session.commit()
    assert retention(datetime(2026, 3, 12, 4, tzinfo=UTC))["closed_cases_anonymised"] == 0
    assert retention(datetime(2026, 9, 2, 4, tzinfo=UTC))["closed_cases_anonymised"] == 1
    assert anonymised(case)


def test_the_job_run_twice_anonymises_each_case_once(app, build):
    case = opened_case(build)
    first = retention(OPENED + timedelta(days=50))
    second = retention(OPENED + timedelta(days=50, hours=1))
    assert first["referrals_anonymised"] == 1 and second["referrals_anonymised"] == 0
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == AuditEventKind.CASE_ANONYMISED)).all()
    assert [(e.actor_id, e.details) for e in events] == [
        (None, {"case_id": case.id, "reference": case.reference, "reason": "referral_not_taken_up"})]


def test_anonymising_erases_the_personal_data_and_every_note_and_keeps_the_rest(app, build):
    coordinator = build.user(roles=["coordinator"])
    case = build.case(police_reference="CR/99/SECRET", risk_level="high", flags=["children"],
                      safe_contact_notes="Perpetrator has a key.")
    raised = build.equipment_request(case=case, reason="He waits outside her work.")
    add_comment(raised.id, "Neighbour at no. 12 will hold a key.", actor=coordinator)
    adjust_priority(raised.id, 5, "Perpetrator released on Friday.", actor=coordinator)
    take_action(raised.id, Action.WITHDRAW, note="She moved to her sister's in Leeds.", actor=raised.raised_by)
    db.session.commit()
    rejected = build.equipment_request(case=case, reason="Camera for the back door.")
    reject_request(rejected.id, DeclinedAs.UNSUITABLE, note="Landlord said no to the flat at 3 Mill St.",
                   actor=coordinator)
    db.session.commit()
    request = build.approved_request(case=case)
    case, (item,) = build.handed_over(request=request)
    take_back(item, ReturnCondition.GOOD, job=None, actor=coordinator)
    build.budget_period(allocated_pence=100_000)
    budget.record_direct_purchase(
        supplier_name="Locksmith Direct", purchased_on=clock.today(), net_pence=4500, vat_pence=0, gross_pence=4500,
        receipt_reference="R-1", category="Lock", actor=build.user(roles=["finance"]), case_reference=case.reference)
    db.session.commit()
    figures_before = funder_return(clock.today() - timedelta(days=90), clock.today(), threshold=1)
    entries_before = db.session.scalars(select(LedgerEntry.case_reference).order_by(LedgerEntry.id)).all()
    assert db.session.scalars(select(ItemEvent.note).where(ItemEvent.case_id == case.id,
                                                           ItemEvent.note.is_not(None))).all()  # notes to erase

    anonymise_case(case, reason=AnonymisationReason.SURVIVOR_ASKED, actor=coordinator)
    db.session.commit()
    db.session.expire_all()

    case = db.session.get(Case, case.id)
    assert (case.name, case.address, case.phone, case.safe_contact_notes, case.police_reference) == (
        ANONYMISED, ANONYMISED, ANONYMISED, None, None)
    assert (case.risk_level, case.flags, case.status, case.anonymised_reason) == (
        "high", ["children"], "closed", "survivor_asked")
    request_ids = [raised.id, rejected.id, request.id]
    texts = [r.reason for r in (raised, rejected, request)] + [r.decision_reason for r in (raised, rejected, request)]
    assert texts == [ANONYMISED] * 3 + [None] * 3
    assert [c.body for c in db.session.scalars(select(RequestComment))] == [ANONYMISED]
    assert [a.reason for a in db.session.scalars(select(PriorityAdjustment))] == [ANONYMISED]
    assert db.session.scalars(select(RequestEvent.sealed_note).where(RequestEvent.request_id.in_(request_ids))
                              .where(RequestEvent.sealed_note.is_not(None))).all() == []
    item_events = db.session.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id)).all()
    of_the_case = [e for e in item_events if e.case_id == case.id or e.request_id in request_ids]
    assert of_the_case and [e.note for e in of_the_case] == [None] * len(of_the_case)
    assert {e.kind for e in item_events} >= {"issued", "returned"}  # the item's history stays
    assert db.session.scalars(select(LedgerEntry.case_reference).order_by(LedgerEntry.id)).all() == entries_before
    assert case.reference in entries_before
    assert funder_return(clock.today() - timedelta(days=90), clock.today(), threshold=1) == figures_before


def test_an_anonymised_case_can_no_longer_be_revealed_edited_or_anonymised_again(app, build):
    coordinator = build.user(roles=["coordinator"])
    case = build.case()
    caseworker = build.caseworker(case.organisation)
    anonymise_case(case, reason=AnonymisationReason.SAFETY, actor=coordinator)
    assert cases.reveal_personal_details(coordinator, case, reason="Opened on the case page") is False
    with pytest.raises(Conflict) as refused:
        cases.update_case(case, read_case_details(Fields(build.case_details())), actor=caseworker)
    assert refused.value.code == "case_anonymised"
    with pytest.raises(Conflict) as again:
        anonymise_case(case, reason=AnonymisationReason.SAFETY, actor=coordinator)
    assert again.value.code == "case_anonymised"


def test_a_case_with_a_request_or_visit_open_is_not_anonymised(app, build):
    coordinator = build.user(roles=["coordinator"])
    waiting = build.equipment_request().case
    booked = build.job().case
    for case in (waiting, booked):
        with pytest.raises(Conflict) as refused:
            anonymise_case(case, reason=AnonymisationReason.SURVIVOR_ASKED, actor=coordinator)
        assert refused.value.code == "case_has_open_work"
        assert not anonymised(case)


@pytest.mark.parametrize("roles", [["caseworker"], ["admin"], ["finance"], ["admin", "caseworker"]])
def test_only_coordinators_anonymise_a_case(app, build, roles):
    case = build.case()
    with pytest.raises(NotAllowed):
        anonymise_case(case, reason=AnonymisationReason.SAFETY, actor=build.user(roles=roles,
                                                                                organisation=case.organisation))
    assert not anonymised(case)


def test_the_history_of_a_case_not_anonymised_stays_append_only_underneath(app, build):
    raised = build.equipment_request(reason="Reason one.")
    reject_request(raised.id, DeclinedAs.OTHER, note="Not this time.", actor=build.user(roles=["coordinator"]))
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):  # a note may not vanish (only be re-sealed)
        db.session.execute(text("UPDATE request_events SET note = NULL WHERE request_id = :id AND note IS NOT NULL"),
                           {"id": raised.id})
    db.session.rollback()


def test_anonymised_history_lets_only_its_text_change_underneath(app, build):
    raised = build.equipment_request()
    db.session.execute(text("UPDATE cases SET anonymised_at = :now, anonymised_reason = 'safety' WHERE id = :id"),
                       {"now": clock.now(), "id": raised.case_id})
    db.session.execute(text("UPDATE request_events SET note = NULL WHERE request_id = :id"), {"id": raised.id})
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE request_events SET to_state = 'approved' WHERE request_id = :id"),
                           {"id": raised.id})
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM request_events WHERE request_id = :id"), {"id": raised.id})
    db.session.rollback()
