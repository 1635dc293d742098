"""The case's privacy pages: "anonymise now" for coordinators (a reason, a confirmation, the
password again, an audit event) and the subject-access export (a printable page and a JSON
download, each in the access log) for those who see the case's details."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.audit.models import AccessLogEntry, AuditEvent, AuditEventKind
from inventory.cases.models import Case
from inventory.extensions import db


def anonymised(case) -> bool:
    db.session.expire_all()
    return db.session.get(Case, case.id).is_anonymised


def test_a_coordinator_anonymises_a_case_now_with_a_reason_and_a_confirmation(client, login, build):
    case = build.case()
    coordinator = login(roles=["coordinator"])
    page = client.get(f"/cases/{case.id}")
    assert f"/cases/{case.id}/anonymise" in page.get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/anonymise").status_code == 200

    answer = client.post(f"/cases/{case.id}/anonymise", data={"reason": "survivor_asked"})
    assert answer.status_code == 422
    assert "Tick to confirm that this cannot be undone." in answer.get_data(as_text=True)
    assert not anonymised(case)

    done = client.post(f"/cases/{case.id}/anonymise", data={"reason": "survivor_asked", "understood": "y"})
    assert done.headers["Location"] == f"/cases/{case.id}"
    assert anonymised(case)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == AuditEventKind.CASE_ANONYMISED))
    assert (event.actor_id, event.details) == (
        coordinator.id, {"case_id": case.id, "reference": case.reference, "reason": "survivor_asked"})
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The survivor asked for their data to be erased".lower() in shown
    assert "Show personal details" not in shown


@pytest.mark.parametrize(("data", "message"), [
    ({"understood": "y"}, "Choose why the case is anonymised now."),
    ({"reason": "retention_ended", "understood": "y"}, "Choose a reason from the list."),
    ({"reason": "made_up", "understood": "y"}, "Not a valid choice."),
])
def test_anonymise_now_without_a_reason_of_the_list_is_refused(client, login, build, data, message):
    case = build.case()
    login(roles=["coordinator"])
    answer = client.post(f"/cases/{case.id}/anonymise", data=data)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert not anonymised(case)


def test_anonymising_a_case_with_a_request_open_says_so_at_the_form(client, login, build):
    case = build.equipment_request().case
    login(roles=["coordinator"])
    answer = client.post(f"/cases/{case.id}/anonymise", data={"reason": "safety", "understood": "y"})
    assert answer.status_code == 422
    assert "still has a request or visit open" in answer.get_data(as_text=True)
    assert not anonymised(case)


@pytest.mark.parametrize("roles", [["caseworker"], ["admin"], ["finance"], ["auditor"], ["fitter"]])
def test_nobody_but_a_coordinator_may_anonymise(client, login, build, roles):
    case = build.case()
    login(build.user(roles=roles, organisation=case.organisation))
    assert client.post(f"/cases/{case.id}/anonymise", data={"reason": "safety", "understood": "y"}).status_code == 403
    assert not anonymised(case)


def test_after_a_while_anonymising_asks_for_the_password_first(client, login, build, app):
    case = build.case()
    login(roles=["coordinator"])
    with clock.frozen_at(clock.now() + timedelta(seconds=app.config["REAUTH_SECONDS"] + 1)):
        asked = client.post(f"/cases/{case.id}/anonymise", data={"reason": "safety", "understood": "y"},
                            headers={"Referer": f"http://localhost/cases/{case.id}/anonymise"})
        assert asked.headers["Location"] == f"/account/confirm?next=/cases/{case.id}/anonymise"
    assert not anonymised(case)


def exports(case):
    return db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case.id,
                                                           AccessLogEntry.what == "subject access export")).all()


@pytest.mark.parametrize("roles", [["coordinator"], ["caseworker"]])
def test_the_subject_access_export_downloads_as_json_and_is_in_the_access_log(client, login, build, roles):
    case = build.case(name="Ada Example")
    user = login(build.user(roles=roles, organisation=case.organisation))
    assert client.get(f"/cases/{case.id}/subject-access").status_code == 200
    answer = client.post(f"/cases/{case.id}/subject-access", data={"format": "json"})
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == f'attachment; filename="subject-access-{case.reference}.json"'
    export = json.loads(answer.get_data(as_text=True))
    assert export["case"]["name"] == "Ada Example"
    assert [(e.user_id, e.reason) for e in exports(case)] == [(user.id, "Subject-access request")]
    assert export["access_log"][-1]["what"] == "subject access export"


def test_the_subject_access_export_shows_a_printable_page(client, login, build):
    case = build.case(name="Ada Example", address="2 Sample Street")
    login(roles=["coordinator"])
    page = client.post(f"/cases/{case.id}/subject-access", data={"format": "html"})
    assert page.status_code == 200
    assert "Ada Example" in page.get_data(as_text=True) and "2 Sample Street" in page.get_data(as_text=True)
    assert len(exports(case)) == 1


def test_an_unknown_export_format_is_refused_and_nothing_is_logged(client, login, build):
    case = build.case()
    login(roles=["coordinator"])
    answer = client.post(f"/cases/{case.id}/subject-access", data={"format": "xml"})
    assert answer.status_code == 422
    assert "Choose the page or the JSON file." in answer.get_data(as_text=True)
    assert exports(case) == []


@pytest.mark.parametrize("who", ["partner caseworker", "finance", "admin", "auditor"])
def test_nobody_else_sees_the_subject_access_export(client, login, build, who):
    case = build.case()
    roles = {"partner caseworker": ["caseworker"]}.get(who, [who])
    organisation = build.organisation() if who == "partner caseworker" else None
    login(build.user(roles=roles, organisation=organisation))
    assert client.post(f"/cases/{case.id}/subject-access", data={"format": "json"}).status_code in (403, 404)
    assert exports(case) == []


def test_an_anonymised_case_has_no_subject_access_export(client, login, build):
    case = build.case()
    login(roles=["coordinator"])
    client.post(f"/cases/{case.id}/anonymise", data={"reason": "safety", "understood": "y"})
    assert client.post(f"/cases/{case.id}/subject-access", data={"format": "json"}).status_code == 404
