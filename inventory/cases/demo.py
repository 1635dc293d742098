"""Fictional outcomes for the demo: cases whose equipment went out months ago, with their
3- and 6-month reviews (a spread of answers, dated so this financial quarter and the one
before both have some), two closed with their closing reviews, and two requests declined.

Every name, address and phone number is invented (Ofcom's drama ranges, places that do not
exist). Each case is replayed at the dates it happened, so its history reads true.
"""
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.details import read_new_case
from inventory.cases.models import Case, ReviewKind, SupportEnded
from inventory.cases.operations import close_case, create_case
from inventory.cases.reviews import Closing, ItemAnswer, NewReview, ReviewAnswers, issued_items, record_review
from inventory.catalogue.models import ItemType
from inventory.extensions import db
from inventory.jobs.booking import InstallBooking, Visit, schedule_job
from inventory.jobs.completion import Completion, complete_job
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.parsing import Fields
from inventory.requests.models import DeclinedAs
from inventory.requests.operations import RequestDetails, WantedLine, approve_request, raise_request, reject_request
from inventory.stock.models import Item, Location
from inventory.stock.receiving import NewUnits, receive_units

# Answers at a review: (feels safer 1..5 or None, still at the address, incidents since fitting,
# whether each item is (in use, working)); None for a review not held (yet).
Answers = tuple[int | None, bool | None, int | None, tuple[bool, bool]]

# reference, organisation, name, referral source, agency, days since the handover, items
# (item type name starts with), 3-month answers, 6-month answers, (why support ended, days
# after the handover it closed, (feels safer, still at the address, incidents)) or None.
CASES = [
    ("NS-2025-0301", "lead", "Nell Invented", "police", None, 300, ["Personal safety alarm"],
     (4, True, 0, (True, True)), (5, True, 0, (True, True)), ("no_longer_needed", 200, (5, True, 0))),
    ("RA-2025-0302", "partner", "Oli Fabricated", "agency", "Housing options team", 270, ["Door/window lock kit"],
     (3, True, 2, (True, True)), (4, True, 1, (True, True)), None),
    ("NS-2025-0303", "lead", "Pip Nonesuch", "self", None, 240, ["Solar PIR security light"],
     (5, True, 0, (True, True)), (None, True, None, (True, False)), None),
    ("NS-2025-0304", "lead", "Quin Madeup", "agency", "GP practice", 215, ["Personal safety alarm", "Window alarm"],
     (2, False, 3, (False, True)), None, ("moved", 120, (None, False, None))),
    ("RA-2025-0305", "partner", "Remy Pretend", "police", None, 190, ["Anti-snap euro cylinder"],
     (4, True, 1, (True, True)), (4, True, 0, (True, True)), None),
    ("NS-2025-0306", "lead", "Sol Imagined", "agency", "Children's social care", 160, ["Personal safety alarm"],
     (None, None, None, (True, True)), None, None),
    ("RA-2025-0307", "partner", "Tam Unreal", "self", None, 130, ["Window alarm"],
     (1, True, 4, (False, False)), None, None),
    ("NS-2025-0308", "lead", "Uma Notaperson", "other", None, 95, ["Door/window lock kit"],  # reviewed today
     (5, True, 0, (True, True)), None, None),
]

# reference, organisation, name, source, agency, days ago, item, reason asked, declined as, why
DECLINED = [
    ("NS-2025-0311", "lead", "Vic Fictitious", "agency", "Housing options team", 40, "Wi-fi video doorbell",
     "Doorbell camera for the front door.", DeclinedAs.UNSUITABLE,
     "The front door is shared with three other flats; a camera there would film neighbours. "
     "A personal alarm is offered instead."),
    ("RA-2025-0312", "partner", "Wren Makebelieve", "self", None, 120, "Solar PIR security light",
     "Light for the back garden.", DeclinedAs.INELIGIBLE,
     "The address is outside the area the service covers; referred on to the neighbouring service."),
]
STREETS = ["Invented Way", "Sample Crescent", "Notional Road", "Madeup Mews"]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _item_type(prefix: str) -> ItemType:
    return db.session.scalar(select(ItemType).where(ItemType.name.startswith(prefix)))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _open_case(n: int, reference: str, name: str, source: str, agency: str | None, day: date, *, actor) -> Case:
    return create_case(read_new_case(Fields({
        "reference": reference, "name": name, "address": f"{3 + n} {STREETS[n % len(STREETS)]}\nDemotown",
        "phone": f"07700 900{300 + n:03d}", "safe_contact_notes": "Text first.", "consent_given": True,
        "consent_on": day, "tenure": ["social_tenant", "private_tenant", "owner_occupier"][n % 3],
        "landlord_consent": "given" if n % 3 != 2 else "not_needed", "risk_tool": "dash",
        "risk_level": ["medium", "high", "standard"][n % 3], "risk_assessed_on": day, "flags": [],
        "referral_source": source, "referral_agency": agency,
    })), actor=actor)


