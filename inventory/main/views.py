from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import text

from inventory import clock
from inventory.extensions import db
from inventory.permissions import login_required, public
from inventory.scheduling.history import scheduler_health

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    return render_template("main/home.html", user=current_user)


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
