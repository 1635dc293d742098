"""Who may do what: the one place that answers it, for pages and API alike.

A role grants permissions; record-level rules (your organisation's cases, your own jobs)
are predicates here too, so every view asks the same question the same way.
"""
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import false, true

from inventory.enums import LabelledEnum


class Role(LabelledEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CASEWORKER = "caseworker"
    FITTER = "fitter"
    FINANCE = "finance"
    AUDITOR = "auditor"


# Roles that only staff of the lead provider hold (DESIGN.md: coordinators, fitters and
# finance belong to the lead). Caseworkers may be at the lead or a partner agency.
LEAD_ONLY_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.FITTER, Role.FINANCE})


class Permission(StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    MANAGE_SCHEDULED_JOBS = "manage_scheduled_jobs"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_ACCESS_LOG = "view_access_log"
    LIST_STAFF = "list_staff"
    VIEW_BUDGET_SUMMARY = "view_budget_summary"
    VIEW_LEDGER = "view_ledger"  # read the entries (case references only); writing is MANAGE_LEDGER
    MANAGE_LEDGER = "manage_ledger"
    MANAGE_BUDGET_CATEGORIES = "manage_budget_categories"
    RECONCILE = "reconcile"
    REOPEN_MONTH = "reopen_month"
    VIEW_AGGREGATE_REPORTS = "view_aggregate_reports"
    # Catalogue, stock and procurement
    MANAGE_CATALOGUE = "manage_catalogue"
    VIEW_STOCK = "view_stock"
    MANAGE_STOCK = "manage_stock"
    MANAGE_PURCHASE_ORDERS = "manage_purchase_orders"
    RECEIVE_GOODS = "receive_goods"
    POST_INVOICES = "post_invoices"
    PRINT_LABELS = "print_labels"
    CONFIRM_WIPE = "confirm_wipe"
    # Cases, requests and the queue (which cases: see the record-level predicates)
    VIEW_CASES = "view_cases"
    MANAGE_CASES = "manage_cases"
    RAISE_REQUESTS = "raise_requests"
    DECIDE_REQUESTS = "decide_requests"
    RECORD_REVIEWS = "record_reviews"  # outcomes at 3 and 6 months (which cases: can_record_review)
    ANONYMISE_CASES = "anonymise_cases"  # erase a case's personal data now, with a reason
    SCHEDULE_JOBS = "schedule_jobs"
    # Jobs and scanning
    SCAN_ITEMS = "scan_items"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({
        Permission.MANAGE_USERS,
        Permission.MANAGE_ORGANISATIONS,
        Permission.MANAGE_SCHEDULED_JOBS,
        Permission.VIEW_AUDIT_LOG,
        Permission.VIEW_ACCESS_LOG,
        Permission.LIST_STAFF,
        Permission.REOPEN_MONTH,
        Permission.MANAGE_CATALOGUE,
        Permission.MANAGE_BUDGET_CATEGORIES,  # item types are charged to them
        Permission.VIEW_STOCK,
        Permission.PRINT_LABELS,
    }),
    Role.COORDINATOR: frozenset({
        Permission.LIST_STAFF,
        Permission.VIEW_BUDGET_SUMMARY,
        Permission.VIEW_STOCK,
        Permission.MANAGE_STOCK,
        Permission.MANAGE_PURCHASE_ORDERS,
        Permission.RECEIVE_GOODS,
        Permission.PRINT_LABELS,
        Permission.CONFIRM_WIPE,
        Permission.VIEW_CASES,
        Permission.DECIDE_REQUESTS,
        Permission.RECORD_REVIEWS,
        Permission.ANONYMISE_CASES,
        Permission.SCHEDULE_JOBS,
        Permission.SCAN_ITEMS,
        Permission.VIEW_AGGREGATE_REPORTS,  # the service's manager answers to the commissioner
    }),
    Role.CASEWORKER: frozenset({
        Permission.VIEW_CASES,
        Permission.MANAGE_CASES,
        Permission.RAISE_REQUESTS,
        Permission.RECORD_REVIEWS,
    }),
    Role.FITTER: frozenset({
        Permission.SCAN_ITEMS,
    }),
    Role.FINANCE: frozenset({
        Permission.VIEW_BUDGET_SUMMARY,
        Permission.VIEW_LEDGER,
        Permission.MANAGE_LEDGER,
        Permission.MANAGE_BUDGET_CATEGORIES,
        Permission.RECONCILE,
        Permission.VIEW_AGGREGATE_REPORTS,
        Permission.VIEW_STOCK,
        Permission.MANAGE_PURCHASE_ORDERS,
        Permission.POST_INVOICES,
        Permission.VIEW_CASES,
    }),
    Role.AUDITOR: frozenset({
        Permission.VIEW_BUDGET_SUMMARY,
        Permission.VIEW_LEDGER,  # the ledger with case references, never a case itself
        Permission.VIEW_AGGREGATE_REPORTS,
    }),
}


