import pytest
from sqlalchemy import select

from inventory.audit.models import AccessLogEntry
from inventory.extensions import db


def api_case_body(build, **overrides):
    return {key: value for key, value in build.case_details(**overrides).items() if value is not None}


def test_a_caseworker_opens_a_case_and_reads_it_back_with_a_logged_view(api, build):
    caller = api(user=build.caseworker())
    created = caller.post("/cases", json=api_case_body(build, reference="NS-2026-0600", name="Ari Fictional"))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["reference"] == "NS-2026-0600" and body["name"] is None
    fetched = caller.get(f"/cases/{body['id']}").get_json()
    assert fetched["name"] == "Ari Fictional" and fetched["risk_level"] == "standard"
    assert db.session.scalar(select(AccessLogEntry.case_id)) == body["id"]


@pytest.mark.parametrize("overrides, field", [
    ({"reference": "NS-2026-0601"}, "reference"),
    ({"consent_given": False}, "consent_given"),
    ({"flags": "children"}, "flags"),
    ({"name": 42}, "name"),
])
def test_bad_case_input_is_a_422_naming_the_field(api, build, overrides, field):
    caseworker = build.caseworker()
    build.case(caseworker=caseworker, reference="NS-2026-0601")
    response = api(user=caseworker).post("/cases", json=api_case_body(build, **overrides))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_a_body_that_is_not_an_object_is_a_422(api, build):
    response = api(user=build.caseworker()).post("/cases", json=["nope"])
    assert response.status_code == 422


@pytest.mark.parametrize("role, own_org, status, personal", [
    ("caseworker", True, 200, True),
    ("caseworker", False, 404, False),
    ("coordinator", False, 200, True),
    ("finance", False, 200, False),
    ("auditor", False, 403, False),
    ("admin", False, 403, False),
    ("fitter", False, 403, False),
])
def test_get_case_by_role(api, build, role, own_org, status, personal):
    partner = build.organisation()
    case = build.case(organisation=partner, name="Sky Imaginary")
    caller = api(user=build.user(roles=[role], organisation=partner if own_org else None))
    response = caller.get(f"/cases/{case.id}")
    assert response.status_code == status
    if status == 200:
        body = response.get_json()
        assert (body["name"] == "Sky Imaginary") == personal
        assert body["reference"] == case.reference
        if role == "finance":
            assert body["risk_level"] is None and body["address"] is None
    logged = db.session.scalars(select(AccessLogEntry)).all()
    assert len(logged) == (1 if personal else 0)


def test_the_case_list_never_carries_personal_fields_and_filters_by_reference(api, build):
    caseworker = build.caseworker()
    build.case(caseworker=caseworker, reference="NS-2026-0700")
    build.case(caseworker=caseworker, reference="NS-2026-0800")
    other = build.case(organisation=build.organisation())
    other.reference = "NS-2026-0701"  # another organisation's, from before prefixes
    db.session.commit()
    body = api(user=caseworker).get("/cases?reference=NS-2026-07").get_json()
    assert [c["reference"] for c in body["items"]] == ["NS-2026-0700"]
    assert body["items"][0]["name"] is None and body["total"] == 1
    assert db.session.scalar(select(AccessLogEntry.id)) is None


def test_the_case_list_api_finds_references_containing_the_search_anywhere(api, build):
    caseworker = build.caseworker()
    build.case(caseworker=caseworker, reference="NS-2026-0142")
    build.case(caseworker=caseworker, reference="NS-2026-0888")
    body = api(user=caseworker).get("/cases?reference=0142").get_json()
    assert [c["reference"] for c in body["items"]] == ["NS-2026-0142"]


@pytest.mark.parametrize("field, value", [("name", 42), ("consent_on", "yesterday"), ("tenure", ["owner_occupier"]),
                                          ("marac", "yes"), ("flags", [1]), ("reference", None)])
def test_case_values_of_the_wrong_type_are_a_422_never_a_500(api, build, field, value):
    response = api(user=build.caseworker()).post("/cases", json={**api_case_body(build), field: value})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_a_read_sent_from_another_website_with_the_session_cookie_reveals_and_records_nothing(login, client, build):
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker, name="Sky Imaginary")
    login(caseworker)
    response = client.get(f"/api/v1/cases/{case.id}", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200 and response.get_json()["name"] is None
    assert db.session.scalar(select(AccessLogEntry.id)) is None
    same_site = client.get(f"/api/v1/cases/{case.id}", headers={"Sec-Fetch-Site": "same-origin"})
    assert same_site.get_json()["name"] == "Sky Imaginary"
    assert db.session.scalar(select(AccessLogEntry.case_id)) == case.id


def test_a_partner_cannot_probe_another_organisations_references_through_the_api_or_the_form(api, build, client,
                                                                                             login):
    build.case(reference="NS-2026-0142")  # the lead's
    partner_caseworker = build.caseworker(build.organisation(case_reference_prefix="RA"))
    caller = api(user=partner_caseworker)
    held = caller.post("/cases", json=api_case_body(build, reference="NS-2026-0142"))
    free = caller.post("/cases", json=api_case_body(build, reference="NS-2026-0999"))
    assert held.status_code == free.status_code == 422
    assert held.get_json() == free.get_json()
    assert "already exists" not in held.get_data(as_text=True)
    login(partner_caseworker)
    pages = [client.post("/cases/new", data={**api_case_body(build, reference=reference), "consent_given": "y"})
             for reference in ("NS-2026-0142", "NS-2026-0999")]
    assert [page.status_code for page in pages] == [422, 422]
    assert all("Use your organisation&#39;s format: RA" in page.get_data(as_text=True) for page in pages)
    assert not any("already exists" in page.get_data(as_text=True) for page in pages)


def test_a_duplicate_reference_within_ones_own_organisation_is_a_clear_422(api, build):
    caseworker = build.caseworker()
    build.case(caseworker=caseworker, reference="NS-2026-0142")
    response = api(user=caseworker).post("/cases", json=api_case_body(build, reference="NS-2026-0142"))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {"reference": "A case with this reference already exists."}
