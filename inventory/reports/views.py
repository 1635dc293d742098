"""The reports pages: thin views over the queries of this package."""
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import Organisation
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required
from inventory.reports import approvals, commitments, exports, periods, spend
from inventory.reports.downloads import csv_download
from inventory.reports.funder_return import SECTION_NOTES, as_csv, csv_filename, funder_return, return_asked
from inventory.reports.performance import performance as performance_charts
from inventory.reports.periods import ReportPeriod, parse_year, year_containing
from inventory.sealing.keys import keyring

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
    keys = keyring()  # the file is written after the request's app context has gone
    return csv_download("approval-trail.csv", approvals.CSV_COLUMNS,
                        lambda session: approvals.csv_rows(session, filters, keys))


# Commitments ageing, spend per organisation, CSV exports (issue 13) ------------------------

@bp.get("/commitments")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def commitments_ageing():
    today = clock.today()
    band = commitments.parse_band(request.args.get("band"))
    if request.args.get("format") == "csv":
        return csv_download(f"open-commitments-{today.isoformat()}.csv", commitments.CSV_COLUMNS,
                            lambda session: commitments.csv_rows(session, today, band))
    page, per_page = page_args()
    return render_template("reports/commitments.html", ageing=commitments.ageing(today), band=band,
                           bands=commitments.AGE_BANDS, page=commitments.details_page(today, band, page, per_page))


@bp.get("/spend")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def spend_by_organisation():
    year = parse_year(request.args["year"]) if request.args.get("year") else year_containing(clock.today())
    table = spend.spend_by_organisation(year)
    if request.args.get("format") == "csv":
        return csv_download(f"spend-by-organisation-{year.key}.csv", spend.csv_columns(table),
                            lambda _session: spend.csv_rows(table))
    return render_template("reports/spend.html", table=table, years=spend.years_to_offer(clock.today(), year))


@bp.get("/exports")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def exports_page():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    if not request.args:
        return render_template("reports/exports.html", organisations=organisations, kinds=exports.ExportKind,
                               problems={}, asked={})
    try:
        choice = exports.read_choice(request.args)
    except InvalidInput as refused:
        return render_template("reports/exports.html", organisations=organisations, kinds=exports.ExportKind,
                               problems=refused.fields, asked=request.args), 422
    return csv_download(choice.filename, exports.columns_of(choice),
                        lambda session: exports.rows_of(session, choice))


@bp.get("/performance")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def performance():
    return render_template("reports/performance.html", charts=performance_charts())


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
