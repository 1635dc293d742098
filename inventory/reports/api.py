"""GET /api/v1/reports/funder-return: the funder's return as JSON or CSV (docs/api.md).
Aggregates only: no name, address or phone number, no case reference."""
from flask import Response, current_app, jsonify, request

from inventory import clock
from inventory.api import api_route, query_param, schema
from inventory.permissions import Permission, permission_required
from inventory.reports.funder_return import (
    COUNT,
    DAYS,
    PENCE,
    PERCENT,
    FunderReturn,
    as_csv,
    csv_filename,
    funder_return,
    return_asked,
)
from inventory.reports.periods import ReportPeriod

DATE = {"type": "string", "format": "date"}

FIGURE = schema("ReturnFigure", {
    "type": "object",
    "required": ["column", "unit", "value", "withheld", "shown"],
    "properties": {
        "column": {"type": "string", "description": "The key of the section's column it is in."},
        "unit": {"type": "string", "enum": [COUNT, PENCE, DAYS, PERCENT]},
        "value": {"type": ["number", "null"],
                  "description": "Null when withheld, or when there is nothing to compute (an average over none)."},
        "withheld": {"type": ["string", "null"],
                     "description": "Why the value is not given: \"fewer than 5\" (a small count) or \"withheld\" "
                                    "(hidden so that a small count cannot be worked out)."},
        "shown": {"type": "string", "description": "The figure as the printed return shows it."},
    },
})

SECTION = schema("ReturnSection", {
    "type": "object",
    "required": ["key", "title", "columns", "rows"],
    "properties": {
        "key": {"type": "string"}, "title": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "object", "required": ["key", "label"],
                                               "properties": {"key": {"type": "string"},
                                                              "label": {"type": "string"}}}},
        "rows": {"type": "array", "items": {
            "type": "object", "required": ["key", "label", "figures"],
            "properties": {"key": {"type": "string"}, "label": {"type": "string"},
                           "figures": {"type": "array", "items": FIGURE}}}},
    },
})

FUNDER_RETURN = schema("FunderReturn", {
    "type": "object",
    "required": ["period", "suppression_threshold", "scopes"],
    "properties": {
        "period": {"type": "object", "required": ["key", "label", "starts_on", "ends_on", "complete"],
                   "properties": {"key": {"type": "string", "examples": ["2026Q3", "2026"]},
                                  "label": {"type": "string"}, "starts_on": DATE, "ends_on": DATE,
                                  "complete": {"type": "boolean", "description": "False while the period runs."}}},
        "suppression_threshold": {"type": "integer", "minimum": 1},
        "scopes": {"type": "array", "description": "The whole service first, then each organisation.", "items": {
            "type": "object", "required": ["organisation", "name", "sections"],
            "properties": {
                "organisation": {"type": ["object", "null"], "required": ["id", "name"],
                                 "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "name": {"type": "string"},
                "sections": {"type": "array", "items": SECTION}}}},
    },
})


def serialise(report: FunderReturn, period: ReportPeriod, *, complete: bool) -> dict:
    return {
        "period": {"key": period.key, "label": period.label, "starts_on": period.starts_on.isoformat(),
                   "ends_on": period.ends_on.isoformat(), "complete": complete},
        "suppression_threshold": report.threshold,
        "scopes": [{
            "organisation": None if scope.organisation_id is None else {"id": scope.organisation_id,
                                                                         "name": scope.name},
            "name": scope.name,
            "sections": [{
                "key": section.key, "title": section.title,
                "columns": [{"key": column.key, "label": column.label} for column in section.columns],
                "rows": [{"key": row.key, "label": row.label, "figures": [
                    {"column": column.key, "unit": figure.unit, "value": None if figure.withheld else figure.value,
                     "withheld": figure.withheld, "shown": figure.shown}
                    for column, figure in zip(section.columns, row.figures, strict=True)]}
                    for row in section.rows],
            } for section in scope.sections],
        } for scope in report.scopes],
    }


@api_route("/reports/funder-return", summary="The funder's return for a financial quarter or year: aggregates "
           "only, small counts suppressed.", response=FUNDER_RETURN, tag="reports",
           other_media_types={"text/csv": {"type": "string"}},
           query=[query_param("quarter", {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$"},
                              "A financial quarter, 2026Q3 = October to December 2026. Default: the last complete "
                              "quarter."),
                  query_param("year", {"type": "string", "pattern": "^[0-9]{4}$"},
                              "Instead of a quarter: the financial year starting in April of that year."),
                  query_param("format", {"type": "string", "enum": ["json", "csv"]},
                              "csv: one line per figure (text/csv). Default json.")])
@permission_required(Permission.VIEW_AGGREGATE_REPORTS)
def funder_return_report():
    today = clock.today()
    period, output = return_asked(request.args, today=today, formats=("json", "csv"))
    report = funder_return(period.starts_on, period.ends_on,
                           threshold=current_app.config["REPORT_SUPPRESSION_THRESHOLD"])
    if output == "csv":
        return Response(as_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{csv_filename(period)}"'})
    return jsonify(serialise(report, period, complete=period.has_ended(today)))
