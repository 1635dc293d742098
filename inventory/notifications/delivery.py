"""Delivering what a job run found: its notices become notifications for the people who
deal with them.

One notification per condition (kind, subject) per person per day: a second run the same
day updates the message and adds nothing; the next day's run makes a new one (and closes
yesterday's, so the centre shows each condition once). A condition of the job's kinds that
the run no longer returns is over, and its notification is closed."""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import event, or_, select

from inventory.accounts.models import User, UserRole
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.notifications import mail
from inventory.notifications.models import Notification

PENDING_EMAILS = "notification_emails"  # key in Session.info: emails waiting for the commit


@dataclass(frozen=True)
class Delivered:
    """What a delivery did, as counts for the run's history."""

    created: int
    kept: int
    closed: int

    def as_counts(self) -> dict[str, int]:
        return {"notifications_created": self.created, "notifications_kept": self.kept,
                "notifications_closed": self.closed}


Key = tuple[int, str, str]  # (user id, kind, subject)


def deliver(job_name: str, outcome: JobOutcome, *, kinds: Iterable[str], now: datetime) -> Delivered:
    """Turn the notices of one run of `job_name` into today's notifications and close those
    of its `kinds` (every kind the job can report, declared with the job, so that a run that
    finds nothing closes them all) that this run no longer returns. Flushes; when email is
    on, each person with new notifications gets one email after the commit."""
    owned = frozenset(kinds)
    for notice in outcome.notices:
        _check(job_name, notice, owned)
    day = now.date()
    wanted = _addressed(outcome.notices)

    created, kept, closed = [], 0, 0
    today: dict[Key, Notification] = {}
    for row in db.session.scalars(select(Notification).where(
            Notification.kind.in_(sorted(owned)), or_(Notification.closed_at.is_(None), Notification.day == day))):
        key = (row.user_id, row.kind, row.subject)
        if row.day == day:
            today[key] = row
        elif row.closed_at is None:  # an earlier day's: its condition is over, or today's replaces it
            row.closed_at = now
            closed += 1
    for key, row in today.items():
        notice = wanted.get(key)
        if notice is None:
            if row.closed_at is None:
                row.closed_at = now
                closed += 1
            continue
        row.message, row.link, row.closed_at = notice.message, notice.link, None  # back if it had gone
        kept += 1
    for key, notice in wanted.items():
        if key not in today:
            user_id, kind, subject = key
            created.append(Notification(user_id=user_id, kind=kind, subject=subject, message=notice.message,
                                        link=notice.link, day=day, created_at=now))
    db.session.add_all(created)
    db.session.flush()
    _email_after_commit(created)
    return Delivered(created=len(created), kept=kept, closed=closed)


def _check(job_name: str, notice: Notice, owned: frozenset[str]) -> None:
    """A job's notices are of the kinds it declares (else they would never be closed) and link
    to a page of SafeHold; a mistake here is the job's, found by its tests."""
    if notice.kind not in owned:
        raise ValueError(f"job {job_name} returned a notice of kind {notice.kind!r}, which it does not declare")
    if not notice.link.startswith("/") or notice.link.startswith("//"):
        raise ValueError(f"job {job_name}: a notice's link must be a path in SafeHold, not {notice.link!r}")
    columns = Notification.__table__.c
    for name in ("kind", "subject", "message", "link"):
        if len(getattr(notice, name)) > columns[name].type.length:
            raise ValueError(f"job {job_name}: a notice's {name} is longer than {columns[name].type.length}")


def _addressed(notices: list[Notice]) -> dict[Key, Notice]:
    """Each notice once per person in its audience: the active users holding one of its roles,
    and its active `user_ids`. Two queries, whatever the number of notices."""
    roles = {role for notice in notices for role in notice.roles}
    named = {user_id for notice in notices for user_id in notice.user_ids}
    holders: dict[str, set[int]] = defaultdict(set)
    if roles:
        for user_id, role in db.session.execute(
                select(UserRole.user_id, UserRole.role).join(User, User.id == UserRole.user_id)
                .where(User.active, UserRole.role.in_(sorted(roles)))):
            holders[role].add(user_id)
    active = set()
    if named:
        active = set(db.session.scalars(select(User.id).where(User.active, User.id.in_(sorted(named)))))
    wanted: dict[Key, Notice] = {}
    for notice in notices:
        audience = {user_id for role in notice.roles for user_id in holders[role]}
        audience |= {user_id for user_id in notice.user_ids if user_id in active}
        for user_id in audience:
            wanted.setdefault((user_id, notice.kind, notice.subject), notice)
    return wanted


def _email_after_commit(created: list[Notification]) -> None:
    """One email per person for this run's new notifications, sent once the transaction that
    made them commits (never for a run rolled back, and never holding the transaction open)."""
    settings = mail.MailSettings.from_config(current_app.config)
    if not created or not settings.enabled:
        return
    messages: dict[int, list[str]] = defaultdict(list)
    for notification in sorted(created, key=lambda n: n.id):
        messages[notification.user_id].append(notification.message)
    addresses = dict(db.session.execute(select(User.id, User.email).where(User.id.in_(list(messages)))).all())
    service = current_app.config["SERVICE_NAME"]
    emails = [mail.compose(user_id, addresses[user_id], lines, service=service, base_url=settings.base_url)
              for user_id, lines in sorted(messages.items())]
    session = db.session()
    session.info.setdefault(PENDING_EMAILS, []).append((settings, emails))
    if not event.contains(session, "after_commit", _send_pending):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_transaction_end", _drop_pending)


def _send_pending(session) -> None:
    for settings, emails in session.info.pop(PENDING_EMAILS, []):
        mail.send(emails, settings)


def _drop_pending(session, transaction) -> None:
    if transaction.parent is None:  # the transaction ended without a commit (after_commit has emptied it)
        session.info.pop(PENDING_EMAILS, None)
