"""Signed-in browsers time out (30 minutes idle, 12 hours in all), the production cookie is
__Host- prefixed, and client addresses come from a reverse proxy only when one is trusted."""
import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from inventory import clock, create_app
from inventory.accounts.models import LoginSession
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.extensions import db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def june():
    with clock.frozen_at(NOW):
        yield


def later(**delta):
    return clock.frozen_at(NOW + timedelta(**delta))


def test_a_browser_used_every_29_minutes_stays_signed_in(client, login):
    login(roles=["finance"])
    for minutes in (29, 58, 87, 116):
        with later(minutes=minutes):
            assert client.get("/").status_code == 200


def test_thirty_minutes_without_a_request_signs_the_browser_out_and_ends_its_session(client, login):
    login(roles=["finance"])
    with later(minutes=10):
        assert client.get("/").status_code == 200
    with later(minutes=40):
        response = client.get("/account/tokens")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 30 minutes without activity." in page
    assert db.session.scalar(select(LoginSession.ended_at)) == NOW + timedelta(minutes=40)
    with later(minutes=41):
        assert client.get("/").status_code == 302  # still signed out


def test_twelve_hours_after_signing_in_the_browser_is_signed_out_however_busy(client, login):
    login(roles=["finance"])
    minute = 0
    while minute < 12 * 60 - 20:
        minute += 20
        with later(minutes=minute):
            assert client.get("/").status_code == 200
    with later(hours=12):
        response = client.get("/")
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out 12 hours after signing in." in page
    assert db.session.scalar(select(LoginSession.ended_at)) == NOW + timedelta(hours=12)


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_MINUTES": 5, "SESSION_ABSOLUTE_HOURS": 1}])
def test_the_timeouts_are_settings(client, login):
    login(roles=["finance"])
    with later(minutes=4):
        assert client.get("/").status_code == 200
    with later(minutes=10):
        assert client.get("/").status_code == 302


def test_an_api_token_has_no_idle_timeout(client, build):
    plain = build.token(build.user(roles=["finance"]))
    with later(days=3):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200


def production_app(monkeypatch, tmp_path, **environment):
    monkeypatch.setenv("SAFEHOLD_CONFIG", "production")
    monkeypatch.setenv("SAFEHOLD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))  # made here: a written one is refused
    monkeypatch.setenv("SAFEHOLD_DATA_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_production_names_the_cookie_with_the_host_prefix(monkeypatch, tmp_path):
    app = production_app(monkeypatch, tmp_path)
    response = app.test_client().get("/login", base_url="https://safehold.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-safehold_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "HttpOnly" in cookie and "Domain" not in cookie


def test_development_keeps_a_plain_cookie_name(app):
    assert app.config["SESSION_COOKIE_NAME"] == "safehold_session"


def failed_sign_in_address(client, **headers) -> str:
    client.post("/login", data={"email": "nobody@example.test", "password": "wrong password!"},
                headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == AuditEventKind.LOGIN_FAILED)).one()
    return event.remote_addr


@pytest.mark.parametrize("app_overrides", [{"TRUSTED_PROXIES": 1}])
def test_behind_one_trusted_proxy_the_audit_log_records_the_clients_address(client):
    assert failed_sign_in_address(client, **{"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"


def test_with_no_trusted_proxy_a_forwarded_for_header_is_ignored(client):
    assert failed_sign_in_address(client, **{"X-Forwarded-For": "203.0.113.7"}) == "10.0.0.2"


@pytest.mark.parametrize("proxies", ["-1", '"two"', "true"])
def test_a_malformed_trusted_proxies_setting_stops_the_app(monkeypatch, tmp_path, proxies):
    from config import ConfigurationError

    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES must be a whole number"):
        production_app(monkeypatch, tmp_path, SAFEHOLD_TRUSTED_PROXIES=proxies)
