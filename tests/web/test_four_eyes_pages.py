"""The admin pages of four eyes: a role given on the user form waits; another admin decides
it on the Approvals page, with a reason and a recent password."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts import approvals
from inventory.accounts.models import AdminApproval, User
from inventory.extensions import db


def user_form(user, roles):
    return {"name": user.name, "email": user.email, "organisation_id": user.organisation_id, "roles": roles}


@pytest.fixture
def asker(login):
    return login(roles=["admin"])


def test_giving_a_coordinator_role_on_the_form_waits_and_says_so(client, asker, build):
    build.user(roles=["admin"])  # a second admin who can decide
    user = build.user(roles=["auditor"])
    answer = client.post(f"/admin/users/{user.id}", data=user_form(user, ["auditor", "coordinator"]),
                         follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "Waiting for a second admin&#39;s approval: Give the coordinator role." in page
    assert "grant-role" not in page
    assert db.session.get(User, user.id).roles == ["auditor"]
    form = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    ticked = re.findall(r'<input checked[^>]*value="(\w+)"', form)
    assert ticked == ["coordinator", "auditor"]
    assert "Give the coordinator role, asked by" in form


def test_with_no_other_admin_the_page_names_the_way_out(client, asker, build):
    user = build.user(roles=["auditor"])
    page = client.post(f"/admin/users/{user.id}", data=user_form(user, ["auditor", "fitter"]),
                       follow_redirects=True).get_data(as_text=True)
    assert "No other active admin can approve it" in page and "flask --app inventory grant-role" in page


def test_another_admin_approves_on_the_approvals_page(app, client, asker, build):
    user = build.user(roles=["auditor"])
    client.post(f"/admin/users/{user.id}", data=user_form(user, ["auditor", "fitter"]))
    (waiting,) = approvals.pending_for(user)
    own_view = client.get("/admin/approvals").get_data(as_text=True)
    assert "You asked for this: another admin decides it." in own_view and "Withdraw the request" in own_view

    second = build.user(roles=["admin"])
    other = app.test_client()
    assert other.post("/login", data={"email": second.email, "password": build.PASSWORD}).status_code == 302
    page = other.get("/admin/approvals").get_data(as_text=True)
    assert f'action="/admin/approvals/{waiting.id}/approve"' in page
    missing = other.post(f"/admin/approvals/{waiting.id}/approve", data={f"a{waiting.id}-reason": ""})
    assert missing.status_code == 422 and "Say why." in missing.get_data(as_text=True)
    done = other.post(f"/admin/approvals/{waiting.id}/approve",
                      data={f"a{waiting.id}-reason": "Starts Monday as a fitter"}, follow_redirects=True)
    assert "Give the fitter role to" in done.get_data(as_text=True)
    assert db.session.get(User, user.id).roles == ["auditor", "fitter"]
    history = other.get("/admin/approvals").get_data(as_text=True)
    assert "Starts Monday as a fitter" in history and "Approved" in history


def test_the_asker_cannot_approve_their_own_request_by_posting(client, asker, build):
    user = build.user(roles=["auditor"])
    client.post(f"/admin/users/{user.id}", data=user_form(user, ["auditor", "fitter"]))
    (waiting,) = approvals.pending_for(user)
    answer = client.post(f"/admin/approvals/{waiting.id}/approve", data={f"a{waiting.id}-reason": "me"},
                         follow_redirects=True)
    assert "You asked for this change: another admin must decide it." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert waiting.outcome is None and db.session.get(User, user.id).roles == ["auditor"]


def test_the_asker_withdraws(client, asker, build):
    user = build.user(roles=["auditor"])
    client.post(f"/admin/users/{user.id}", data=user_form(user, ["auditor", "fitter"]))
    (waiting,) = approvals.pending_for(user)
    assert client.post(f"/admin/approvals/{waiting.id}/withdraw").status_code == 302
    assert db.session.get(AdminApproval, waiting.id).outcome == "withdrawn"


@pytest.mark.parametrize("path, data", [
    ("/admin/users/new", {"name": "N", "email": "n@example.test", "roles": ["finance"],
                          "password": "a long enough passphrase", "confirm": "a long enough passphrase"}),
    ("/admin/users/{user_id}", None),
    ("/admin/approvals/{approval_id}/approve", {"reason": "ok"}),
    ("/admin/approvals/{approval_id}/refuse", {"reason": "no"}),
])
def test_role_changes_and_decisions_ask_for_the_password_again_after_a_while(app, client, login, build, path,
                                                                              data):
    asker = build.user(roles=["admin"])
    user = build.user(roles=["auditor"])
    from inventory.accounts import operations
    operations.update_user(user, email=user.email, name=user.name, organisation=user.organisation,
                           roles=["auditor", "fitter"], actor=asker)
    db.session.commit()
    (waiting,) = approvals.pending_for(user)
    decider = login(roles=["admin"])
    url = path.format(user_id=user.id, approval_id=waiting.id)
    if data is None:
        data = user_form(user, ["finance"])
    elif "approvals" in url:
        data = {f"a{waiting.id}-reason": data["reason"]}
    else:
        data = {**data, "organisation_id": decider.organisation_id}
    with clock.frozen_at(clock.now() + timedelta(seconds=app.config["REAUTH_SECONDS"] + 1)):
        asked = client.post(url, data=data)
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/account/confirm")
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == ["auditor"]
    assert db.session.get(AdminApproval, waiting.id).outcome is None
    assert db.session.scalar(select(User).where(User.email == "n@example.test")) is None


def test_showing_the_user_form_does_not_ask_for_the_password(app, client, asker, build):
    user = build.user(roles=["auditor"])
    with clock.frozen_at(clock.now() + timedelta(seconds=app.config["REAUTH_SECONDS"] + 1)):
        assert client.get(f"/admin/users/{user.id}").status_code == 200
        assert client.get("/admin/users/new").status_code == 200
        assert client.get("/admin/approvals").status_code == 200
