"""Sensitive actions ask for the password again when it was last typed too long ago."""
from datetime import date, timedelta

import pytest

from inventory import clock
from inventory.budget import ledger


@pytest.fixture(autouse=True)
def june_2026():
    with clock.frozen_at(clock.now().replace(year=2026, month=6, day=20, hour=10)):
        yield


def test_a_month_closes_at_once_just_after_signing_in(client, login, build):
    build.budget_period(allocated_pence=1_000_000)
    login(roles=["finance"])
    assert client.post("/budget/months/2026-05/close").headers["Location"].startswith("/budget/months")
    assert ledger.is_month_closed(date(2026, 5, 1))


def test_after_a_while_closing_a_month_asks_for_the_password_then_works(client, login, build, app):
    build.budget_period(allocated_pence=1_000_000)
    finance = login(roles=["finance"])
    later = clock.now() + timedelta(seconds=app.config["REAUTH_SECONDS"] + 1)
    with clock.frozen_at(later):
        asked = client.post("/budget/months/2026-05/close", headers={"Referer": "http://localhost/budget/months"})
        assert asked.status_code == 302
        assert asked.headers["Location"] == "/account/confirm?next=/budget/months"
        assert not ledger.is_month_closed(date(2026, 5, 1))

        wrong = client.post("/account/confirm?next=/budget/months", data={"password": "not-my-password"})
        assert wrong.status_code == 422
        assert "That is not your password." in wrong.get_data(as_text=True)

        right = client.post("/account/confirm?next=/budget/months", data={"password": build.PASSWORD})
        assert right.headers["Location"] == "/budget/months"
        assert client.post("/budget/months/2026-05/close").status_code == 302
    assert ledger.is_month_closed(date(2026, 5, 1)), finance.email


def test_the_confirm_page_never_sends_people_off_the_site(client, login, build):
    login(roles=["finance"])
    answer = client.post("/account/confirm?next=https://evil.example/", data={"password": build.PASSWORD})
    assert answer.headers["Location"] == "/"


def test_a_bearer_token_is_not_asked_to_reauthenticate(api, build, app):
    build.budget_period(allocated_pence=1_000_000)
    finance = api(roles=["finance"])
    with clock.frozen_at(clock.now() + timedelta(hours=2)):
        assert finance.post("/ledger/months/2026-05/close").status_code == 200
