"""The sign-in throttle seen from a browser: device cookies, the devices page, 429 pages with
Retry-After, and the password confirm and change pages counting their failures."""
import pytest
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import KnownDevice
from inventory.audit.models import AuditEvent
from inventory.extensions import db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0"
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


def sign_in(browser, email, password, **kwargs):
    return browser.post("/login", data={"email": email, "password": password}, **kwargs)


def new_device_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "new_device_sign_in")).all()


def test_a_first_sign_in_gives_the_browser_a_device_cookie_and_is_recorded_as_a_new_device(app, client, build):
    user = build.user()
    assert sign_in(client, user.email, build.PASSWORD, headers={"User-Agent": FIREFOX}).status_code == 302
    cookie = client.get_cookie("safehold_device")
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/"
    (event,) = new_device_events()
    (device,) = db.session.scalars(select(KnownDevice)).all()
    assert event.subject_user_id == user.id and event.details == {"device_id": device.id}
    assert device.label == "Firefox on Windows" and build.PASSWORD not in cookie.value


def test_signing_in_again_from_the_same_browser_is_not_a_new_device(client, build):
    user = build.user()
    sign_in(client, user.email, build.PASSWORD)
    client.post("/logout")
    sign_in(client, user.email, build.PASSWORD)
    assert len(new_device_events()) == 1
    assert db.session.scalar(select(KnownDevice.id).where(KnownDevice.user_id == user.id)) is not None


@pytest.mark.parametrize("app_overrides", [{"SESSION_COOKIE_SECURE": True}])
def test_over_https_the_device_cookie_is_a_host_only_secure_cookie(client, build):
    user = build.user()
    response = sign_in(client, user.email, build.PASSWORD, base_url="https://localhost")
    header = next(value for value in response.headers.getlist("Set-Cookie") if "safehold_device" in value)
    assert header.startswith("__Host-safehold_device=")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header


def test_the_devices_page_announces_a_new_device_and_marks_this_browser(client, login):
    login()
    assert 'href="/account/devices"' in client.get("/account").get_data(as_text=True)
    page = client.get("/account/devices").get_data(as_text=True)
    assert "Signed in from a new device on" in page and "(this browser)" in page


def test_someone_elses_failures_elsewhere_do_not_keep_the_real_user_out_of_their_browser(app, client, build):
    user = build.user()
    sign_in(client, user.email, build.PASSWORD)
    client.post("/logout")
    attacker = app.test_client()
    with clock.frozen_at(clock.now()):
        answers = {sign_in(attacker, user.email, f"guess number {n}", environ_base=ELSEWHERE).status_code
                   for n in range(10)}
        assert answers == {401, 429}
        assert sign_in(attacker, user.email, build.PASSWORD, environ_base=ELSEWHERE).status_code == 429
        assert sign_in(client, user.email, build.PASSWORD).status_code == 302


def test_a_forged_device_cookie_counts_as_an_unknown_browser(app, client, build):
    user = build.user()
    sign_in(client, user.email, build.PASSWORD)
    client.post("/logout")
    forger = app.test_client()
    forger.set_cookie("safehold_device", client.get_cookie("safehold_device").value[:-2] + "xx")
    with clock.frozen_at(clock.now()):
        for _ in range(4):
            sign_in(forger, user.email, "a wrong guess")
        response = sign_in(forger, user.email, build.PASSWORD)
    assert response.status_code == 429


def test_wrong_passwords_on_the_confirm_page_are_counted_and_then_refused_with_a_wait(client, login, build):
    login()
    with clock.frozen_at(clock.now()):
        answers = [client.post("/account/confirm", data={"password": "not-my-password"}).status_code
                   for _ in range(4)]
        refused = client.post("/account/confirm", data={"password": build.PASSWORD})
    assert answers == [422, 422, 422, 422]
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Wait 1 second and try again." in refused.get_data(as_text=True)


def test_wrong_current_passwords_on_the_change_page_are_counted_too(client, login, build):
    login()
    change = {"current_password": "not it at all", "password": "another long passphrase",
              "confirm": "another long passphrase"}
    with clock.frozen_at(clock.now()):
        answers = [client.post("/account/password", data=change).status_code for _ in range(5)]
    assert answers == [422, 422, 422, 422, 429]


def test_a_refused_new_password_on_the_change_page_is_not_counted(client, login, build):
    login()
    weak = {"current_password": build.PASSWORD, "password": "passwordpassword", "confirm": "passwordpassword"}
    with clock.frozen_at(clock.now()):
        answers = [client.post("/account/password", data=weak).status_code for _ in range(5)]
    assert answers == [422] * 5
