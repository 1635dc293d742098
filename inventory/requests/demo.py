"""Fictional demo cases and requests, so the queue looks like a working week.

Every name, address and phone number is invented: phones are in Ofcom's drama ranges
(01632 960xxx, 07700 900xxx) and addresses are in places that do not exist.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.details import read_new_case
from inventory.cases.models import SupportEnded
from inventory.cases.operations import close_case, create_case
from inventory.cases.reviews import Closing
from inventory.catalogue.models import ItemType
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.requests.operations import (
    RequestDetails,
    WantedLine,
    add_comment,
    adjust_priority,
    approve_request,
    raise_request,
    reject_request,
    take_action,
)
from inventory.requests.models import DeclinedAs
from inventory.requests.transitions import Action

# reference, organisation ("lead"/"partner"), name, risk, tool, flags, MARAC, days ago raised,
# [(item type name starts with, quantity)], reason
CASES = [
    ("NS-2026-0101", "lead", "Ash Example", "high", "dash", ["address_known", "recent_escalation", "children"], True,
     0, [("Wi-fi video doorbell", 1), ("Personal safety alarm", 1)], "Ex-partner seen outside the house twice this week."),
    ("NS-2026-0102", "lead", "Bo Sample", "high", "dash", ["address_known", "lives_alone"], True,
     2, [("Anti-snap euro cylinder", 2)], "Front and back doors have old locks; perpetrator has a key."),
    ("RA-2026-0103", "partner", "Cam Placeholder", "high", "s_dash", ["repeat_victimisation", "police_request"], False,
     1, [("GPS personal alarm", 1)], "Police ask for a GPS alarm while bail conditions are set."),
    ("NS-2026-0104", "lead", "Dee Fictional", "medium", "dash", ["children", "vulnerability"], False,
     5, [("Solar PIR security light", 2)], "Dark side path; two young children at home."),
    ("RA-2026-0105", "partner", "Eli Invented", "medium", "sash", ["recent_escalation"], False,
     9, [("Window alarm", 1), ("Door chain", 1)], "Messages have escalated to turning up at work."),
    ("NS-2026-0106", "lead", "Fen Madeup", "medium", "professional_judgement", ["lives_alone"], False,
     3, [("Personal safety alarm", 1)], "Walks home late from shift work."),
    ("RA-2026-0107", "partner", "Gus Pretend", "medium", "dash", [], False,
     12, [("Wi-fi CCTV PIR camera", 1)], "Wants evidence of visits to the flat."),
    ("NS-2026-0108", "lead", "Hal Notreal", "standard", "dash", ["children"], False,
     20, [("Door/window lock kit", 1)], "Ground-floor windows do not lock."),
    ("RA-2026-0109", "partner", "Ira Storybook", "standard", "s_dash", [], False,
     4, [("Personal safety alarm", 1)], "Reassurance while the case goes to court."),
    ("NS-2026-0110", "lead", "Jem Imaginary", "standard", "professional_judgement", ["vulnerability"], False,
     16, [("Mains PIR floodlight", 1)], "Uses a wheelchair; the front path is unlit."),
    ("RA-2026-0111", "partner", "Kit Demo", "high", "dash", ["address_known", "children", "repeat_victimisation"], True,
     0, [("Solar 4G CCTV PIR camera", 1), ("Anti-snap euro cylinder", 1)], "New address found by the perpetrator."),
    ("NS-2026-0112", "lead", "Lux Fakename", "standard", "sash", [], False,
     7, [("Window alarm", 2)], "Lives in a shared house with a ground-floor room."),
]
# Where each demo referral came from, in turn: the police, survivors themselves, other agencies.
REFERRALS = [{"referral_source": "police"}, {"referral_source": "self"},
             {"referral_source": "agency", "referral_agency": "Housing options team"},
             {"referral_source": "police"}, {"referral_source": "agency", "referral_agency": "GP practice"},
             {"referral_source": "self"}, {"referral_source": "agency", "referral_agency": "Victim Support"},
             {"referral_source": "other"}]
STREETS = ["Example Street", "Sample Road", "Placeholder Lane", "Fiction Close", "Nowhere Avenue", "Demo Terrace"]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _item_type(prefix: str) -> ItemType:
    return db.session.scalar(select(ItemType).where(ItemType.name.startswith(prefix)))


def seed_cases_demo(*, lead_caseworker_email: str, partner_caseworker_email: str, coordinator_email: str) -> None:
    caseworkers = {"lead": _user(lead_caseworker_email), "partner": _user(partner_caseworker_email)}
    coordinator = _user(coordinator_email)
    today = clock.today()
    raised = {}
    for n, (reference, org, name, risk, tool, flags, marac, days_ago, lines, reason) in enumerate(CASES):
        caseworker = caseworkers[org]
        day = today - timedelta(days=days_ago)
        # Replay each referral at the time it came in, so days waiting and targets look real.
        with clock.frozen_at(datetime.combine(day, time(9 + n % 8, 15), clock.now().tzinfo)):
            case = create_case(read_new_case(Fields({
                "reference": reference, "name": name, "address": f"{10 + n} {STREETS[n % len(STREETS)]}\nDemotown",
                "phone": f"07700 900{100 + n:03d}", "safe_contact_notes": "Text first; do not leave voicemail.",
                "consent_given": True, "consent_on": day, "tenure": ["private_tenant", "social_tenant",
                                                                    "owner_occupier"][n % 3],
                "landlord_consent": "given" if n % 3 != 2 else "not_needed", "risk_tool": tool,
                "risk_level": risk, "risk_assessed_on": day, "marac": marac, "flags": flags,
                **REFERRALS[n % len(REFERRALS)],
            })), actor=caseworker)
            raised[reference] = raise_request(case.id, RequestDetails(
                lines=tuple(WantedLine(_item_type(prefix).id, q) for prefix, q in lines), reason=reason),
                actor=caseworker)
    # A few further along, so each caseworker's list shows decisions and questions.
    take_action(raised["RA-2026-0107"].id, Action.REQUEST_INFO, actor=coordinator,
                note="Is the flat rented? Camera fitting may need the landlord's agreement.")
    reject_request(raised["NS-2026-0112"].id, DeclinedAs.OTHER, actor=coordinator,
                note="Window alarms were fitted by the council last month; call me if they fail.")
    # Covered by stock in the office, so it commits no money.
    approve_request(raised["NS-2026-0102"].id, actor=coordinator, note="Both cylinders reserved from the office store.")
    adjust_priority(raised["NS-2026-0108"].id, 150, actor=coordinator,
                    reason="Perpetrator released from custody on Friday.")
    add_comment(raised["NS-2026-0104"].id, "Is there a socket outside, or should it be the solar light?",
                actor=coordinator)
    withdrawn = create_case(read_new_case(Fields({
        "reference": "NS-2026-0090", "name": "Mo Unreal", "address": "1 Elsewhere Row\nDemotown",
        "phone": "01632 960123", "consent_given": True, "consent_on": today - timedelta(days=30),
        "tenure": "owner_occupier", "landlord_consent": "not_needed", "risk_tool": "dash",
        "risk_level": "standard", "risk_assessed_on": today - timedelta(days=30), "flags": [],
        "referral_source": "self",
    })), actor=caseworkers["lead"])
    close_case(withdrawn, Closing(SupportEnded.DECLINED), actor=caseworkers["lead"])
    db.session.flush()
