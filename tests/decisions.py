"""A world with one decision of every kind the approval trail reads, each on a known day,
about cases whose survivors have distinctive names, addresses and phone numbers (so a test
can assert that none of them reaches a report)."""
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import operations as budget
from inventory.budget.models import OverspendAlert
from inventory.extensions import db
from inventory.procurement import invoices
from inventory.procurement.invoices import InvoiceLine
from inventory.requests.models import DeclinedAs
from inventory.requests.operations import ApprovedLine, adjust_priority, approve_request, reject_request
from inventory.stock import operations as stock

TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)

# What must never appear in a report: the survivors' personal data.
PERSONAL = {
    "lead": {"name": "Zephyrine Quillfeather", "address": "17 Larkspur Mews\nOldtown", "phone": "07700 900123",
             "safe_contact_notes": "Ring twice, ask for Marigold"},
    "partner": {"name": "Bartholomew Ashgrove-Vane", "address": "4 Cobble Wynd\nEastfold", "phone": "07700 900456",
                "safe_contact_notes": "Email only, never post"},
}


def personal_strings() -> list[str]:
    """Every personal value, and each line of each address on its own."""
    values = []
    for details in PERSONAL.values():
        for value in details.values():
            values += [value, *value.split("\n")]
    return values


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


@dataclass
class Decisions:
    lead_case: object
    partner_case: object
    partner: object
    coordinator: object
    finance: object
    admin: object
    overspend_pence: int


def every_kind_of_decision(build) -> Decisions:
    """One of each decision, oldest first (times in UTC; June is BST, an hour ahead):

    1 Jun 09:00  Cora moves the partner's request up 5 points
    2 Jun 09:00  Cora approves it in full (2 × £15.00 window alarms)
    3 Jun 09:00  Cora approves part of the lead's request (1 of 2 × £25.00 alarms, no doorbell)
    4 Jun 09:00  Cora rejects the lead's doorbell request (£90.00), declined as ineligible
    5 Jun 09:00  Fin approves Alarm Co's invoice INV-77 beyond tolerance (£34.00)
    5 Jun 23:30  Fin posts credit note CN-9 against it (£6.00): 6 June in local time
    9 Jun 09:00  Fin resolves the overspend of a direct purchase for the partner's case
    11 Jun 09:00 Ada reopens May 2026
    12 Jun 09:00 Cora writes off a door wedge alarm (£12.00 bought)
    """
    with clock.frozen_at(at(1, 8)):
        lead, partner = build.lead(), build.organisation(name="Northern Partner")
        coordinator = build.user(roles=["coordinator"], name="Cora Lane")
        finance = build.user(roles=["finance"], name="Fin Marsh")
        admin = build.user(roles=["admin"], name="Ada Root")
        build.budget_period(allocated_pence=100_000, actor=finance)
        lead_case = build.case(organisation=lead, **PERSONAL["lead"])
        partner_case = build.case(organisation=partner, **PERSONAL["partner"])
        window_alarm = build.item_type(name="Window alarm", standard_cost_pence=1500)
        alarm = build.item_type(name="Personal alarm", standard_cost_pence=2500)
        doorbell = build.item_type(name="Video doorbell", standard_cost_pence=9000)
        partner_request = build.equipment_request(case=partner_case, lines=[(window_alarm, 2)])
        lead_request = build.equipment_request(case=lead_case, lines=[(alarm, 2), (doorbell, 1)])
        doorbell_request = build.equipment_request(case=lead_case, lines=[(doorbell, 1)])
    with clock.frozen_at(at(1)):
        adjust_priority(partner_request.id, 5, "Perpetrator seen nearby", actor=coordinator)
        db.session.commit()
    with clock.frozen_at(at(2)):
        approve_request(partner_request.id, actor=coordinator)
        db.session.commit()
    with clock.frozen_at(at(3)):
        alarm_line, doorbell_line = lead_request.lines
        approve_request(lead_request.id, lines=[ApprovedLine(alarm_line.id, 1), ApprovedLine(doorbell_line.id, 0)],
                        note="One alarm is enough for now", actor=coordinator)
        db.session.commit()
    with clock.frozen_at(at(4)):
        reject_request(doorbell_request.id, DeclinedAs.INELIGIBLE, note="Landlord refused consent", actor=coordinator)
        db.session.commit()
    with clock.frozen_at(at(5, 8)):
        order = build.purchase_order(supplier=build.supplier(name="Alarm Co"), lines=[(alarm, 2, 1000, 200)],
                                     actor=coordinator)
        build.receipt(order, actor=coordinator)
        invoice = invoices.record_invoice(order, number="INV-77", invoice_date=clock.today(), actor=finance,
                                          lines=[InvoiceLine(order.lines[0].id, 2, 1500, 200)])
        db.session.commit()
    with clock.frozen_at(at(5)):
        invoices.approve_invoice(invoice, actor=finance, reason="Price rise agreed by phone")
        db.session.commit()
    with clock.frozen_at(at(5, 23, 30)):
        invoices.record_credit_note(invoice, number="CN-9", invoice_date=clock.today(), reason="=One unit returned",
                                    actor=finance, net_pence=500, vat_pence=100)
        db.session.commit()
    with clock.frozen_at(at(8)):
        _, entry = budget.record_direct_purchase(
            supplier_name="Lock Shop", purchased_on=clock.today(), net_pence=150_000, vat_pence=0,
            gross_pence=150_000, receipt_reference="R-5", category="Lock", case_reference=partner_case.reference,
            actor=finance)
        db.session.commit()
        # (The invoice above its order raised an alert of its own, left open.)
        alert = db.session.scalar(select(OverspendAlert).where(OverspendAlert.entry_id == entry.id))
    with clock.frozen_at(at(9)):
        budget.resolve_overspend(alert, actor=finance, resolution="Top-up agreed with the PCC")
        db.session.commit()
    with clock.frozen_at(at(10)):
        budget.close_month(date(2026, 5, 1), actor=finance)
        db.session.commit()
    with clock.frozen_at(at(11)):
        budget.reopen_month(date(2026, 5, 1), actor=admin, reason="Late invoice from a May supplier")
        db.session.commit()
    with clock.frozen_at(at(12)):
        unit = build.item(item_type=build.item_type(name="Door wedge alarm"), purchase_cost_pence=1200)
        stock.write_off(unit, "faulty", coordinator, note="Siren failed on test")
        db.session.commit()
    return Decisions(lead_case, partner_case, partner, coordinator, finance, admin, alert.over_by_pence)


@pytest.fixture(autouse=True)
def frozen_today():
    """Imported by a test module, every test in it runs on TODAY."""
    with clock.frozen_at(TODAY):
        yield


@pytest.fixture
def world(build):
    return every_kind_of_decision(build)
