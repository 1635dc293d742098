from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from inventory import clock
from inventory.database import UTCDateTime
from inventory.extensions import db


class Notification(db.Model):
    """One condition a job found (`kind` about `subject`), for one person, on one day. A
    second run the same day updates it; the next day's run makes a new one and closes this;
    a run that no longer finds the condition closes it. The centre shows the open ones."""

    __tablename__ = "notifications"
    __table_args__ = (
        # One per condition per person per day: a job run twice adds nothing.
        UniqueConstraint("user_id", "kind", "subject", "day"),
        # The link is a path in SafeHold, so opening a notification never leaves the site.
        CheckConstraint("link LIKE '/%' AND link NOT LIKE '//%'", name="link_is_a_path"),
        # The centre and the navigation's unread count read a person's open notifications.
        Index("ix_notifications_open_by_user", "user_id", "created_at",
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
        # Delivery reads the open notifications of a job's kinds.
        Index("ix_notifications_open_by_kind", "kind",
              sqlite_where=text("closed_at IS NULL"), postgresql_where=text("closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(500))
    day: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
