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
