"""The reports pages: thin views over the queries of this package."""
from flask import Blueprint, render_template

from inventory.permissions import Permission, permission_required

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def index():
    return render_template("reports/index.html")
