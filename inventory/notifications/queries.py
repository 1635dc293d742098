"""What a person's notifications are: the centre's list and the navigation's unread count."""
from sqlalchemy import func, select

from inventory.extensions import db
from inventory.notifications.models import Notification


def open_notifications(user_id: int):
    """SELECT of the person's open notifications (their condition still holds), newest first."""
    return (select(Notification)
            .where(Notification.user_id == user_id, Notification.closed_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.closed_at.is_(None), Notification.read_at.is_(None)))


def latest_unread(user_id: int, *, limit: int = 5) -> tuple[int, list[Notification]]:
    """How many of the person's open notifications are unread, and the newest `limit` of
    them: one statement (the count is a window over the same rows, taken before the limit)."""
    rows = db.session.execute(
        select(Notification, func.count().over())
        .where(Notification.user_id == user_id, Notification.closed_at.is_(None), Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)).all()
    return (rows[0][1] if rows else 0), [notification for notification, _ in rows]
