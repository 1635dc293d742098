"""Admins browse and filter the security audit log and the personal-data access log.
There is no route that edits or deletes a row.

These pages live with the accounts, not in `inventory.audit`: finding someone's events
needs the users, and the audit log sits below accounts (accounts writes to it)."""
from dataclasses import asdict
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from inventory import clock
from inventory.accounts import access_review
from inventory.accounts.access_review import AccessFilters, Unusual
from inventory.accounts.models import User
from inventory.accounts.reauth import reauthentication_required
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.audit.operations import record_event
from inventory.csv_files import csv_download
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, permission_required
from inventory.unit_of_work import keep

bp = Blueprint("audit", __name__, url_prefix="/admin")


def _filtered(query, occurred_at, user_column):
    """Apply ?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive) and ?user= (part of an email)."""
    filters = Fields(request.args, text=True)
    since, until = filters.date("from", required=False), filters.date("to", required=False)
    if filters.errors:
        raise InvalidInput("Dates are YYYY-MM-DD.", fields=filters.errors)
    zone = clock.now().tzinfo
    if since is not None:
        query = query.where(occurred_at >= datetime.combine(since, time.min, zone))
    if until is not None:
        query = query.where(occurred_at < datetime.combine(until + timedelta(days=1), time.min, zone))
    user = request.args.get("user", "").strip()
    if user:
        query = query.where(user_column.in_(select(User.id).where(User.email.like(f"%{user.lower()}%"))))
    return query


@bp.get("/audit")
@permission_required(Permission.VIEW_AUDIT_LOG)
def events():
    page, per_page = page_args()
    query = (select(AuditEvent)
             .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.subject_user))
             .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))
    kind = request.args.get("kind", "")
    if kind in {str(k) for k in AuditEventKind}:
        query = query.where(AuditEvent.kind == kind)
    query = _filtered(query, AuditEvent.occurred_at, AuditEvent.actor_id)
    return render_template("audit/events.html", page=paginate(query, page, per_page),
                           kinds=list(AuditEventKind), args=request.args)


def _access_filters() -> AccessFilters:
    """?user= (part of an email), ?user_id=, ?case_id=, ?case_reference=, ?what= (part of
    what was shown), ?from= and ?to= (YYYY-MM-DD, inclusive)."""
    args = Fields(request.args, text=True)
    found = AccessFilters(
        user=request.args.get("user", "").strip(), user_id=args.record_id("user_id", required=False),
        case_id=args.record_id("case_id", required=False),
        case_reference=args.text("case_reference", required=False, max_length=40) or "",
        what=args.text("what", required=False, max_length=80) or "",
        since=args.date("from", required=False), until=args.date("to", required=False))
    if args.errors:
        raise InvalidInput("Some filters are not valid: ids are numbers, dates are YYYY-MM-DD.", fields=args.errors)
    return found


@bp.get("/access-log")
@permission_required(Permission.VIEW_ACCESS_LOG)
def access_log():
    """Every view of personal data, filtered, with unusual access highlighted and why."""
    page, per_page = page_args()
    unusual = Unusual.from_config(current_app.config)
    found = paginate(access_review.access_query(_access_filters(), unusual.zone), page, per_page, scalars=False)
    found.items = access_review.reviewed(db.session, found.items, unusual)
    return render_template("audit/access_log.html", page=found, args=request.args, unusual=unusual)


@bp.get("/access-log.csv")
@permission_required(Permission.VIEW_ACCESS_LOG)
@reauthentication_required
def access_log_csv():
    """The rows the filters select, as a CSV file; the export is itself audited."""
    filters = _access_filters()
    unusual = Unusual.from_config(current_app.config)
    rows = db.session.scalar(select(func.count()).select_from(
        access_review.access_query(filters, unusual.zone).order_by(None).subquery()))
    record_event(AuditEventKind.ACCESS_LOG_EXPORTED, actor=current_user, rows=rows,
                 filters={name: str(value) for name, value in asdict(filters).items() if value not in (None, "")})
    keep()  # the audit event is the record of this read
    return csv_download("access-log.csv", access_review.CSV_COLUMNS,
                        lambda session: access_review.csv_rows(session, filters, unusual))
