"""Request plumbing shared by every page and API call: who is signed in, the write lock,
security headers, navigation, and how errors become responses."""
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from inventory.accounts.operations import SESSION_TOKEN_KEY, user_for_api_token, user_for_login_session
from inventory.audit.operations import RevealsThrottled, record_refused_reveal
from inventory.database import reset_write_intent, set_write_intent
from inventory.errors import DomainError
from inventory.extensions import db, login_manager
from inventory.money import format_pence
from inventory.notifications.queries import unread_count
from inventory.permissions import Permission, Role, has_permission, has_role
from inventory.unit_of_work import WRITE_METHODS, keep_refusal

log = logging.getLogger(__name__)

LOCAL_TIME = ZoneInfo("Europe/London")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: Permission | None = None
    roles: tuple[Role, ...] = ()

    def visible_to(self, user) -> bool:
        if self.permission is not None and not has_permission(user, self.permission):
            return False
        if self.roles and not has_role(user, *self.roles):
            return False
        return True


# Navigation by role; each feature adds its entries here.
NAVIGATION: list[NavItem] = [
    NavItem("Home", "main.home"),
    NavItem("Queue", "requests.queue", permission=Permission.DECIDE_REQUESTS),
    NavItem("Cases", "cases.index", permission=Permission.VIEW_CASES),
    NavItem("My requests", "requests.index", permission=Permission.RAISE_REQUESTS),
    NavItem("My jobs", "jobs.mine", roles=(Role.FITTER,)),
    NavItem("Jobs", "jobs.index", permission=Permission.SCHEDULE_JOBS),
    NavItem("Scan", "jobs.scan_any", permission=Permission.SCAN_ITEMS),
    NavItem("Users", "admin.users", permission=Permission.MANAGE_USERS),
    NavItem("Approvals", "admin.approval_list", permission=Permission.MANAGE_USERS),
    NavItem("Organisations", "admin.organisations", permission=Permission.MANAGE_ORGANISATIONS),
    NavItem("Scheduled jobs", "scheduling.jobs", permission=Permission.MANAGE_SCHEDULED_JOBS),
    NavItem("Stock", "stock.levels", permission=Permission.VIEW_STOCK),
    NavItem("Purchase orders", "procurement.orders", permission=Permission.MANAGE_PURCHASE_ORDERS),
    NavItem("Catalogue", "catalogue.item_types", permission=Permission.MANAGE_CATALOGUE),
    NavItem("Audit log", "audit.events", permission=Permission.VIEW_AUDIT_LOG),
    NavItem("Access log", "audit.access_log", permission=Permission.VIEW_ACCESS_LOG),
    NavItem("Budget", "budget.home", permission=Permission.VIEW_BUDGET_SUMMARY),
    NavItem("Ledger", "budget.entries", permission=Permission.VIEW_LEDGER),
    NavItem("Reconciliation", "reconciliation.statements", permission=Permission.RECONCILE),
    NavItem("Reports", "reports.index", permission=Permission.VIEW_AGGREGATE_REPORTS),
    NavItem("Reopen months", "budget.months", permission=Permission.REOPEN_MONTH),
    NavItem("API tokens", "accounts.tokens"),
]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}
HTTP_ERROR_MESSAGES = {
    401: "Sign in, or send a valid API token.",
    403: "You are not allowed to do that.",
    404: "Not found.",
    413: "That upload or request is too large.",
}


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id):
        if request.headers.get("Authorization"):
            return None  # an API token, when sent, decides who is calling
        return user_for_login_session(user_id, session.get(SESSION_TOKEN_KEY))

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return user_for_api_token(token.strip())
        return None

    @app.before_request
    def take_write_lock_for_writes():
        if request.method in WRITE_METHODS:
            g.write_intent_token = set_write_intent(True)

    @app.teardown_request
    def release_write_intent(_exc):
        token = g.pop("write_intent_token", None)
        if token is not None:
            reset_write_intent(token)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        if current_user.is_authenticated or wants_json():
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_template_filter(lambda moment: moment.astimezone(LOCAL_TIME).strftime("%d %b %Y %H:%M"), "datetime")
    app.add_template_filter(lambda day: day.strftime("%d %b %Y"), "date")
    app.add_template_filter(format_pence, "money")

    @app.context_processor
    def navigation():
        items = [item for item in NAVIGATION if item.visible_to(current_user)] if current_user.is_authenticated else []
        if current_user.is_authenticated and "unread_notifications" not in g:  # one count per request
            g.unread_notifications = unread_count(current_user.id)
        return {"navigation": items, "unread_notifications": g.get("unread_notifications", 0),
                "has_permission": has_permission, "Permission": Permission}

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(error.status, error.code, error.message, error.details)
        return render_template("errors/problem.html", message=error.message, status=error.status), error.status

    @app.errorhandler(RevealsThrottled)
    def reveals_throttled(error: RevealsThrottled):
        keep_refusal(lambda: record_refused_reveal(current_user, error))
        if wants_json():
            response = json_error(error.status, error.code, error.message, error.details)
        else:
            response = app.make_response((render_template("errors/problem.html", message=error.message,
                                                          status=error.status), error.status))
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        if wants_json():
            return json_error(400, "csrf_failed", "The request's CSRF token is missing or out of date.")
        flash("That form had expired. Please try again.", "error")
        return render_template("errors/problem.html", message="That form had expired. Go back and try again.",
                               status=400), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        if status < 400:  # routing redirects
            return error
        if wants_json():
            message = HTTP_ERROR_MESSAGES.get(status) or error.description
            return json_error(status, HTTP_ERROR_CODES.get(status, "http_error"), message)
        if status == 401:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        template = {403: "errors/403.html", 404: "errors/404.html", 413: "errors/413.html"}.get(status)
        if template:
            return render_template(template), status
        return render_template("errors/problem.html", message=error.description, status=status), status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate if propagate is not None else (app.testing or app.debug):
            raise error
        # The traceback goes to the server log only; people get a plain page.
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong on our side. It has been logged.")
        return render_template("errors/500.html"), 500
