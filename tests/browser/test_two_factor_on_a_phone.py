from datetime import timedelta

import pyotp

from inventory import clock
from inventory.accounts import two_factor
from inventory.extensions import db


def test_a_caseworker_signs_in_on_a_phone_with_a_code_from_their_app(live_server, phone, build):
    caseworker = build.user(roles=["caseworker"], name="Casey Worker")
    with clock.frozen_at(clock.now() - timedelta(minutes=2)):  # set up a while ago: today's codes are new
        two_factor.begin_enrolment(caseworker)
        two_factor.confirm_enrolment(caseworker, pyotp.TOTP(caseworker.totp_secret).at(clock.now()))
    db.session.commit()
    app_on_the_phone = pyotp.TOTP(caseworker.totp_secret)
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.on("console", lambda message: message.type == "error" and errors.append(message.text))

    phone.goto(f"{live_server}/login")
    phone.get_by_label("Email").fill(caseworker.email)
    phone.get_by_label("Password").fill("correct horse battery")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{live_server}/login/code")
    field = phone.get_by_label("Code from your authenticator app")
    assert field.get_attribute("inputmode") == "numeric" and field.get_attribute("autocomplete") == "one-time-code"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    field.fill(app_on_the_phone.at(clock.now()))
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"{live_server}/")
    assert phone.get_by_role("heading", level=1).inner_text() == "Hello, Casey Worker"
    assert errors == []
