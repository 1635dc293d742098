import pytest
from sqlalchemy import select

from inventory.accounts.models import Organisation, User
from inventory.audit.models import AuditEvent
from inventory.extensions import db

# Finance opens no personal data, so an admin gives it at once (a fitter's role waits for a
# second admin: tests/web/test_four_eyes.py).
GOOD_USER = {"name": "Jo Finance", "email": "jo@example.test", "roles": ["finance"],
             "password": "a long enough passphrase", "confirm": "a long enough passphrase"}


@pytest.fixture
def admin(login):
    return login(roles=["admin"])


def new_user_form(**changes):
    data = {**GOOD_USER, **changes}
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_creates_a_user_who_can_then_sign_in(app, client, admin, build):
    response = client.post("/admin/users/new", data=new_user_form(organisation_id=admin.organisation_id))
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.email == "jo@example.test"))
    assert created.roles == ["finance"]
    browser = app.test_client()
    assert browser.post("/login", data={"email": "jo@example.test",
                                        "password": "a long enough passphrase"}).status_code == 302


@pytest.mark.parametrize("changes, field, message", [
    ({"email": "not-an-email"}, "email", "Invalid email address"),
    ({"name": ""}, "name", "This field is required"),
    ({"roles": None}, "roles", "Choose at least one role"),
    ({"roles": ["overlord"]}, "roles", "not a valid choice"),
    ({"password": "short", "confirm": "short"}, "password", "at least 12"),
    ({"confirm": "something else entirely"}, "confirm", "The two passwords differ"),
    ({"organisation_id": "999"}, "organisation_id", "Not a valid choice"),
    ({"organisation_id": "abc"}, "organisation_id", "Choose an organisation"),
])
def test_bad_values_are_refused_at_the_field_and_nothing_is_saved(client, admin, changes, field, message):
    data = new_user_form(**{"organisation_id": admin.organisation_id, **changes})
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message.lower() in page.lower()
    assert db.session.scalar(select(User).where(User.email == "jo@example.test")) is None


def test_a_lead_only_role_at_a_partner_is_refused_at_the_roles_field(client, admin, build):
    partner = build.organisation()
    response = client.post("/admin/users/new", data=new_user_form(organisation_id=partner.id,
                                                                   roles=["coordinator"]))
    assert response.status_code == 422
    assert "must belong to the lead provider" in response.get_data(as_text=True)


def test_a_duplicate_email_is_refused_at_the_email_field(client, admin, build):
    build.user(email="jo@example.test")
    response = client.post("/admin/users/new", data=new_user_form(organisation_id=admin.organisation_id))
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_editing_roles_is_saved_and_audited(client, admin, build):
    user = build.user(roles=["fitter"])
    response = client.post(f"/admin/users/{user.id}", data={
        "name": user.name, "email": user.email, "organisation_id": user.organisation_id,
        "roles": ["fitter", "finance"]})
    assert response.status_code == 302
    assert db.session.get(User, user.id).roles == ["finance", "fitter"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "roles_changed"))
    assert event.details["added"] == ["finance"] and event.actor_id == admin.id


def test_markup_in_a_name_is_shown_escaped(client, admin, build):
    build.user(name="<script>alert(1)</script>")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_an_admin_resets_a_password(app, client, admin, build):
    user = build.user(roles=["fitter"])
    response = client.post(f"/admin/users/{user.id}/password",
                           data={"password": "brand new passphrase", "confirm": "brand new passphrase"})
    assert response.status_code == 302
    browser = app.test_client()
    assert browser.post("/login", data={"email": user.email, "password": "brand new passphrase"}).status_code == 302


def test_a_too_short_reset_password_is_refused_at_the_field(client, admin, build):
    user = build.user(roles=["fitter"])
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "at least 12" in response.get_data(as_text=True)


def test_deactivate_and_reactivate(client, admin, build):
    user = build.user(roles=["fitter"])
    client.post(f"/admin/users/{user.id}/deactivate")
    assert db.session.get(User, user.id).active is False
    client.post(f"/admin/users/{user.id}/reactivate")
    assert db.session.get(User, user.id).active is True


def test_editing_an_unknown_user_is_a_404(client, admin):
    assert client.get("/admin/users/9999").status_code == 404


