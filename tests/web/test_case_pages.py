import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.audit.models import AccessLogEntry
from inventory.cases.models import Case
from inventory.extensions import db

def form_for(details):
    data = {key: value for key, value in details.items() if value not in (None, False) and key != "flags"}
    data["consent_given"] = "y" if details["consent_given"] else ""
    data["flags"] = details["flags"]
    return data


def test_a_caseworker_opens_a_case_through_the_form(client, build, login):
    caseworker = login(build.caseworker())
    response = client.post("/cases/new", data=form_for(build.case_details(
        reference="ns-2026-0500", risk_level="high", flags=["children", "recent_escalation"])))
    assert response.status_code == 302, response.get_data(as_text=True)
    case = db.session.scalar(select(Case))
    assert (case.reference, case.organisation_id, case.flags) == (
        "NS-2026-0500", caseworker.organisation_id, ["recent_escalation", "children"])


def test_a_reference_that_exists_is_shown_at_the_field(client, build, login):
    caseworker = login(build.caseworker())
    build.case(caseworker=caseworker, reference="NS-2026-0501")
    response = client.post("/cases/new", data=form_for(build.case_details(reference="NS-2026-0501")))
    assert response.status_code == 422
    assert "A case with this reference already exists." in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Case)) == 1


def reveal(client, case, purpose="show"):
    """Press "Show personal details" (or "Edit") on the case page, and follow where it leads."""
    return client.post(f"/cases/{case.id}/reveal", data={"purpose": purpose}, follow_redirects=True)


def access_log():
    return [(entry.user_id, entry.case_id, entry.reason) for entry in db.session.scalars(select(AccessLogEntry))]


def test_personal_details_stay_hidden_until_asked_for_and_each_reveal_is_logged(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, name="Robin Madeup")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Robin Madeup" not in page and "Show personal details" in page
    assert access_log() == []
    pressed = client.post(f"/cases/{case.id}/reveal", data={"purpose": "show"})
    assert pressed.status_code == 303 and pressed.location.endswith(f"/cases/{case.id}")
    assert "Robin Madeup" in client.get(pressed.location).get_data(as_text=True)
    assert access_log() == [(caseworker.id, case.id, "Opened on the case page")]
    assert "Robin Madeup" in client.get(f"/cases/{case.id}").get_data(as_text=True)  # reloading logs nothing more
    assert len(access_log()) == 1


def test_a_get_never_reveals_or_logs_even_with_the_old_reveal_link(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, name="Robin Madeup")
    for path in (f"/cases/{case.id}?reveal=1", f"/cases/{case.id}/edit", f"/cases/{case.id}/reveal"):
        response = client.get(path)
        assert "Robin Madeup" not in response.get_data(as_text=True), path
    assert access_log() == []


def test_the_show_button_is_a_form_with_the_csrf_token(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    [form] = re.findall(rf'<form method="post" action="/cases/{case.id}/reveal">.*?</form>', page, re.S)
    assert 'name="csrf_token"' in form and "Show personal details" in form


def test_a_reveal_shows_the_details_only_to_that_user_on_that_case_and_only_for_a_while(client, build, login, app):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker, name="Robin Madeup")
    other_case = build.case(caseworker=caseworker, name="Sam Otherperson")
    login(caseworker)
    revealed_at = clock.now()
    with clock.frozen_at(revealed_at):
        assert "Robin Madeup" in reveal(client, case).get_data(as_text=True)
        assert "Sam Otherperson" not in client.get(f"/cases/{other_case.id}").get_data(as_text=True)
    seconds = app.config["REVEAL_SECONDS"]
    with clock.frozen_at(revealed_at + timedelta(seconds=seconds - 1)):
        assert "Robin Madeup" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    with clock.frozen_at(revealed_at + timedelta(seconds=seconds + 1)):
        assert "Robin Madeup" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    client.post("/logout")
    login(build.caseworker(caseworker.organisation))
    with clock.frozen_at(revealed_at):
        assert "Robin Madeup" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert len(access_log()) == 1


def test_the_edit_form_opens_through_a_logged_reveal(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, name="Robin Madeup")
    straight = client.get(f"/cases/{case.id}/edit")
    assert straight.status_code == 302 and straight.location.endswith(f"/cases/{case.id}")
    assert access_log() == []
    pressed = client.post(f"/cases/{case.id}/reveal", data={"purpose": "edit"})
    assert pressed.status_code == 303 and pressed.location.endswith(f"/cases/{case.id}/edit")
    form = client.get(pressed.location)
    assert form.status_code == 200 and "Robin Madeup" in form.get_data(as_text=True)
    assert access_log() == [(caseworker.id, case.id, "Editing the case")]


def test_markup_typed_into_a_case_is_shown_escaped(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker, name="<script>alert(1)</script>", safe_contact_notes="<b>bold</b>")
    page = reveal(client, case).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


