import base64
import json
import os
import secrets
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A setting the app cannot run without is missing or malformed."""


class BaseConfig:
    ENV_NAME = "base"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "safehold_session"
    # A signed-in browser is signed out after this many minutes without a request, and this
    # many hours after signing in whatever it does (a working day).
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Only a backstop: the session cookie's signature expires this many seconds after it last
    # changed (the timeouts above end a session well before).
    PERMANENT_SESSION_LIFETIME = 12 * 60 * 60
    REMEMBER_COOKIE_DURATION = 0
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which ends on logout
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # argon2id, above OWASP's minimum (m=19 MiB, t=2, p=1).
    PASSWORD_HASH = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2}
    SERVICE_NAME = "SafeHold"
    ALLOW_DEMO_DATA = True
    # A survivor's personal or contact details, once revealed (and logged), stay shown to that
    # user on that case's or job's page this many seconds, so a reload or the Back button shows
    # them again without logging again; after that, showing them again is logged again. The
    # job page hides them by itself when this time is up (and has a button to hide them sooner).
    REVEAL_SECONDS = 300
    # Sensitive actions (exports with personal data, role changes, month close, anonymise now)
    # need the password typed within this many seconds; older, it is asked for again.
    REAUTH_SECONDS = 5 * 60
    # Two-factor sign-in (an authenticator app's six-digit codes): people holding any of these
    # roles must use it, and are taken to set it up at their next sign-in; anyone else may
    # turn it on from their account page. Production: admin, coordinator and finance.
    TWO_FACTOR_REQUIRED_ROLES: list[str] = ["admin", "coordinator", "finance"]
    # Sign-in throttling, instead of locking accounts: after `free` failed password checks,
    # each further one doubles the wait before the next attempt is considered (1 s, 2 s,
    # 4 s ...) up to `max_seconds`. Counted per sign-in name (from devices not known for it),
    # per client address (across every name tried from it) and per known device. A counter
    # starts again after THROTTLE_FORGET_SECONDS without a failure.
    THROTTLE_LIMITS = {
        "account": {"free": 3, "max_seconds": 60},
        "address": {"free": 5, "max_seconds": 5 * 60},
        "device": {"free": 3, "max_seconds": 60},
    }
    THROTTLE_FORGET_SECONDS = 60 * 60
    # Keep the throttle's counters in Redis (e.g. "redis://127.0.0.1:6379/0") rather than in
    # the database, under keys starting with the prefix. Unset: the database.
    THROTTLE_REDIS_URL: str | None = None
    THROTTLE_REDIS_PREFIX = "safehold:throttle:"
    # A browser that has signed in keeps its device cookie this many days; a known device not
    # seen for as long is forgotten by housekeeping.
    DEVICE_COOKIE_DAYS = 365
    # Four eyes: giving a role that opens personal data waits for a second admin; a request
    # nobody decides within this many days expires (the hourly expire_approvals job).
    APPROVAL_DAYS = 7
    # Reveals: a user may open the personal details of at most this many different cases in
    # any hour (opening one again is free); beyond it a reveal is refused (429, "try again in
    # N minutes") and every admin is told at once, once an hour per user.
    REVEAL_RATE_LIMIT = 30
    # The access log highlights, besides reveals at that limit and fitters' reveals outside a
    # job, reveals outside working hours (local time in SCHEDULER_TIMEZONE, "HH:MM" from and
    # until) and bursts: this many different cases within this many minutes.
    WORKING_HOURS = ("07:00", "20:00")
    REVEAL_BURST_CASES = 10
    REVEAL_BURST_MINUTES = 10
    PER_PAGE_DEFAULT = 50
    PER_PAGE_MAX = 200
    # Reconciliation: one statement file at most this big; proposals look this many days
    # either side of a line's date; lines and entries unmatched this long are exceptions.
    STATEMENT_MAX_BYTES = 2 * 1024 * 1024
    MATCH_DATE_WINDOW_DAYS = 5
    RECONCILIATION_EXCEPTION_DAYS = 30
    # The exports for the accounts (docs/deployment.md explains each code). Xero, default UK
    # chart: spend to 325 Direct Expenses against 855 Clearing Account (Xero refuses manual
    # journals to bank and system accounts), tax rates by their names in Xero, a tracking
    # category (blank name: none), and at most this many lines per file (Xero's import limit).
    XERO_EXPENSE_ACCOUNT = "325"
    XERO_CONTRA_ACCOUNT = "855"
    XERO_NO_VAT_TAX_RATE = "No VAT"
    XERO_VAT_TAX_RATE = "20% (VAT on Expenses)"
    XERO_TRACKING_NAME = "Funding"
    XERO_TRACKING_OPTION = "Ringfenced safety equipment"
    XERO_MAX_LINES_PER_FILE = 300
    # Sage 50, default chart: bank payments and receipts through 1200 Bank Current Account,
    # credit-card ones through 1240 Company Credit Card, spend to nominal 5000; tax codes T1
    # (standard rate, reclaimed) and T9 (outside the scope of VAT).
    SAGE_BANK_ACCOUNT = "1200"
    SAGE_CARD_ACCOUNT = "1240"
    SAGE_EXPENSE_NOMINAL = "5000"
    SAGE_DEPARTMENT = "0"
    SAGE_VAT_TAX_CODE = "T1"
    SAGE_NO_VAT_TAX_CODE = "T9"
    # Keys that can still open personal data sealed before a rotation, comma-separated, from
    # SAFEHOLD_OLD_DATA_KEYS; keep them until `rotate-data-key` has run.
    DATA_ENCRYPTION_OLD_KEYS = os.environ.get("SAFEHOLD_OLD_DATA_KEYS", "")
    # The queue's priority score (DESIGN.md "Priority"): points for the case's risk level,
    # for each need flag and for each day waiting. Risk dominates: all flags together stay
    # below the gap between two risk levels. After changing these run `recompute-priorities`.
    PRIORITY_WEIGHTS = {
        "risk_high": 1000,
        "risk_medium": 500,
        "risk_standard": 0,
        "flag_address_known": 100,
        "flag_recent_escalation": 100,
        "flag_repeat_victimisation": 60,
        "flag_children": 60,
        "flag_vulnerability": 60,
        "flag_lives_alone": 40,
        "flag_police_request": 60,
        "per_day_waiting": 10,
    }
    # Target times by risk level: decided within N days (working days where marked),
    # installed within M days of the request.
    REQUEST_TARGETS = {
        "high": {"decide_within": 1, "working_days": True, "install_within": 3},
        "medium": {"decide_within": 7, "working_days": False, "install_within": 7},
        "standard": {"decide_within": 14, "working_days": False, "install_within": 14},
    }
    # Low stock: a suggested purchase order brings a low type back to this many times its
    # reorder level (2: a type with reorder level 3 is topped up to 6, counting units on order).
    REORDER_TARGET_FACTOR = 2
    # Units reserved to a request for longer than this many days with no visit booked to hand
    # them over are reported to coordinators (the stale reservations job).
    RESERVATION_STALE_DAYS = 14
    # Labels encode only the item's code. Set a base URL (e.g. "https://safehold.example.org/s/")
    # to make labels of office-store stock encode base + code instead; van and issued stock never do.
    # A scanned web address is read as a code only under this base (None: no address ever is).
    LABEL_QR_URL_BASE: str | None = None
    # Three-way invoice check: a unit price may differ from the order by this much (basis
    # points, 200 = 2%) before finance must approve the invoice with a reason.
    INVOICE_PRICE_TOLERANCE_BP = 200
    # Budget: the contract's end (ISO date, e.g. "2028-03-31"; no commitments dated after it),
    # and whether the service reclaims VAT (then the budget is charged net, else gross).
    CONTRACT_END_DATE = os.environ.get("SAFEHOLD_CONTRACT_END_DATE") or None
    VAT_RECLAIMED = False
    # The key (at least 32 characters, from SAFEHOLD_LEDGER_CHECKPOINT_KEY) that signs and checks
    # ledger checkpoints (`ledger-checkpoint`, `verify-ledger --checkpoint`). Never stored in the
    # database; set it only where those commands run, not for the web workers. Unset: they refuse.
    LEDGER_CHECKPOINT_KEY: str | None = None
    # A folder where the nightly ledger check keeps signed checkpoints (with the key above):
    # it checks the ledger against the latest there and adds one when the ledger has moved
    # on. Best on storage the database's owners cannot change. Unset: no checkpoints.
    LEDGER_CHECKPOINT_DIR: str | None = None
    # The nightly ledger check walks only the entries added since its last pass, and the whole
    # hash chain once the last full walk is this many days old (`verify-ledger --full` any time).
    LEDGER_FULL_CHECK_DAYS = 7
    # Housekeeping: an Idempotency-Key is remembered at least this many hours (then its
    # record is deleted and the key means nothing); a revoked or expired API token stays listed
    # on its owner's tokens page this many days before it is deleted. Ended sign-in sessions
    # go at once.
    IDEMPOTENCY_KEY_HOURS = 24
    REVOKED_TOKEN_KEEP_DAYS = 90
    # A new API token works this many days; whoever makes it may choose fewer, never more.
    API_TOKEN_DAYS = 90
    # How many reverse proxies (nginx, a load balancer) stand in front of SafeHold and set
    # X-Forwarded-For, -Proto and -Host. 0: none, and those headers are ignored (anyone can send
    # them); with the right number, logged addresses are the client's rather than the proxy's.
    TRUSTED_PROXIES = 0
    # Backups (`flask backup`, the nightly job): the folder (default: backups/ in the instance
    # folder) and how many of the newest to keep. They hold personal data (still encrypted).
    BACKUP_DIR: str | None = None
    BACKUP_KEEP = 14
    # Jobs: how long a loaned item stays out, and how many months after handover each issued
    # item has its first and second review (the sector's 3 and 6 months).
    LOAN_PERIOD_DAYS = 365
    REVIEW_AFTER_MONTHS = (3, 6)
    # The arrival window ("HH:MM" from and until, local time in SCHEDULER_TIMEZONE) a booking
    # gets unless it says otherwise; the booking forms start with it filled in.
    JOB_WINDOW_DEFAULT = ("09:00", "12:00")
    # The "Loans due back" list shows, by default, loans overdue or due within this many days
    # (and the scheduled reminder tells caseworkers and coordinators about the same loans).
    LOANS_DUE_WITHIN_DAYS = 14
    # Review reminders: a case's caseworker is told of a 3- or 6-month review this many days
    # before it is due, and after its date for this many days while it is not recorded.
    REVIEWS_DUE_WITHIN_DAYS = 7
    REVIEWS_OVERDUE_FOR_DAYS = 28
    # Budget forecast: from this many days before the contract's end, finance and coordinators
    # are warned when, at the last 90 days' rate, the money available would not be spent by then.
    UNDERSPEND_WARNING_DAYS = 120
    # Reports: a count of people or things below this (1 to 4 by default) is shown as "fewer
    # than 5", and figures that would reveal it are withheld, so no survivor can be singled out
    # (docs/domain.md, "The funder's return"). At least 1; 1 shows every count.
    REPORT_SUPPRESSION_THRESHOLD = 5

    # The address people open SafeHold at (e.g. "https://safehold.example.org"), for links in
    # emails; unset, an email names the notifications page without a link.
    BASE_URL: str | None = None
    # Optional email about new notifications (at most one per person per job run, only the
    # notices' messages, never personal data): off unless MAIL_SMTP_HOST is set. MAIL_USE_TLS
    # upgrades the connection with STARTTLS; the login comes from SAFEHOLD_MAIL_SMTP_USER and
    # SAFEHOLD_MAIL_SMTP_PASSWORD (none: no login).
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 587
    MAIL_USE_TLS = True
    MAIL_FROM = "SafeHold <safehold@localhost>"
    MAIL_SMTP_USER: str | None = None
    MAIL_SMTP_PASSWORD: str | None = None

    # Scheduled work (inventory/scheduling). Schedules are read in this time zone. A trigger
    # missed by more than the grace (the scheduler was down) is not run late; missed runs
    # collapse into one. A run holds its job's lease this long at most (set it above the
    # longest job): after that, a run whose holder died is taken over. /healthz calls the
    # scheduler unhealthy when none has reported for this many minutes (it reports every
    # minute). Run history is kept this many days.
    SCHEDULER_TIMEZONE = "Europe/London"
    SCHEDULER_MISFIRE_GRACE_SECONDS = 10 * 60
    JOB_LEASE_SECONDS = 60 * 60
    SCHEDULER_HEARTBEAT_MAX_MINUTES = 5
    JOB_RUN_RETENTION_DAYS = 90
    # Retention of survivors' personal data (the `retention` job, daily): a referral never
    # taken up is anonymised this many days after its case was opened; a closed case this
    # many years after its last contact (closing, visit, review or item event).
    RETENTION_REFERRAL_DAYS = 42
    RETENTION_CLOSED_YEARS = 6
    # The development server runs the scheduler inside itself (`make run` sets
    # SAFEHOLD_SCHEDULER_IN_PROCESS=true). Never in production: run `flask scheduler` there.
    SCHEDULER_IN_PROCESS = False

    @classmethod
    def prepare(cls, app_config: dict, instance_path: str) -> None:
        """Fill in settings that depend on the environment or the instance folder."""


def _database_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgres://"):  # the scheme some hosts hand out
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _load_or_create_local_secrets(instance_path: str) -> dict:
    """Secrets for a development checkout, generated once and kept under instance/."""
    path = Path(instance_path) / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    # The demo's users sign in with their password alone, so a newcomer can click around;
    # each can still set up two-factor from their account page.
    TWO_FACTOR_REQUIRED_ROLES: list[str] = []

    @classmethod
    def prepare(cls, app_config: dict, instance_path: str) -> None:
        local = _load_or_create_local_secrets(instance_path)
        defaults = {
            "SECRET_KEY": os.environ.get("SECRET_KEY") or local["SECRET_KEY"],
            "DATA_ENCRYPTION_KEY": os.environ.get("SAFEHOLD_DATA_KEY") or local["DATA_ENCRYPTION_KEY"],
            "SQLALCHEMY_DATABASE_URI": _database_url_from_env()
            or "sqlite:///" + str(Path(instance_path) / "safehold.sqlite3"),
        }
        for name, value in defaults.items():
            if not app_config.get(name):  # Flask starts SECRET_KEY as None
                app_config[name] = value


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    WTF_CSRF_ENABLED = False  # tests that exercise CSRF switch it back on
    SECRET_KEY = "test-secret-key-not-for-use"
    DATA_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"t" * 32).decode()
    # Cheap hashes keep the suite fast; a test checks the real settings meet OWASP's minimum.
    PASSWORD_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    # Tests sign in with the password alone; the two-factor tests require it themselves.
    TWO_FACTOR_REQUIRED_ROLES: list[str] = []


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix makes browsers keep the cookie only if it is Secure, for the whole
    # site (Path=/) and for this host alone (no Domain), so no sibling subdomain can set it.
    SESSION_COOKIE_NAME = "__Host-safehold_session"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    ALLOW_DEMO_DATA = False
    REQUIRED = {
        "DATABASE_URL": "the database, e.g. postgresql://safehold@db/safehold",
        "SECRET_KEY": "a long random string that signs sessions",
        "SAFEHOLD_DATA_KEY": "the personal-data encryption key (32 random bytes, url-safe base64)",
    }

    @classmethod
    def prepare(cls, app_config: dict, instance_path: str) -> None:
        missing = [f"{name} ({why})" for name, why in cls.REQUIRED.items() if not os.environ.get(name)]
        if missing:
            raise ConfigurationError(
                "SafeHold will not start in production without these environment variables: "
                + "; ".join(missing)
            )
        if app_config.get("SCHEDULER_IN_PROCESS"):
            raise ConfigurationError(
                "SCHEDULER_IN_PROCESS is for the development server: in production the web workers never "
                "run jobs; run one `flask --app inventory scheduler` as its own process")
        app_config["SQLALCHEMY_DATABASE_URI"] = _database_url_from_env()
        app_config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        app_config["DATA_ENCRYPTION_KEY"] = os.environ["SAFEHOLD_DATA_KEY"]
        try:
            if len(base64.urlsafe_b64decode(app_config["DATA_ENCRYPTION_KEY"])) != 32:
                raise ValueError
        except ValueError:
            raise ConfigurationError(
                "SAFEHOLD_DATA_KEY must be 32 random bytes in url-safe base64 "
                "(python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
            ) from None
        refuse_weak_secrets(app_config)


# Secrets are refused in production when shorter than this, when made of fewer different
# characters (bytes, for the data key) than this, or when they appear in the project's files
# (the test configuration's keys, examples in the documentation): none of these is secret.
MIN_SECRET_LENGTH = 32
MIN_SECRET_VARIETY = 16
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCANNED_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".html", ".sh",
                    ".example", ""}
SKIPPED_FOLDERS = {"instance", "node_modules", "__pycache__", "venv", "backups"}


def refuse_weak_secrets(app_config: dict, root: Path = PROJECT_ROOT) -> None:
    """Raise a ConfigurationError naming each secret that is too short, too uniform or
    written somewhere in the project's files."""
    secrets_set = {
        "SECRET_KEY": app_config.get("SECRET_KEY"),
        "SAFEHOLD_DATA_KEY": app_config.get("DATA_ENCRYPTION_KEY"),
        "SAFEHOLD_LEDGER_CHECKPOINT_KEY": app_config.get("LEDGER_CHECKPOINT_KEY"),
    }
    secrets_set = {name: str(value) for name, value in secrets_set.items() if value}
    problems = []
    for name, value in secrets_set.items():
        material = base64.urlsafe_b64decode(value) if name == "SAFEHOLD_DATA_KEY" else value
        if len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        elif len(set(material)) < MIN_SECRET_VARIETY:
            problems.append(f"{name} is not random enough (too few different characters)")
    found = _found_in_project(
        {name: value for name, value in secrets_set.items() if len(value) >= MIN_SECRET_LENGTH}, root)
    problems += [f"{name} is written in the project's file {path} (an example or test key)"
                 for name, path in found.items()]
    if problems:
        raise ConfigurationError(
            "SafeHold will not start in production with weak secrets: " + "; ".join(problems)
            + ". Make new ones, e.g. python -c 'import secrets;print(secrets.token_urlsafe(48))' (for the data key: "
            "python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')")


def _found_in_project(values: dict[str, str], root: Path) -> dict[str, str]:
    """{name: the first project file (relative path) whose text contains that value}. Hidden
    files and folders (.git, .env) and the instance folder, where real secrets may live, are
    not read."""
    found: dict[str, str] = {}
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS)
        for file_name in sorted(files):
            path = Path(folder) / file_name
            if file_name.startswith(".") or path.suffix not in SCANNED_SUFFIXES:
                continue
            try:
                text = path.read_text(errors="ignore")
            except OSError:
                continue
            for name, value in values.items():
                if name not in found and value in text:
                    found[name] = str(path.relative_to(root))
    return found


config_by_name = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
