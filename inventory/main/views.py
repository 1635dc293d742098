from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import text

from inventory.extensions import db
from inventory.permissions import login_required, public

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    return render_template("main/home.html", user=current_user)


@bp.get("/healthz")
@public
def health():
    """For the load balancer: the app is up and its database answers."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
