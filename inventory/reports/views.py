"""The reports pages: thin views over the queries of this package."""
from flask import Blueprint, Response, render_template, request

from inventory.errors import InvalidInput
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required
from inventory.reports import approvals

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def index():
    return render_template("reports/index.html")


# The approval trail ----------------------------------------------------------------------


def _trail_filters() -> tuple[approvals.TrailFilters, dict[str, str]]:
    """The filters in the query string, or none and the problems with them."""
    try:
        return approvals.TrailFilters.read(request.args), {}
    except InvalidInput as error:
        return approvals.TrailFilters(), error.fields


def _trail_page(filters, problems: dict[str, str]):
    page = paginate(approvals.trail_query(filters), *page_args(), scalars=False)
    page.items = [approvals.trail_row(row) for row in page.items]
    return render_template("reports/approvals.html", page=page, problems=problems, filters=request.args,
                           decisions=list(approvals.Decision), people=approvals.deciders(),
                           organisations=approvals.organisations()), 422 if problems else 200


@bp.get("/approvals")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def approval_trail():
    return _trail_page(*_trail_filters())


@bp.get("/approvals.csv")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def approval_trail_csv():
    filters, problems = _trail_filters()
    if problems:  # the page, with each bad filter explained, rather than a file of something else
        return _trail_page(filters, problems)
    return Response(approvals.trail_csv(filters), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="approval-trail.csv"'})
