"""A fictional visit for the demo fitter today: a camera doorbell (a connected device, so the
handover checklist) and an alarm, reserved from the office store, labels ready to print."""
from datetime import time, timedelta

from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.cases.operations import create_case
from inventory.catalogue.models import ItemType
from inventory.extensions import db
from inventory.jobs.operations import schedule_job
from inventory.requests.operations import approve_request, raise_request


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _item_type(prefix: str) -> ItemType:
    return db.session.scalar(select(ItemType).where(ItemType.name.startswith(prefix)))


def seed_jobs_demo(*, fitter_email: str, coordinator_email: str, caseworker_email: str) -> None:
    coordinator, caseworker = _user(coordinator_email), _user(caseworker_email)
    week_ago = clock.today() - timedelta(days=7)
    case = create_case({
        "reference": "NS-2026-0113", "name": "Nia Pretendname", "address": "7 Nowhere Mews\nDemotown",
        "phone": "07700 900213", "safe_contact_notes": "Call from a withheld number; she answers after 3 rings.",
        "consent_given": True, "consent_on": week_ago, "tenure": "social_tenant", "landlord_consent": "given",
        "risk_tool": "dash", "risk_level": "high", "risk_assessed_on": week_ago, "marac": True,
        "flags": ["address_known", "lives_alone"],
    }, actor=caseworker)
    request = raise_request({"case_id": case.id, "reason": "Perpetrator has been seen at the door at night.",
                             "lines": [{"item_type_id": _item_type("Wi-fi video doorbell").id, "quantity": 1},
                                       {"item_type_id": _item_type("Personal safety alarm").id, "quantity": 1}]},
                           actor=caseworker)
    approve_request(request.id, actor=coordinator, note="Both from the office store.")
    schedule_job({"request_id": request.id, "fitter_id": _user(fitter_email).id,
                  "scheduled_for": clock.today().isoformat(), "window_starts": time(10), "window_ends": time(12)},
                 actor=coordinator)
