"""The reports pages: thin views over the queries of this package."""
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, render_template, request

from inventory import clock
from inventory.errors import InvalidInput
from inventory.permissions import Permission, permission_required
from inventory.reports import periods
from inventory.reports.funder_return import SECTION_NOTES, as_csv, csv_filename, funder_return, return_asked
from inventory.reports.periods import ReportPeriod

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def index():
    return render_template("reports/index.html")


# The funder's return ------------------------------------------------------------------

PICKER_QUARTERS = 8  # quarters offered in the picker, back from the current one
PICKER_YEARS = 3


def _recent_periods(today: date) -> tuple[list[ReportPeriod], list[ReportPeriod]]:
    """Quarters and financial years to pick from, newest first, up to the current ones."""
    quarters = [periods.quarter_containing(today)]
    while len(quarters) < PICKER_QUARTERS:
        quarters.append(periods.quarter_containing(quarters[-1].starts_on - timedelta(days=1)))
    first_year = int(periods.year_containing(today).key)
    return quarters, [periods.financial_year(first_year - n) for n in range(PICKER_YEARS)]


@bp.get("/funder-return")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def funder_return_page():
    today = clock.today()
    quarters, years = _recent_periods(today)
    try:
        period, output = return_asked(request.args, today=today, formats=("csv",))
    except InvalidInput as error:
        return render_template("reports/funder_return.html", report=None, error=error, quarters=quarters,
                               years=years, period=None), 422
    report = funder_return(period.starts_on, period.ends_on,
                           threshold=current_app.config["REPORT_SUPPRESSION_THRESHOLD"])
    if output == "csv":
        return Response(as_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{csv_filename(period)}"'})
    return render_template("reports/funder_return.html", report=report, period=period, quarters=quarters,
                           years=years, error=None, unfinished=not period.has_ended(today), today=today,
                           notes=SECTION_NOTES)