NOT_VISIBLE = {"page": (404, False), "reveal": (404, False), "edit": (404, False)}
FORBIDDEN = {"page": (403, False), "reveal": (403, False), "edit": (403, False)}
# (roles, of the case's organisation?) -> route -> (status, shows the name); a reveal that
# shows the name is logged, one that does not logs nothing.
CASE_PAGE_MATRIX = {
    ("caseworker", True): {"page": (200, False), "reveal": (200, True), "edit": (200, True)},
    ("caseworker", False): NOT_VISIBLE,
    ("coordinator", False): {"page": (200, False), "reveal": (200, True), "edit": (403, False)},
    ("finance", False): {"page": (200, False), "reveal": (200, False), "edit": (403, False)},
    ("auditor", False): FORBIDDEN,
    ("admin", False): FORBIDDEN,
    ("fitter", False): FORBIDDEN,
}


@pytest.mark.parametrize("route", ["page", "reveal", "edit"])
@pytest.mark.parametrize("role, own_org", sorted(CASE_PAGE_MATRIX))
def test_case_pages_by_role(client, build, login, route, role, own_org):
    partner = build.organisation()
    case = build.case(organisation=partner, name="Quinn Invented")
    login(build.user(roles=[role], organisation=partner if own_org else None))
    response = client.get(f"/cases/{case.id}") if route == "page" else reveal(client, case, purpose=route)
    status, shows_name = CASE_PAGE_MATRIX[(role, own_org)][route]
    assert response.status_code == status
    assert ("Quinn Invented" in response.get_data(as_text=True)) == shows_name
    assert len(access_log()) == (1 if shows_name else 0)


def test_a_coordinator_who_is_also_a_caseworker_cannot_edit_or_close_another_organisations_case(client, build,
                                                                                               login):
    login(build.user(roles=["coordinator", "caseworker"]))
    case = build.case(organisation=build.organisation())
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert ">Edit<" not in page and "Close case" not in page and "Raise a request" not in page
    assert client.post(f"/cases/{case.id}/reveal", data={"purpose": "edit"}).status_code == 403
    assert client.post(f"/cases/{case.id}/edit", data=form_for(build.case_details())).status_code == 403
    assert client.post(f"/cases/{case.id}/close").status_code == 403
    assert access_log() == []
    db.session.expire_all()
    assert db.session.get(Case, case.id).is_open


def test_the_case_list_searches_by_reference(client, build, login):
    caseworker = login(build.caseworker())
    build.case(caseworker=caseworker, reference="NS-2026-0777")
    build.case(caseworker=caseworker, reference="NS-2026-0888")
    page = client.get("/cases?q=NS-2026-07").get_data(as_text=True)
    assert "NS-2026-0777" in page and "NS-2026-0888" not in page


def test_the_case_list_finds_a_reference_by_any_part_of_it_in_any_case(client, build, login):
    caseworker = login(build.caseworker())
    build.case(caseworker=caseworker, reference="NS-2026-0142")
    build.case(caseworker=caseworker, reference="NS-2026-0888")
    for search in ("0142", "2026-01", "ns-2026-0142", "s-2026-014"):
        page = client.get(f"/cases?q={search}").get_data(as_text=True)
        assert "NS-2026-0142" in page and "NS-2026-0888" not in page, search


def test_the_case_search_takes_percent_and_underscore_as_themselves(client, build, login):
    caseworker = login(build.caseworker())
    build.case(caseworker=caseworker, reference="NS-2026-0555")
    for search in ("%", "_", "NS_2026"):
        page = client.get(f"/cases?q={search.replace('%', '%25')}").get_data(as_text=True)
        assert "NS-2026-0555" not in page and "whose reference contains" in page, search


def test_a_caseworker_edits_a_case_and_closes_it(client, build, login):
    caseworker = login(build.caseworker())
    case = build.case(caseworker=caseworker)
    details = build.case_details(risk_level="medium", name="New Name")
    response = client.post(f"/cases/{case.id}/edit", data=form_for(details))
    assert response.status_code == 302, response.get_data(as_text=True)
    closing = {"support_ended": "no_longer_needed", "feels_safer": "4", "still_at_address": "yes"}
    assert client.post(f"/cases/{case.id}/close", data=closing).status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.risk_level, case.name, case.status) == ("medium", "New Name", "closed")


class TestABarePostToTheEditForm:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_shows_none_of_the_stored_details_and_logs_nothing(self, client, build):
        """A POST with only the CSRF token is refused without echoing the stored name, address
        and phone: they are shown only after a logged reveal."""
        caseworker = build.caseworker()
        case = build.case(caseworker=caseworker, name="Ottoline Quarrie", address="9 Tamsin Row",
                          phone="01632 960321")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        client.post("/login", data={"email": caseworker.email, "password": build.PASSWORD, "csrf_token": token})
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get(f"/cases/{case.id}").get_data(as_text=True)).group(1)
        response = client.post(f"/cases/{case.id}/edit", data={"csrf_token": token})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert [text for text in ("Ottoline Quarrie", "9 Tamsin Row", "01632 960321") if text in page] == []
        assert db.session.scalars(select(AccessLogEntry)).all() == []


def test_finance_sees_references_but_not_risk_or_requests(client, build, login):
    case = build.case(risk_level="high")
    build.equipment_request(case=case)
    login(build.user(roles=["finance"]))
    listing = client.get("/cases").get_data(as_text=True)
    assert case.reference in listing and "High" not in listing
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert case.reference in page and "Request " not in page and "High" not in page
