"""Admins browse and filter the security audit log and the personal-data access log.
There is no route that edits or deletes a row.

These pages live with the accounts, not in `inventory.audit`: finding someone's events
needs the users, and the audit log sits below accounts (accounts writes to it)."""
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inventory import clock
from inventory.accounts.models import User
from inventory.audit.models import AccessLogEntry, AuditEvent, AuditEventKind
from inventory.errors import InvalidInput
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, permission_required

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


@bp.get("/access-log")
@permission_required(Permission.VIEW_ACCESS_LOG)
def access_log():
    page, per_page = page_args()
    query = (select(AccessLogEntry).options(selectinload(AccessLogEntry.user))
             .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc()))
    filters = Fields(request.args, text=True)
    case_id = filters.record_id("case_id", required=False)
    if filters.errors:
        raise InvalidInput("Case id is a number.", fields=filters.errors)
    if case_id is not None:
        query = query.where(AccessLogEntry.case_id == case_id)
    query = _filtered(query, AccessLogEntry.occurred_at, AccessLogEntry.user_id)
    return render_template("audit/access_log.html", page=paginate(query, page, per_page), args=request.args)