def test_users_list_filters_by_role_and_text(client, admin, build):
    build.user(roles=["fitter"], name="Findable Fitter")
    build.user(roles=["finance"], name="Hidden Finance")
    page = client.get("/admin/users?role=fitter&q=findable").get_data(as_text=True)
    assert "Findable Fitter" in page and "Hidden Finance" not in page


def test_users_list_is_paginated(client, admin, build):
    for _ in range(3):
        build.user(roles=["caseworker"])
    page = client.get("/admin/users?per_page=2").get_data(as_text=True)
    assert "Page 1 of 2" in page and 'rel="next"' in page


def test_an_admin_creates_and_renames_a_partner_agency(client, admin):
    assert client.post("/admin/organisations/new", data={"name": "Riverside", "kind": "partner",
                                                         "case_reference_prefix": "ra", "active": "y"}).status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Riverside"))
    assert organisation.case_reference_prefix == "RA"
    assert client.post(f"/admin/organisations/{organisation.id}",
                       data={"name": "Riverside Advocacy", "case_reference_prefix": "RIV",
                             "active": "y"}).status_code == 302
    changed = db.session.get(Organisation, organisation.id)
    assert (changed.name, changed.case_reference_prefix) == ("Riverside Advocacy", "RIV")
    assert "RIV-…" in client.get("/admin/organisations").get_data(as_text=True)


@pytest.mark.parametrize("data, message", [
    ({"name": "", "kind": "partner"}, "This field is required"),
    ({"name": "Second lead", "kind": "lead"}, "Only one lead provider"),
    ({"name": "X", "kind": "alien"}, "Not a valid choice"),
    ({"name": "X", "kind": "partner"}, "Give 2 to 6 letters"),
    ({"name": "X", "kind": "partner", "case_reference_prefix": "R4"}, "Use 2 to 6 letters, A to Z."),
    ({"name": "X", "kind": "partner", "case_reference_prefix": "ABCDEFG"}, "Use 2 to 6 letters, A to Z."),
])
def test_bad_organisations_are_refused(client, admin, data, message):
    response = client.post("/admin/organisations/new", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_a_prefix_another_organisation_holds_or_whose_cases_use_it_is_refused(client, admin, build):
    build.organisation(case_reference_prefix="RA")
    build.case()  # the lead's, NS-2026-…
    for prefix, message in [("RA", "Another organisation has that prefix."),
                            ("NS", "Another organisation&#39;s cases use it")]:
        response = client.post("/admin/organisations/new", data={"name": f"New {prefix}", "kind": "partner",
                                                                 "case_reference_prefix": prefix})
        assert response.status_code == 422 and message in response.get_data(as_text=True), prefix
    assert db.session.scalar(select(Organisation).where(Organisation.name.like("New %"))) is None


def test_the_lead_may_go_without_a_prefix(client, admin):
    response = client.post(f"/admin/organisations/{admin.organisation_id}",
                           data={"name": admin.organisation.name, "case_reference_prefix": "", "active": "y"})
    assert response.status_code == 302 and db.session.get(Organisation, admin.organisation_id).case_reference_prefix \
        is None


def test_the_lead_provider_cannot_be_deactivated(client, admin):
    response = client.post(f"/admin/organisations/{admin.organisation_id}",
                           data={"name": admin.organisation.name})
    assert response.status_code == 422 and "The lead stays active." in response.get_data(as_text=True)


def test_the_audit_log_can_be_filtered_by_event(client, admin, build):
    build.user(roles=["fitter"])
    page = client.get("/admin/audit?kind=user_created").get_data(as_text=True)
    assert "<td>user created</td>" in page and "<td>login succeeded</td>" not in page
    page = client.get("/admin/audit?kind=login_succeeded").get_data(as_text=True)
    assert "<td>login succeeded</td>" in page and "<td>user created</td>" not in page


def test_the_access_log_lists_views_by_case(client, admin, build):
    from inventory.audit.operations import record_access

    record_access(admin, case_id=7, case_reference="NS-2026-0007", what="address", reason="job 3")
    record_access(admin, case_id=8, case_reference="NS-2026-0008", what="phone", reason="job 4")
    db.session.commit()
    page = client.get("/admin/access-log?case_id=7").get_data(as_text=True)
    assert "job 3" in page and "job 4" not in page
    beyond = client.get(f"/admin/access-log?case_id={2**64}")
    assert beyond.status_code == 422 and "ids are numbers" in beyond.get_data(as_text=True)
