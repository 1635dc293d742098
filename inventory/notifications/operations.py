"""A person's own notifications: reading them. Nobody acts on another's."""
from sqlalchemy import select, update

from inventory import clock
from inventory.errors import NotFound
from inventory.extensions import db
from inventory.notifications.models import Notification


def open_notification(notification_id: int, *, actor) -> Notification:
    """Mark one of the actor's notifications read (opening it); someone else's is not found."""
    notification = db.session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == actor.id))
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = clock.now()
        db.session.flush()
    return notification


def mark_all_read(*, actor) -> int:
    """Mark every open, unread notification of the actor read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.closed_at.is_(None), Notification.read_at.is_(None))
        .values(read_at=clock.now()))
    return result.rowcount