def _signed_in(user) -> bool:
    """A real user, signed in and not deactivated."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def permissions_of(user) -> frozenset[Permission]:
    if not _signed_in(user):
        return frozenset()
    granted: set[Permission] = set()
    for role in user.role_set:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def has_permission(user, permission: Permission) -> bool:
    return permission in permissions_of(user)


def has_role(user, *roles: Role) -> bool:
    if not _signed_in(user):
        return False
    return bool(user.role_set & set(roles))


# Record-level rules for cases ---------------------------------------------------------
#
# Caseworkers see their own organisation's cases; coordinators see every case; finance
# sees case references (for money and spend per survivor) but never names or addresses;
# auditors and admins see no cases. Fitters will see a case through their own jobs only.


class CaseAccess(StrEnum):
    NONE = "none"
    REFERENCE = "reference"  # the reference and money, no personal data
    PERSONAL = "personal"  # name, address, phone and notes too (each view is logged)


def case_access(user, case_organisation_id: int) -> CaseAccess:
    """How much of a case (belonging to that organisation) this user may see."""
    return _case_access(user, own_organisation=getattr(user, "organisation_id", None) == case_organisation_id)


def _case_access(user, *, own_organisation: bool) -> CaseAccess:
    # A case's organisation matters only as the user's own or another, so the SQL filters
    # below can ask this same rule both ways.
    if has_role(user, Role.COORDINATOR):
        return CaseAccess.PERSONAL
    if own_organisation and has_role(user, Role.CASEWORKER):
        return CaseAccess.PERSONAL
    if has_role(user, Role.FINANCE):
        return CaseAccess.REFERENCE
    return CaseAccess.NONE


def can_view_case(user, case) -> bool:
    """May this user see this case at all (its reference at least)? Agrees with
    `visible_cases_clause`, which is the same rule as a SQL filter."""
    return case_access(user, case.organisation_id) is not CaseAccess.NONE


def can_see_personal_details(user, case) -> bool:
    """Name, address, phone and notes (each view of them is logged)."""
    return case_access(user, case.organisation_id) is CaseAccess.PERSONAL


def visible_cases_clause(user, organisation_id_column):
    """The SQL condition selecting the cases `user` may see at all (any CaseAccess but NONE)."""
    return _cases_clause(user, organisation_id_column, {CaseAccess.REFERENCE, CaseAccess.PERSONAL})


def personal_cases_clause(user, organisation_id_column):
    """The SQL twin of `can_see_personal_details`: the cases whose details (and requests)
    `user` may see."""
    return _cases_clause(user, organisation_id_column, {CaseAccess.PERSONAL})


def _cases_clause(user, organisation_id_column, wanted: set[CaseAccess]):
    """`case_access` as a SQL condition: the cases to which `user`'s access is one of `wanted`."""
    if _case_access(user, own_organisation=False) in wanted:
        return true()
    if _case_access(user, own_organisation=True) in wanted:
        return organisation_id_column == user.organisation_id
    return false()


def can_manage_case(user, case) -> bool:
    """Change or close a case: a caseworker of the case's own organisation. (Coordinators see
    every case but manage none; a coordinator who is also a caseworker manages only their
    own organisation's.)"""
    return has_permission(user, Permission.MANAGE_CASES) and user.organisation_id == case.organisation_id


def can_record_review(user, case) -> bool:
    """Record a case's 3-month, 6-month or closing review: whoever holds RECORD_REVIEWS and sees
    the case's details (a caseworker of its organisation, a coordinator)."""
    return has_permission(user, Permission.RECORD_REVIEWS) and can_see_personal_details(user, case)


