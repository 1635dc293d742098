"""API tokens on the pages and the command line: expiry shown and chosen, revoked and expired
tokens listed greyed with why, an admin's view and revoke of anyone's tokens; an expired
token is refused like a revoked one; the last use is recorded after the request."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts import operations
from inventory.accounts.models import ApiToken
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.extensions import db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def june():
    with clock.frozen_at(NOW):
        yield


def bearer(plain):
    return {"Authorization": f"Bearer {plain}"}


def test_a_token_made_on_the_page_lasts_the_days_chosen_and_says_so(client, login):
    login(roles=["finance"])
    page = client.post("/account/tokens", data={"name": "Xero sync", "days": "5"}).get_data(as_text=True)
    token = db.session.scalar(select(ApiToken))
    assert token.expires_at == NOW + timedelta(days=5)
    assert "06 Jun 2026 10:00" in page  # the expiry, in local time
    assert "expires within 7 days" in page


def test_an_empty_days_field_gives_the_longest_lifetime(client, login):
    login(roles=["finance"])
    client.post("/account/tokens", data={"name": "Xero sync", "days": ""})
    assert db.session.scalar(select(ApiToken.expires_at)) == NOW + timedelta(days=90)


@pytest.mark.parametrize("days, message", [
    ("0", "A token lasts from 1 to 90 days."),
    ("91", "A token lasts from 1 to 90 days."),
    ("-1", "A token lasts from 1 to 90 days."),
    ("ninety", "Not a valid integer value."),
    ("1e9", "Not a valid integer value."),
])
def test_days_out_of_range_or_not_a_number_are_a_form_error(client, login, days, message):
    login(roles=["finance"])
    response = client.post("/account/tokens", data={"name": "Xero sync", "days": days})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_an_expired_token_is_refused_like_a_revoked_one(client, build):
    user = build.user(roles=["finance"])
    _, plain = operations.create_api_token(user, name="short", days=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    with clock.frozen_at(NOW + timedelta(days=1)):
        response = client.get("/api/v1/me", headers=bearer(plain))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_revoked_and_expired_tokens_stay_listed_greyed_with_why(client, login, build):
    user = login(roles=["finance"])
    with clock.frozen_at(NOW - timedelta(days=10)):
        operations.create_api_token(user, name="old export", days=3)
    revoked, _ = operations.create_api_token(user, name="laptop")
    operations.revoke_api_token(user, revoked.id, actor=user)
    operations.create_api_token(user, name="monitoring")
    db.session.commit()
    page = client.get("/account/tokens").get_data(as_text=True)
    rows = {name: row for row in re.findall(r"<tr class=\"[^\"]*\">.*?</tr>", page, re.S)
            for name in ("old export", "laptop", "monitoring") if name in row}
    assert 'class="row--dead"' in rows["old export"] and "Expired" in rows["old export"]
    assert 'class="row--dead"' in rows["laptop"] and "(by its owner)" in rows["laptop"]
    assert 'class=""' in rows["monitoring"] and "Revoke" in rows["monitoring"]


def test_an_admin_sees_a_users_tokens_and_revokes_one(client, login, build):
    user = build.user(roles=["coordinator"])
    plain = build.token(user)
    admin = login(roles=["admin"])
    token = operations.api_token_for(plain)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "API tokens" in page and token.prefix in page
    response = client.post(f"/admin/users/{user.id}/tokens/{token.id}/revoke")
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert operations.user_for_api_token(plain) is None
    assert db.session.get(ApiToken, token.id).revoked_reason == "admin"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == AuditEventKind.API_TOKEN_REVOKED)).one()
    assert event.actor_id == admin.id and event.subject_user_id == user.id
    assert "(by an admin)" in client.get(f"/admin/users/{user.id}").get_data(as_text=True)


def test_an_admin_cannot_revoke_a_token_through_another_users_page(client, login, build):
    owner, other = build.user(roles=["finance"]), build.user(roles=["finance"])
    plain = build.token(owner)
    login(roles=["admin"])
    token = operations.api_token_for(plain)
    assert client.post(f"/admin/users/{other.id}/tokens/{token.id}/revoke").status_code == 404
    assert operations.user_for_api_token(plain) == owner


@pytest.mark.parametrize("role", ["coordinator", "finance", "auditor", "caseworker", "fitter"])
def test_only_admins_revoke_other_peoples_tokens(client, login, build, role):
    owner = build.user(roles=["finance"])
    plain = build.token(owner)
    login(roles=[role])
    token = operations.api_token_for(plain)
    assert client.post(f"/admin/users/{owner.id}/tokens/{token.id}/revoke").status_code == 403
    assert operations.user_for_api_token(plain) == owner


def test_resetting_a_password_on_the_admin_page_revokes_the_users_tokens(client, login, build):
    user = build.user(roles=["finance"])
    plain = build.token(user)
    login(roles=["admin"])
    client.post(f"/admin/users/{user.id}/password",
                data={"password": "a new long passphrase", "confirm": "a new long passphrase"})
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401


def test_the_cli_makes_a_token_for_fewer_days(runner, build):
    build.user(email="ops@example.test", roles=["auditor"])
    result = runner.invoke(args=["create-token", "ops@example.test", "--days", "7"])
    assert result.exit_code == 0
    assert db.session.scalar(select(ApiToken.expires_at)) == NOW + timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "91"])
def test_the_cli_refuses_days_out_of_range(runner, build, days):
    build.user(email="ops@example.test", roles=["auditor"])
    result = runner.invoke(args=["create-token", "ops@example.test", "--days", days])
    assert result.exit_code != 0 and "A token lasts from 1 to 90 days." in result.output
    assert db.session.scalars(select(ApiToken)).all() == []


def test_a_bearer_read_records_the_last_use_once_a_minute(client, build):
    plain = build.token(build.user(roles=["finance"]))
    client.get("/api/v1/me", headers=bearer(plain))
    assert db.session.scalar(select(ApiToken.last_used_at)) == NOW
    with clock.frozen_at(NOW + timedelta(seconds=30)):
        client.get("/api/v1/me", headers=bearer(plain))
    assert db.session.scalar(select(ApiToken.last_used_at)) == NOW
    with clock.frozen_at(NOW + timedelta(minutes=2)):
        client.get("/api/v1/me", headers=bearer(plain))
    assert db.session.scalar(select(ApiToken.last_used_at)) == NOW + timedelta(minutes=2)
