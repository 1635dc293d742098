"""Request plumbing shared by every page and API call: who is signed in, the write lock,
security headers, navigation, and how errors become responses."""
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import ConfigurationError
from inventory import clock
from inventory.accounts.operations import SESSION_TOKEN_KEY, SessionTimedOut, api_token_for, user_for_login_session
from inventory.accounts.quiet_writes import end_login_session_quietly, record_token_use, worth_recording
from inventory.audit.operations import RevealsThrottled, record_refused_reveal
from inventory.database import reset_write_intent, set_write_intent
from inventory.errors import DomainError
from inventory.extensions import db, login_manager
from inventory.money import format_pence
from inventory.notifications.queries import unread_count
from inventory.permissions import Permission, Role, has_permission, has_role
from inventory.stock.qr import store_rendered
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


SEEN_KEY = "seen_at"  # when this browser last made a request (a timestamp), for the idle timeout
SEEN_RESOLUTION = timedelta(minutes=1)  # refreshed at most this often, so the cookie rarely changes


def _last_seen() -> datetime | None:
    seen = session.get(SEEN_KEY)
    return datetime.fromtimestamp(seen, UTC) if isinstance(seen, int | float) else None


def _note_seen(now: datetime) -> None:
    seen = _last_seen()
    if seen is None or now - seen >= SEEN_RESOLUTION:
        session[SEEN_KEY] = now.timestamp()


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address, scheme and host from
    their X-Forwarded-* headers (so the audit and access logs record the client); with none,
    ignore those headers, which anyone could send."""
    proxies = app.config["TRUSTED_PROXIES"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        raise ConfigurationError("TRUSTED_PROXIES must be a whole number of reverse proxies (0 for none).")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _path_exists(app: Flask, error: MethodNotAllowed) -> bool:
    """Whether the path of a 405 names something with one of the methods it allows. Werkzeug
    answers 405 before checking the path's ids, so POST /cases/0/reviews (GET being another
    rule) would say "wrong method" where there is nothing at all: that is a 404."""
    methods = [method for method in error.valid_methods or () if method not in ("HEAD", "OPTIONS")]
    if not methods:
        return True
    try:
        app.url_map.bind_to_environ(request.environ).match(method=methods[0])
    except NotFound:
        return False
    except HTTPException:
        return True
    return True


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    _trust_proxies(app)

    @login_manager.user_loader
    def load_user(user_id):
        if request.headers.get("Authorization"):
            return None  # an API token, when sent, decides who is calling
        now = clock.now()
        try:
            user = user_for_login_session(user_id, session.get(SESSION_TOKEN_KEY), last_seen=_last_seen())
        except SessionTimedOut as timed_out:
            g.timed_out_session = (timed_out.login_session_id, now)
            session.clear()
            flash(timed_out.message, "info")
            return None
        if user is not None:
            _note_seen(now)
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        scheme, _, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            return None
        token = api_token_for(plain.strip())
        if token is None:
            return None
        now = clock.now()
        if worth_recording(token, now):
            g.api_token_used = (token.id, now)
        return token.user

    @app.before_request
    def take_write_lock_for_writes():
        view = app.view_functions.get(request.endpoint)
        if request.method in WRITE_METHODS or getattr(view, "records_the_read", False):
            g.write_intent_token = set_write_intent(True)

    @app.teardown_request
    def release_write_intent(_exc):
        token = g.pop("write_intent_token", None)
        if token is not None:
            reset_write_intent(token)

    @app.teardown_request
    def write_after_the_request(_exc):
        # On a connection of their own, after the answer is made: a busy database may make
        # these wait a moment or be skipped, but never fails or holds up the request.
        used, timed_out = g.pop("api_token_used", None), g.pop("timed_out_session", None)
        qr_drawn = g.pop("qr_images_drawn", None)
        if used or timed_out or qr_drawn:
            db.session.remove()  # the request is answered: hand back its connection first
        if used:
            record_token_use(db.engine, *used)
        if timed_out:
            end_login_session_quietly(db.engine, *timed_out)
        if qr_drawn:
            store_rendered(db.engine, qr_drawn)

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
        if isinstance(error, MethodNotAllowed) and not _path_exists(app, error):
            error = NotFound()
        status = error.code or 500
        if status < 400:  # routing redirects
            return error
        if status == 401 and not wants_json():
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        if wants_json():
            message = HTTP_ERROR_MESSAGES.get(status) or error.description
            response = json_error(status, HTTP_ERROR_CODES.get(status, "http_error"), message)
        else:
            template = {403: "errors/403.html", 404: "errors/404.html", 413: "errors/413.html"}.get(status)
            page = (render_template(template) if template
                    else render_template("errors/problem.html", message=error.description, status=status))
            response = app.make_response((page, status))
        # Headers the error carries for the client (a 405's Allow, a 429's Retry-After).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

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
