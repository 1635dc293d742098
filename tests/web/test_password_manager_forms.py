"""Password managers on every form that asks for a password or a one-time code: each field
names what it holds (`autocomplete`), and each such form names the account it is for, so a
manager can save, pair and fill them (a password-only form carries the username hidden)."""
from datetime import UTC, datetime
from html.parser import HTMLParser

import pyotp
import pytest

from inventory import clock
from inventory.accounts import two_factor
from inventory.accounts.models import User
from inventory.extensions import db
from tests.support import Builders

PASSWORD_TOKENS = {"current-password", "new-password"}


@pytest.fixture
def app_overrides():
    return {"TWO_FACTOR_REQUIRED_ROLES": ["coordinator"]}


@pytest.fixture(autouse=True)
def one_moment():
    with clock.frozen_at(datetime(2026, 6, 20, 10, 0, 5, tzinfo=UTC)):
        yield


def switch_on_two_factor(user) -> None:
    two_factor.begin_enrolment(user)
    two_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).at(clock.now()))
    db.session.commit()


class Forms(HTMLParser):
    """Every form on a page, as the list of its inputs' attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[list[dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.forms.append([])
        elif tag == "input" and self.forms:
            self.forms[-1].append(dict(attrs))


def secret_forms(html: str) -> list[list[dict]]:
    """The forms that ask for a password or a code from an authenticator app."""
    return [inputs for inputs in Forms(html).forms
            if any(i.get("type") == "password" or i.get("name") in ("code", "recovery_code") for i in inputs)]


def check_forms(html: str, *, email: str | None) -> list[list[dict]]:
    forms = secret_forms(html)
    assert forms, "no password or code form on the page"
    for inputs in forms:
        usernames = [i for i in inputs if i.get("autocomplete") == "username"]
        assert len(usernames) == 1, inputs
        if email is not None:  # a form for the account already known: its username, not shown
            assert usernames[0]["value"] == email and "hidden" in usernames[0]
        for i in inputs:
            if i.get("type") == "password":
                assert i.get("autocomplete") in PASSWORD_TOKENS, i
            if i.get("name") == "code":
                assert i.get("autocomplete") == "one-time-code" and i.get("inputmode") == "numeric", i
    return forms


def tokens(forms) -> list[str]:
    return [i["autocomplete"] for inputs in forms for i in inputs if i.get("autocomplete")]


def test_the_sign_in_form_names_the_username_and_the_current_password(client):
    forms = check_forms(client.get("/login").get_data(as_text=True), email=None)
    assert tokens(forms) == ["username", "current-password"]


def test_changing_and_confirming_a_password_name_the_account_and_each_password(client, login):
    user = login(roles=["caseworker"])
    changing = check_forms(client.get("/account/password").get_data(as_text=True), email=user.email)
    assert tokens(changing) == ["username", "current-password", "new-password", "new-password"]
    confirming = check_forms(client.get("/account/confirm").get_data(as_text=True), email=user.email)
    assert tokens(confirming) == ["username", "current-password"]


def test_setting_up_and_turning_off_two_factor_name_the_account_the_code_and_the_password(client, login):
    user = login(roles=["caseworker"])
    client.post("/account/two-factor/start")
    setting_up = check_forms(client.get("/account/two-factor").get_data(as_text=True), email=user.email)
    assert tokens(setting_up) == ["username", "one-time-code"]
    user = db.session.get(User, user.id)
    two_factor.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).at(clock.now()))
    db.session.commit()
    turning_off = check_forms(client.get("/account/two-factor").get_data(as_text=True), email=user.email)
    assert tokens(turning_off) == ["username", "current-password"]


def test_the_second_step_of_signing_in_names_the_account_the_code_is_for(client, build):
    user = build.user(roles=["caseworker"])
    switch_on_two_factor(user)
    assert client.post("/login", data={"email": user.email, "password": Builders.PASSWORD}).location == "/login/code"
    code = check_forms(client.get("/login/code").get_data(as_text=True), email=user.email)
    assert tokens(code) == ["username", "one-time-code"]
    recovery = check_forms(client.get("/login/recovery").get_data(as_text=True), email=user.email)
    assert tokens(recovery) == ["username", "off"]


def test_setting_up_two_factor_while_signing_in_names_the_account_too(client, build):
    coordinator = build.user(roles=["coordinator"])
    asked = client.post("/login", data={"email": coordinator.email, "password": Builders.PASSWORD})
    assert asked.location == "/login/set-up-two-factor"
    forms = check_forms(client.get("/login/set-up-two-factor").get_data(as_text=True), email=coordinator.email)
    assert tokens(forms) == ["username", "one-time-code"]
