"""The reports pages: thin views over the queries of this package."""
from flask import Blueprint, render_template, request
from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import Organisation
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import page_args
from inventory.permissions import Permission, permission_required
from inventory.reports import commitments, exports, spend
from inventory.reports.downloads import csv_download
from inventory.reports.periods import parse_year, year_containing

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.get("")
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def index():
    return render_template("reports/index.html")


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