def can_anonymise_case(user, case) -> bool:
    """Erase a case's personal data before its retention period ends: a coordinator (who sees
    every case). Not its caseworker alone, nor an admin: it cannot be undone."""
    return has_permission(user, Permission.ANONYMISE_CASES) and can_see_personal_details(user, case)


def can_export_subject_access(user, case) -> bool:
    """Produce everything held about the case's survivor (a subject-access request): whoever
    sees its personal details, a coordinator or a caseworker of its organisation."""
    return can_see_personal_details(user, case) and not case.is_anonymised


def can_raise_request_for(user, case_organisation_id: int) -> bool:
    """Caseworkers raise requests (and create cases) for their own organisation only."""
    return has_permission(user, Permission.RAISE_REQUESTS) and user.organisation_id == case_organisation_id


def can_see_item_case(user) -> bool:
    """Which case holds an item is about a survivor: only those who decide requests (and so
    work with cases) see it; a fitter scanning a label sees the item type and state only."""
    return has_permission(user, Permission.DECIDE_REQUESTS)


def can_resolve_any_code(user) -> bool:
    """Stock staff (whoever may view stock) resolve any item's code. A fitter resolves only
    the codes of items on their own open jobs (stock.operations.resolve_code asks the jobs)."""
    return has_permission(user, Permission.VIEW_STOCK)


# Record-level rules for jobs ----------------------------------------------------------
#
# Coordinators see every job; a fitter sees only the jobs assigned to them (another
# fitter's job, its address and its scans are "not found"). The survivor's address and
# phone are shown only to the assigned fitter, only while the job is open.


def can_see_job(user, job) -> bool:
    if has_permission(user, Permission.SCHEDULE_JOBS):
        return True
    return has_permission(user, Permission.SCAN_ITEMS) and job.fitter_id == user.id


def visible_jobs_clause(user, fitter_id_column):
    """The SQL condition selecting the jobs `user` may see."""
    if has_permission(user, Permission.SCHEDULE_JOBS):
        return true()
    if has_permission(user, Permission.SCAN_ITEMS):
        return fitter_id_column == user.id
    return false()


def can_work_on_job(user, job) -> bool:
    """Scan items on it, tick the handover checklist, close it: its fitter, or a coordinator."""
    return job.is_open and has_permission(user, Permission.SCAN_ITEMS) and (
        job.fitter_id == user.id or has_permission(user, Permission.SCHEDULE_JOBS))


def can_reveal_contact(user, job) -> bool:
    """The survivor's address and phone: the assigned fitter, while the job is open."""
    return job.is_open and has_permission(user, Permission.SCAN_ITEMS) and job.fitter_id == user.id


# Route declarations ----------------------------------------------------------------------
#
# Every route declares who may call it, with exactly one of the decorators below; a test
# walks the app's URL map and fails on a route without one, and the role x route matrix is
# generated from these declarations. Record-level rules (which case, which job) are then
# checked inside, with the predicates above.


@dataclass(frozen=True)
class RouteAccess:
    """Who may call a route: anyone (`public`), any signed-in user (no permissions named),
    or those holding any one of `permissions`."""

    permissions: frozenset[Permission] = frozenset()
    public: bool = False

    def allows(self, user) -> bool:
        if self.public:
            return True
        if not _signed_in(user):
            return False
        return not self.permissions or bool(self.permissions & permissions_of(user))


PUBLIC = RouteAccess(public=True)
SIGNED_IN = RouteAccess()


def declared_access(view) -> RouteAccess | None:
    return getattr(view, "route_access", None)


def _declare(view, access: RouteAccess):
    view.route_access = access
    return view


def permission_required(*permissions: Permission):
    """View decorator: login required, then one of the permissions, else 403.

    Works for pages (login redirect) and the API (JSON 401/403 via its error handlers).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not access.allows(current_user):
                abort(403)
            return view(*args, **kwargs)

        return _declare(wrapped, access)

    access = RouteAccess(permissions=frozenset(permissions))

    return decorator


def login_required(view):
    """Any signed-in, active user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    return _declare(wrapped, SIGNED_IN)


def public(view):
    """Anyone, signed in or not (the sign-in page, the health check, the API document)."""
    return _declare(view, PUBLIC)
