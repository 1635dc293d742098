"""The reports pages: thin views over the queries of this package."""
from flask import Blueprint, render_template

from inventory.permissions import Permission, permission_required
from inventory.reports.performance import performance as performance_charts

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def index():
    return render_template("reports/index.html")


@bp.get("/performance")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def performance():
    return render_template("reports/performance.html", charts=performance_charts())
