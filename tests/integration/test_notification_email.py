"""Optional email about new notifications: off by default; when on, one short email per
person per job run, sent after the commit, carrying the notices' messages and a link to the
notification centre, never a name, an address or a record's id; a failure to send is logged
and never fails delivery."""
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from config.settings import BaseConfig
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.notifications.models import Notification
from tests.fake_smtp import FakeSMTPServer

MORNING = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
KINDS = ("loan_due", "review_due")


@pytest.fixture
def smtp():
    with FakeSMTPServer() as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {"MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": smtp.port, "MAIL_USE_TLS": False,
            "MAIL_FROM": "SafeHold <noreply@safehold.example.test>", "BASE_URL": "https://safehold.example.test/"}


def loan_due(case_id=123, user_ids=()):
    return Notice("loan_due", f"case:{case_id}", "3 loans are due back.", f"/cases/{case_id}",
                  roles=("coordinator",), user_ids=user_ids)


def run(*notices, now=MORNING, commit=True):
    deliver("loans_due", JobOutcome(notices=list(notices)), kinds=KINDS, now=now)
    if commit:
        db.session.commit()


@pytest.mark.parametrize("app_overrides", [{}])
def test_email_is_off_unless_an_smtp_host_is_set(build, smtp):
    assert BaseConfig.MAIL_SMTP_HOST is None
    build.user(roles=["coordinator"])
    run(loan_due())
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
    assert smtp.received == []


def test_each_new_notification_sends_a_short_email_with_no_personal_data(build, smtp):
    coordinator = build.user(roles=["coordinator"], name="Alexandra Wright", email="alex@example.test")
    run(loan_due())
    ((recipients, email),) = smtp.received
    assert recipients == ["alex@example.test"]
    assert email["Subject"] == "SafeHold: 3 loans are due back."
    assert email["From"] == "SafeHold <noreply@safehold.example.test>"
    body = email.get_content()
    assert "3 loans are due back." in body
    assert "https://safehold.example.test/notifications" in body
    text = str(email)
    for personal in (coordinator.name, "Alexandra", "123", "/cases/"):
        assert personal not in text


def test_a_person_gets_at_most_one_email_per_job_run(build, smtp):
    coordinator = build.user(roles=["coordinator"])
    caseworker = build.user(roles=["caseworker"])
    run(loan_due(1), loan_due(2, user_ids=(caseworker.id,)),
        Notice("review_due", "case:3", "A 3-month review is due.", "/cases/3", roles=("coordinator",)))
    by_recipient = {recipients[0]: email for recipients, email in smtp.received}
    assert sorted(by_recipient) == sorted([coordinator.email, caseworker.email])
    summary = by_recipient[coordinator.email]
    assert summary["Subject"] == "SafeHold: 3 new notifications"
    assert summary.get_content().count("3 loans are due back.") == 2
    assert "A 3-month review is due." in summary.get_content()
    assert by_recipient[caseworker.email]["Subject"] == "SafeHold: 3 loans are due back."


def test_a_second_run_the_same_day_sends_nothing_more_and_the_next_day_sends_again(build, smtp):
    build.user(roles=["coordinator"])
    run(loan_due())
    run(loan_due(), now=MORNING + timedelta(hours=3))
    assert len(smtp.received) == 1
    run(loan_due(), now=MORNING + timedelta(days=1))
    assert len(smtp.received) == 2


def test_a_run_rolled_back_sends_no_email(build, smtp):
    build.user(roles=["coordinator"])
    run(loan_due(), commit=False)
    db.session.rollback()
    build.user(roles=["finance"])  # a later commit of something else
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_refused_address_is_logged_without_it_and_the_others_are_sent(build, smtp, caplog):
    refused = build.user(roles=["coordinator"], email="gone@example.test")
    kept = build.user(roles=["coordinator"], email="here@example.test")
    smtp.refused.add("gone@example.test")
    with caplog.at_level(logging.WARNING, logger="inventory.notifications.mail"):
        run(loan_due())
    assert [recipients for recipients, _ in smtp.received] == [[kept.email]]
    assert f"user {refused.id} not sent" in caplog.text
    assert "gone@example.test" not in caplog.text


def test_an_smtp_server_that_cannot_be_reached_never_fails_delivery(app, build, caplog):
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        app.config["MAIL_SMTP_PORT"] = probe.getsockname()[1]
    coordinator = build.user(roles=["coordinator"])
    with caplog.at_level(logging.WARNING, logger="inventory.notifications.mail"):
        run(loan_due())
    assert "notification emails not sent (1 left)" in caplog.text
    assert coordinator.email not in caplog.text
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
