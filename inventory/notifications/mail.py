"""Optional email about new notifications (off unless MAIL_SMTP_HOST is set).

An email says only what the notification centre says in its messages, which by contract
carry no personal data, and links to the centre rather than to a record: no names, no
addresses, no ids of cases or requests. A failure to send is logged and forgotten; the
notifications are in SafeHold either way."""
import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)

SUBJECT_MAX = 120


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: int
    sender: str
    use_tls: bool
    user: str | None
    password: str | None
    base_url: str | None
    timeout_seconds: float = 10

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_config(cls, config: Mapping) -> "MailSettings":
        def text_or_none(name: str) -> str | None:
            # SAFEHOLD_<NAME> values are read as JSON where they parse: a password of digits is a number.
            value = config.get(name)
            return None if value in (None, "") else str(value)

        return cls(host=text_or_none("MAIL_SMTP_HOST"), port=int(config["MAIL_SMTP_PORT"]),
                   sender=str(config["MAIL_FROM"]), use_tls=bool(config["MAIL_USE_TLS"]),
                   user=text_or_none("MAIL_SMTP_USER"), password=text_or_none("MAIL_SMTP_PASSWORD"),
                   base_url=text_or_none("BASE_URL"))


@dataclass(frozen=True)
class Email:
    user_id: int  # for the log, which never names the address
    to: str
    subject: str
    body: str


def _one_line(message: str) -> str:
    return " ".join(message.split())


def compose(user_id: int, address: str, messages: Sequence[str], *, service: str, base_url: str | None) -> Email:
    """The one email a person gets for one job run's new notifications: their messages and
    where to open SafeHold."""
    lines = [_one_line(message) for message in messages]
    headline = lines[0] if len(lines) == 1 else f"{len(lines)} new notifications"
    if len(headline) > SUBJECT_MAX:
        headline = headline[:SUBJECT_MAX - 1].rstrip() + "…"
    where = f"{base_url.rstrip('/')}/notifications" if base_url else "the notifications page"
    body = "\n".join([*(f"- {line}" for line in lines), "", f"Open {service} to deal with "
                      f"{'it' if len(lines) == 1 else 'them'}: {where}", ""])
    return Email(user_id=user_id, to=address, subject=f"{service}: {headline}", body=body)


def send(emails: Sequence[Email], settings: MailSettings) -> int:
    """Send `emails` over one SMTP connection; returns how many were accepted. Failures are
    logged (never the address) and do not raise."""
    if not emails or not settings.enabled:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            for email in emails:
                try:
                    smtp.send_message(_message(email, settings.sender))
                    sent += 1
                except smtplib.SMTPException as error:
                    log.warning("notification email to user %s not sent: %s", email.user_id, type(error).__name__)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("notification emails not sent (%d left): %s", len(emails) - sent, type(error).__name__)
    return sent


def _message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.body)
    return message
