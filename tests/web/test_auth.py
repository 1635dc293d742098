import re

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import LoginSession
from inventory.accounts.operations import SESSION_TOKEN_KEY
from inventory.audit.models import AuditEvent
from inventory.extensions import db


def test_signing_in_lands_on_the_home_page_with_the_users_navigation(client, build):
    user = build.user(roles=["admin"], name="Robin Admin")
    response = client.post("/login", data={"email": user.email, "password": build.PASSWORD},
                           follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Hello, Robin Admin" in page and 'href="/admin/users"' in page


@pytest.mark.parametrize("email, password", [
    ("nobody@example.test", "correct horse battery"),
    ("known@example.test", "the wrong password"),
])
def test_unknown_email_and_wrong_password_read_the_same(client, build, email, password):
    build.user(email="known@example.test")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 401
    assert "Email or password is not right." in response.get_data(as_text=True)


def test_failed_sign_ins_are_kept_though_refused_and_slow_the_account(app, client, build):
    user = build.user()
    free = app.config["THROTTLE_LIMITS"]["account"]["free"]
    with clock.frozen_at(clock.now()):
        for _ in range(free + 1):
            assert client.post("/login", data={"email": user.email, "password": "the wrong password"}).status_code == 401
        response = client.post("/login", data={"email": user.email, "password": build.PASSWORD})
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "Too many failed attempts. Wait 1 second and try again." in response.get_data(as_text=True)
    kinds = db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
    assert kinds[-free - 2:] == ["login_failed"] * (free + 1) + ["login_throttled"]
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_an_empty_login_form_is_refused_at_the_fields(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') == 2


def test_pages_need_a_signed_in_user_and_come_back_after_login(client, build):
    response = client.get("/admin/users?page=1")
    assert response.status_code == 302 and "/login?next=/admin/users?page%3D1" in response.location
    user = build.user()
    response = client.post("/login?next=/admin/users", data={"email": user.email, "password": build.PASSWORD})
    assert response.location.endswith("/admin/users")


def test_login_ignores_a_next_url_on_another_site(client, build):
    user = build.user()
    response = client.post("/login?next=https://evil.example/", data={"email": user.email,
                                                                      "password": build.PASSWORD})
    assert response.location == "/"


def test_a_session_cookie_copied_before_logout_is_refused_after_it(client, login, app):
    login()
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.location


def test_deactivating_a_user_ends_their_open_session(app, client, login, build):
    fitter = login(roles=["fitter"])
    assert client.get("/").status_code == 200
    admin_browser = app.test_client()
    admin = build.user(roles=["admin"])
    admin_browser.post("/login", data={"email": admin.email, "password": build.PASSWORD})
    assert admin_browser.post(f"/admin/users/{fitter.id}/deactivate").status_code == 302
    assert client.get("/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(client, login, app):
    login()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie.http_only and cookie.same_site == "Lax"


def test_signing_in_replaces_the_session_so_it_cannot_be_fixed_in_advance(client, build):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    user = build.user()
    client.post("/login", data={"email": user.email, "password": build.PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session and session.get(SESSION_TOKEN_KEY)


def test_changing_your_password_signs_out_your_other_sessions(app, client, login, build):
    user = login()
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": build.PASSWORD})
    response = client.post("/account/password", data={
        "current_password": build.PASSWORD, "password": "another long passphrase",
        "confirm": "another long passphrase"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_changing_your_password_needs_the_current_one(client, login):
    login()
    response = client.post("/account/password", data={
        "current_password": "not it at all", "password": "another long passphrase",
        "confirm": "another long passphrase"})
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)


@pytest.fixture
def csrf_on():
    return {"WTF_CSRF_ENABLED": True}


class TestWithCsrfOn:
    @pytest.fixture
    def app_overrides(self, csrf_on):
        return csrf_on

    def test_a_form_post_without_the_csrf_token_is_refused(self, client, build):
        user = build.user()
        response = client.post("/login", data={"email": user.email, "password": build.PASSWORD})
        assert response.status_code != 302

    def test_a_form_post_with_the_token_from_the_page_works(self, client, build):
        user = build.user()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": user.email, "password": build.PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302

    def test_logout_without_the_token_is_refused(self, client, build):
        user = build.user()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": user.email, "password": build.PASSWORD, "csrf_token": token})
        assert client.post("/logout").status_code == 400
        assert client.get("/").status_code == 200

    def test_api_writes_with_a_session_cookie_need_the_csrf_header(self, client, build, app):
        from inventory.api import api_route  # noqa: F401  (documented routes only)

        user = build.user()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": user.email, "password": build.PASSWORD, "csrf_token": token})
        response = client.post("/api/v1/me")
        assert response.status_code in (400, 405)


def test_password_managers_can_fill_the_sign_in_and_password_change_forms(client, login):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*name="email"', page)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="password"', page)
    login(roles=["fitter"])
    page = client.get("/account/password").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="current_password"', page)
    assert len(re.findall(r'autocomplete="new-password"', page)) == 2