def _answers(case: Case, answers: Answers) -> ReviewAnswers:
    feels_safer, at_address, incidents, (in_use, working) = answers
    return ReviewAnswers(feels_safer, at_address, incidents,
                         tuple(ItemAnswer(item.id, in_use, working) for item in issued_items(case)))


def seed_outcomes_demo(*, caseworker_emails: dict[str, str], coordinator_email: str, fitter_email: str) -> None:
    caseworkers = {org: _user(email) for org, email in caseworker_emails.items()}
    coordinator, fitter = _user(coordinator_email), _user(fitter_email)
    store = db.session.scalar(select(Location).where(Location.kind == "store").order_by(Location.id))
    today = clock.today()
    for n, (reference, org, name, source, agency, days, prefixes, first, second, closing) in enumerate(CASES):
        handed_over = today - timedelta(days=days)
        with clock.frozen_at(_at(handed_over - timedelta(days=6))):
            case = _open_case(n, reference, name, source, agency, clock.today(), actor=caseworkers[org])
            for prefix in prefixes:  # bought for this case, so the office store keeps its demo stock
                receive_units(NewUnits(item_type=_item_type(prefix), quantity=1, location=store,
                                       purchase_cost_pence=_item_type(prefix).standard_cost_pence), actor=None)
            request = raise_request(case.id, RequestDetails(
                lines=tuple(WantedLine(_item_type(prefix).id, 1) for prefix in prefixes),
                reason="Wants to feel safe at home again."), actor=caseworkers[org])
            approve_request(request.id, actor=coordinator, note="From the office store.")
        with clock.frozen_at(_at(handed_over)):
            job = schedule_job(InstallBooking(request.id, Visit(fitter.id, handed_over, time(10), time(12))),
                               actor=coordinator)
            for item in db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)):
                scan(ScanInput(ScanAction.ISSUE, item.code, job_id=job.id), actor=fitter)
            complete_job(job.id, Completion(), actor=fitter)
        for kind, after, answers in ((ReviewKind.THREE_MONTHS, 93 + n % 5, first),
                                     (ReviewKind.SIX_MONTHS, 184 + n % 4, second)):
            held = handed_over + timedelta(days=after)
            if answers is None or held > today or (closing and after >= closing[1]):
                continue
            with clock.frozen_at(_at(held, 15) if held < today else clock.now()):
                record_review(case, NewReview(kind, held, _answers(case, answers)), actor=caseworkers[org])
        if closing is not None and handed_over + timedelta(days=closing[1]) < today:
            with clock.frozen_at(_at(handed_over + timedelta(days=closing[1]), 16)):
                close_case(case, Closing(SupportEnded(closing[0]), ReviewAnswers(*closing[2])),
                           actor=caseworkers[org])
    for n, (reference, org, name, source, agency, days, prefix, asked, declined_as, why) in enumerate(
            DECLINED, start=len(CASES)):
        with clock.frozen_at(_at(today - timedelta(days=days))):
            case = _open_case(n, reference, name, source, agency, clock.today(), actor=caseworkers[org])
            request = raise_request(case.id, RequestDetails(lines=(WantedLine(_item_type(prefix).id, 1),),
                                                            reason=asked), actor=caseworkers[org])
        with clock.frozen_at(_at(today - timedelta(days=days - 2), 11)):
            reject_request(request.id, declined_as, note=why, actor=coordinator)
    db.session.flush()
