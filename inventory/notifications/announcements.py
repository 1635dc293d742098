"""Notices announced at once, outside a job run (inventory.notices.announce): a request
waiting for a second admin, a user past the reveal rate. Each becomes a notification for
each person in its audience, one per (kind, subject) per person per day as a job's are; the
same day it is told again only once `renew_after` has passed (it comes back unread). Jobs
never close these: the feature that announced one says when it is over."""
from datetime import timedelta

from sqlalchemy import exc, select, update

from inventory import clock
from inventory.extensions import db
from inventory.notices import Notice
from inventory.notifications.delivery import _addressed, _email_after_commit
from inventory.notifications.models import Notification


def deliver_now(notice: Notice, *, exclude_user_ids=(), renew_after: timedelta | None = None) -> int:
    """Receiver of `notices.announced`: returns how many people were told."""
    now = clock.now()
    audience = {user_id for user_id, _, _ in _addressed([notice])} - set(exclude_user_ids)
    if not audience:
        return 0
    today = {row.user_id: row for row in db.session.scalars(select(Notification).where(
        Notification.kind == notice.kind, Notification.subject == notice.subject, Notification.day == now.date(),
        Notification.user_id.in_(sorted(audience))))}
    told = []
    for user_id in sorted(audience):
        row = today.get(user_id)
        if row is None:
            row = Notification(user_id=user_id, kind=notice.kind, subject=notice.subject, message=notice.message,
                               link=notice.link, day=now.date(), created_at=now)
            try:
                with db.session.begin_nested():  # told a moment ago by a concurrent request
                    db.session.add(row)
            except exc.IntegrityError:
                continue
        elif row.closed_at is not None or (renew_after is not None and now - row.created_at >= renew_after):
            row.message, row.link, row.created_at, row.read_at, row.closed_at = (
                notice.message, notice.link, now, None, None)
        else:
            continue
        told.append(row)
    db.session.flush()
    _email_after_commit(told)
    return len(told)


def close_announced(kind: str, subject: str) -> None:
    """Receiver of `notices.announcement_over`: the condition is over for everyone told."""
    db.session.execute(update(Notification).where(
        Notification.kind == kind, Notification.subject == subject, Notification.closed_at.is_(None),
    ).values(closed_at=clock.now()).execution_options(synchronize_session=False))
