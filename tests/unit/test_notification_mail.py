"""The email about new notifications, composed without a server."""
from config.settings import BaseConfig
from inventory.notifications.mail import SUBJECT_MAX, MailSettings, compose


def settings(**overrides) -> MailSettings:
    config = {name: getattr(BaseConfig, name) for name in dir(BaseConfig) if name.isupper()}
    return MailSettings.from_config({**config, **overrides})


def test_email_is_off_by_default_and_on_with_an_smtp_host():
    assert not settings().enabled
    assert settings(MAIL_SMTP_HOST="smtp.example.test").enabled


def test_a_password_of_digits_read_from_the_environment_as_a_number_is_still_text():
    assert settings(MAIL_SMTP_PASSWORD=123456).password == "123456"


def test_one_notification_is_the_subject_and_several_are_counted():
    one = compose(1, "a@example.test", ["3 loans are due back."], service="SafeHold", base_url=None)
    assert one.subject == "SafeHold: 3 loans are due back."
    assert "Open SafeHold to deal with it: the notifications page" in one.body
    two = compose(1, "a@example.test", ["A review is due.", "Stock is low."], service="SafeHold",
                  base_url="https://safehold.example.test")
    assert two.subject == "SafeHold: 2 new notifications"
    assert two.body.splitlines()[:2] == ["- A review is due.", "- Stock is low."]
    assert "https://safehold.example.test/notifications" in two.body


def test_a_message_cannot_break_the_subject_line_or_make_it_too_long():
    email = compose(1, "a@example.test", ["Line one\r\nBcc: someone@example.test " + "x" * 300],
                    service="SafeHold", base_url=None)
    assert "\n" not in email.subject and "\r" not in email.subject
    assert len(email.subject) <= len("SafeHold: ") + SUBJECT_MAX and email.subject.endswith("…")
