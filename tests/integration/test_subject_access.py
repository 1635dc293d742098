"""The subject-access export of one case holds everything about its survivor, field by
field as the test built it, and nothing about another case."""
from datetime import UTC, date, datetime

from sqlalchemy import select

from inventory import clock
from inventory.audit.operations import record_access
from inventory.cases.models import CaseReview
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.privacy.subject_access import FORMAT, subject_access_export
from inventory.requests.operations import add_comment, adjust_priority, approve_request, take_action
from inventory.requests.transitions import Action

MOMENT = datetime(2026, 5, 4, 10, tzinfo=UTC)


def test_the_export_holds_the_case_its_requests_visits_items_reviews_and_access_log_field_by_field(app, build):
    with clock.frozen_at(MOMENT):
        coordinator, fitter = build.user(roles=["coordinator"], name="Cora Ordinator"), build.user(
            roles=["fitter"], name="Fitz Fitter")
        caseworker = build.caseworker()
        alarm = build.item_type(name="Personal alarm")
        case = build.case(caseworker=caseworker, name="Ada Example", address="2 Sample Street\nTestville",
                          phone="01632 960001", safe_contact_notes="Text only after 6pm.",
                          police_reference="CR/1/2026", risk_level="high", flags=["children", "lives_alone"])
        withdrawn = build.equipment_request(case=case, caseworker=caseworker, reason="Window alarms, ground floor.")
        add_comment(withdrawn.id, "Ask about the garden gate.", actor=coordinator)
        adjust_priority(withdrawn.id, 3, "Escalating messages.", actor=coordinator)
        take_action(withdrawn.id, Action.WITHDRAW, note="Bought her own.", actor=caseworker)
        db.session.commit()
        build.items(1, item_type=alarm)
        request = build.equipment_request(case=case, caseworker=caseworker, lines=[(alarm, 1)],
                                          reason="Needs an alarm to carry.")
        approve_request(request.id, actor=coordinator)
        db.session.commit()
        _, (item,) = build.handed_over(request=request, fitter=fitter)
        db.session.add(CaseReview(case_id=case.id, kind="three_months", reviewed_on=date(2026, 5, 4),
                                  recorded_by_id=coordinator.id, feels_safer=4, still_at_address=True,
                                  incidents_since_fitting=0))
        record_access(coordinator, case_id=case.id, case_reference=case.reference,
                      what="name, address, phone, safe contact notes",
                      reason="Opened on the case page")
        other = build.case(name="Someone Else")
        record_access(coordinator, case_id=other.id, case_reference=other.reference, what="name",
                      reason="Opened on the case page")
        db.session.commit()

        export = subject_access_export(case)

    job = db.session.scalar(select(Job).where(Job.case_id == case.id))
    assert export["format"] == FORMAT and export["generated_at"] == MOMENT.isoformat()
    assert export["case"] == {
        "id": case.id, "reference": case.reference, "organisation": case.organisation.name,
        "opened_at": case.created_at.isoformat(), "opened_by": caseworker.name,
        "name": "Ada Example", "address": "2 Sample Street\nTestville", "phone": "01632 960001",
        "safe_contact_notes": "Text only after 6pm.", "police_reference": "CR/1/2026",
        "consent_on": case.consent_on.isoformat(), "tenure": "private_tenant", "landlord_consent": "given",
        "risk_tool": "dash", "risk_level": "high", "risk_assessed_on": case.risk_assessed_on.isoformat(),
        "marac": False, "referral_source": "police", "referral_agency": None, "status": "open", "closed_on": None,
        "flags": ["children", "lives_alone"],
    }
    first, second = export["requests"]
    assert (first["id"], first["state"], first["reason"], first["raised_by"]) == (
        withdrawn.id, "withdrawn", "Window alarms, ground floor.", caseworker.name)
    assert first["comments"] == [{"at": MOMENT.isoformat(), "by": "Cora Ordinator", "body": "Ask about the garden gate."}]
    assert first["priority_moves"] == [{"at": MOMENT.isoformat(), "by": "Cora Ordinator", "points": 3,
                                        "reason": "Escalating messages."}]
    assert [(e["action"], e["to_state"], e["note"]) for e in first["history"]] == [
        ("submit", "submitted", None), ("withdraw", "withdrawn", "Bought her own.")]
    assert (second["id"], second["reason"], second["decided_by"], second["decided_at"]) == (
        request.id, "Needs an alarm to carry.", "Cora Ordinator", MOMENT.isoformat())
    assert second["lines"] == [{"item_type": "Personal alarm", "quantity": 1, "approved_quantity": 1}]
    (visit,) = export["visits"]
    assert (visit["id"], visit["kind"], visit["status"], visit["fitter"], visit["scheduled_for"], visit["window"]) == (
        job.id, "install", "completed", "Fitz Fitter", "2026-05-04", "09:00-12:00")
    assert [(i["item"], i["item_type"], i["outcome"], i["loaned"]) for i in visit["handed_over"]] == [
        (item.code, "Personal alarm", "issued", True)]
    assert [(e["item"], e["event"], e["at"]) for e in export["item_events"]] == [
        (item.code, "issued", MOMENT.isoformat())]
    assert export["returns"] == []
    assert export["reviews"] == [{"kind": "three_months", "reviewed_on": "2026-05-04", "recorded_by": "Cora Ordinator",
                                  "feels_safer": 4, "still_at_address": True, "incidents_since_fitting": 0,
                                  "support_ended": None, "items": []}]
    assert export["access_log"] == [{"at": MOMENT.isoformat(), "by": "Cora Ordinator",
                                     "what": "name, address, phone, safe contact notes",
                                     "why": "Opened on the case page"}]
    assert "Someone Else" not in str(export)
