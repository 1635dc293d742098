"""The notification centre: a signed-in person's own open notifications."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from inventory.notifications import operations
from inventory.notifications.queries import open_notifications
from inventory.pagination import page_args, paginate
from inventory.permissions import login_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index():
    page, per_page = page_args()
    notifications = paginate(open_notifications(current_user.id), page, per_page)
    return render_template("notifications/index.html", page=notifications)


@bp.post("/<int:notification_id>/open")
@login_required
def open_one(notification_id: int):
    """Opening a notification marks it read and goes where it is dealt with."""
    notification = operations.open_notification(notification_id, actor=current_user)
    return redirect(notification.link)


@bp.post("/read")
@login_required
def read_all():
    marked = operations.mark_all_read(actor=current_user)
    if marked:
        flash(f"{marked} notification{'' if marked == 1 else 's'} marked read.", "success")
    else:
        flash("Nothing unread.", "info")
    return redirect(url_for("notifications.index"))
