"""Fictional visits for the demo fitter: today, an install of a camera doorbell (a connected
device, so the handover checklist) and an alarm, reserved from the office store, labels
ready to print; tomorrow, a collection of an alarm loaned three weeks ago to a survivor who
is moving out of the area."""
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.details import read_new_case
from inventory.cases.operations import create_case
from inventory.catalogue.models import ItemType
from inventory.extensions import db
from inventory.jobs.booking import CollectionBooking, InstallBooking, Visit, schedule_collection, schedule_job
from inventory.jobs.completion import Completion, complete_job
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.parsing import Fields
from inventory.requests.operations import RequestDetails, WantedLine, approve_request, raise_request
from inventory.stock.models import Item


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _item_type(prefix: str) -> ItemType:
    return db.session.scalar(select(ItemType).where(ItemType.name.startswith(prefix)))


def seed_jobs_demo(*, fitter_email: str, coordinator_email: str, caseworker_email: str) -> None:
    coordinator, caseworker = _user(coordinator_email), _user(caseworker_email)
    week_ago = clock.today() - timedelta(days=7)
    case = create_case(read_new_case(Fields({
        "reference": "NS-2026-0113", "name": "Nia Pretendname", "address": "7 Nowhere Mews\nDemotown",
        "phone": "07700 900213", "safe_contact_notes": "Call from a withheld number; she answers after 3 rings.",
        "consent_given": True, "consent_on": week_ago, "tenure": "social_tenant", "landlord_consent": "given",
        "risk_tool": "dash", "risk_level": "high", "risk_assessed_on": week_ago, "marac": True,
        "flags": ["address_known", "lives_alone"], "referral_source": "police",
    })), actor=caseworker)
    request = raise_request(case.id, RequestDetails(
        reason="Perpetrator has been seen at the door at night.",
        lines=(WantedLine(_item_type("Wi-fi video doorbell").id, 1),
               WantedLine(_item_type("Personal safety alarm").id, 1))), actor=caseworker)
    approve_request(request.id, actor=coordinator, note="Both from the office store.")
    schedule_job(InstallBooking(request.id, Visit(_user(fitter_email).id, clock.today(), time(10), time(12))),
                 actor=coordinator)
    _seed_collection(fitter=_user(fitter_email), coordinator=coordinator, caseworker=caseworker)


def _seed_collection(*, fitter: User, coordinator: User, caseworker: User) -> None:
    """An alarm handed over three weeks ago (so its history is dated then), and a visit
    tomorrow to collect it."""
    three_weeks_ago = datetime.combine(clock.today() - timedelta(days=21), time(11), tzinfo=UTC)
    with clock.frozen_at(three_weeks_ago):
        day = clock.today()
        case = create_case(read_new_case(Fields({
            "reference": "NS-2026-0087", "name": "Rhian Madeupson", "address": "22 Imaginary Close\nDemotown",
            "phone": "07700 900187", "safe_contact_notes": "Text first; calls only after 6 pm.",
            "consent_given": True, "consent_on": day, "tenure": "private_tenant", "landlord_consent": "not_needed",
            "risk_tool": "sash", "risk_level": "medium", "risk_assessed_on": day, "marac": False,
            "flags": ["repeat_victimisation"], "referral_source": "agency",
            "referral_agency": "Housing options team",
        })), actor=caseworker)
        request = raise_request(case.id, RequestDetails(
            reason="Followed home from work; wants an alarm to carry.",
            lines=(WantedLine(_item_type("Personal safety alarm").id, 1),)), actor=caseworker)
        approve_request(request.id, actor=coordinator, note="From the office store.")
        job = schedule_job(InstallBooking(request.id, Visit(fitter.id, day, time(11), time(13))), actor=coordinator)
        alarm = db.session.scalar(select(Item).where(Item.reserved_for_request_id == request.id))
        scan(ScanInput(ScanAction.ISSUE, alarm.code, job_id=job.id), actor=fitter)
        complete_job(job.id, Completion(), actor=fitter)
    tomorrow = clock.today() + timedelta(days=1)
    schedule_collection(CollectionBooking(case.id, (alarm.id,), Visit(fitter.id, tomorrow, time(14), time(16))),
                        actor=coordinator)
