from functools import partial

from flask import Blueprint, g, render_template, request
from flask_login import current_user
from sqlalchemy import text

from inventory import clock
from inventory.extensions import db
from inventory.main.dashboards import RequestScope, dashboard, link_to
from inventory.permissions import login_required, public
from inventory.scheduling.history import scheduler_health

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """Each of the user's roles' panels: what needs them now (inventory/main/dashboards.py)."""
    scope = RequestScope.read(request.args)
    shown = dashboard(current_user, clock.now(), request_scope=scope)
    if shown.unread is not None:  # the navigation's count, already read with the list
        g.unread_notifications = shown.unread
    return render_template("main/home.html", user=current_user, dashboard=shown,
                           link_to=partial(link_to, current_user), scopes=list(RequestScope))


@bp.get("/healthz")
@public
def health():
    """For the load balancer: the app is up and its database answers (200). For a monitor: the
    scheduler's heartbeat, "healthy" while one has reported within SCHEDULER_HEARTBEAT_MAX_MINUTES
    (a dead scheduler does not make the app itself unhealthy, so the status stays 200)."""
    db.session.execute(text("SELECT 1"))
    health = scheduler_health(clock.now())
    return {"status": "ok", "scheduler": {
        "healthy": health.healthy,
        "last_beat_at": health.last_beat_at.isoformat() if health.last_beat_at else None,
        "last_run_at": health.last_run_at.isoformat() if health.last_run_at else None,
    }}
