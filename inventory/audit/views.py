"""Admins browse and filter the security audit log and the personal-data access log.
There is no route that edits or deletes a row."""
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory import clock
from inventory.accounts.models import User
from inventory.audit.models import AccessLogEntry, AuditEvent, AuditEventKind
from inventory.errors import InvalidInput
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required

bp = Blueprint("audit", __name__, url_prefix="/admin")


def _date_filters(query, column):
    """Apply ?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive) to a query."""
    bounds = {}
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        if raw:
            try:
                bounds[name] = datetime.fromisoformat(raw).date()
            except ValueError:
                raise InvalidInput("Dates are YYYY-MM-DD.", fields={name: "Use YYYY-MM-DD."}) from None
    zone = clock.now().tzinfo
    if "from" in bounds:
        query = query.where(column >= datetime.combine(bounds["from"], time.min, zone))
    if "to" in bounds:
        query = query.where(column < datetime.combine(bounds["to"] + timedelta(days=1), time.min, zone))
    return query


def _user_filter(query, column):
    raw = request.args.get("user", "").strip()
    if raw:
        query = query.where(column.in_(select(User.id).where(User.email.like(f"%{raw.lower()}%"))))
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
    query = _user_filter(_date_filters(query, AuditEvent.occurred_at), AuditEvent.actor_id)
    return render_template("audit/events.html", page=paginate(query, page, per_page),
                           kinds=list(AuditEventKind), args=request.args)


@bp.get("/access-log")
@permission_required(Permission.VIEW_ACCESS_LOG)
def access_log():
    page, per_page = page_args()
    query = (select(AccessLogEntry).options(selectinload(AccessLogEntry.user))
             .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc()))
    case_id = request.args.get("case_id", "").strip()
    if case_id:
        if not case_id.isdigit():
            raise InvalidInput("Case id is a number.", fields={"case_id": "A number."})
        query = query.where(AccessLogEntry.case_id == int(case_id))
    query = _user_filter(_date_filters(query, AccessLogEntry.occurred_at), AccessLogEntry.user_id)
    return render_template("audit/access_log.html", page=paginate(query, page, per_page), args=request.args)
