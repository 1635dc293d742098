"""Every route x method x role, as the routes declare it (inventory.permissions).

The expectations are generated from each view's `route_access`, not written by hand, so a
new route is covered the day it is added: one world holds a record of every kind a URL
names, each role (and a stranger) calls every route, and the answer must match the
declaration. Record-level rules come on top: a partner agency's caseworker cannot find the
lead provider's cases, nor one fitter another fitter's job.

Calls the declaration allows are undone afterwards (their commits become flushes, rolled
back with the request's session), so that no call depends on what an earlier one did to
the world. Calls it refuses run for real, and must leave every table as it was.
"""
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory import clock
from inventory.accounts.approvals import request_approval
from inventory.accounts.models import ApiToken
from inventory.budget.models import BudgetCategory, OverspendAlert
from inventory.catalogue.operations import set_product_code
from inventory.extensions import db
from inventory.jobs.models import JobItem
from inventory.notices import JobOutcome, Notice
from inventory.notifications.delivery import deliver
from inventory.notifications.models import Notification
from inventory.permissions import SIGNED_IN, RouteAccess, declared_access
from inventory.procurement.invoices import InvoiceLine, record_invoice
from inventory.reconciliation.exports import ExportSettings, export_batch
from inventory.reconciliation.models import ExportFormat, StatementLine
from inventory.reconciliation.operations import Pair, create_match, keep_upload
from inventory.stock.labels import FORMATS
from inventory.stock.models import Item
from inventory.stock.stocktakes import start_stocktake
from inventory.unit_of_work import WRITE_METHODS
from tests.conftest import (
    ENGINE, POSTGRES_URL, IsolatedClient, _empty_postgres, make_app, today_from_the_environment,
)
from tests.support import Builders

# Who calls: a user per role, the caseworkers and fitters twice (to prove they cannot reach
# each other's records). Name -> (role, organisation).
PRINCIPALS = {
    "admin": ("admin", "lead"),
    "coordinator": ("coordinator", "lead"),
    "lead caseworker": ("caseworker", "lead"),
    "partner caseworker": ("caseworker", "partner"),
    "fitter A": ("fitter", "lead"),
    "fitter B": ("fitter", "lead"),
    "finance": ("finance", "lead"),
    "auditor": ("auditor", "lead"),
}
STRANGER = "stranger"
SESSION_COOKIE = "safehold_session"

# Where the declaration lets a role in and the view then refuses with 403: the record is
# visible to them but the action on it is not theirs, or the route is declared for its GET
# and its POST needs more. Pinned both ways: the role gets exactly 403 there, and nowhere
# else may an admitted role get one. (endpoint, method, principal) -> why
REFUSED_BY_THE_VIEW: dict[tuple[str, str, str], str] = {
    ("jobs.contact", "POST", "coordinator"): "can_reveal_contact: the assigned fitter only",
    ("requests.act", "POST", "coordinator"): "withdrawing is the case's caseworker's action",
    ("stock.locations", "POST", "admin"): "adding a location needs manage_stock",
    ("stock.locations", "POST", "finance"): "adding a location needs manage_stock",
}


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    url: str
    access: RouteAccess

    @property
    def is_api(self) -> bool:
        return self.url.startswith("/api/")

    def __str__(self):
        return f"{self.method} {self.url}"


@dataclass
class Principal:
    name: str
    user: object = None
    token: str | None = None
    client: IsolatedClient | None = None
    session_cookie: str | None = None

    def send(self, call: Call):
        headers = {}
        if call.is_api and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"json": {}} if call.is_api else {"data": {}}
        try:
            return self.client.open(call.url, method=call.method, headers=headers,
                                    **(body if call.method in WRITE_METHODS else {}))
        finally:
            # Whatever the call did to the browser session (signed out, queued a flash), the
            # next call starts from the signed-in session again.
            if self.session_cookie is not None:
                self.client.set_cookie(SESSION_COOKIE, self.session_cookie)


@dataclass
class World:
    app: Flask
    principals: dict[str, Principal]
    arguments: dict[str, object]
    partner_case_id: int
    partner_request_id: int

    def calls(self, *, naming: str | None = None, naming_any: frozenset[str] = frozenset(),
              **arguments) -> list[Call]:
        """Every route and method (bar Flask's static files, HEAD and OPTIONS), or those
        whose URL names the argument `naming` (or any of `naming_any`); URLs filled from the
        world unless `arguments` say otherwise."""
        adapter = self.app.url_map.bind("localhost")
        values = {**self.arguments, **arguments}
        calls = []
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint == "static" or (naming is not None and naming not in rule.arguments):
                continue
            if naming_any and not naming_any & rule.arguments:
                continue
            url = adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments})
            access = declared_access(self.app.view_functions[rule.endpoint])
            calls += [Call(rule.endpoint, method, url, access) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
        return calls

    @staticmethod
    def row_counts() -> dict[str, int]:
        """Rows in every table, in one query."""
        return dict(db.session.execute(select(*[
            select(func.count()).select_from(table).scalar_subquery().label(table.name)
            for table in db.metadata.sorted_tables])).mappings().one())


def _build_world(app: Flask) -> World:
    build = Builders()
    lead, partner = build.lead(), build.organisation(name="Partner Agency")
    users = {name: build.user(roles=[role], organisation=lead if org == "lead" else partner, name=name.title())
             for name, (role, org) in PRINCIPALS.items()}
    coordinator, finance = users["coordinator"], users["finance"]

    period = build.budget_period(allocated_pence=500_000, around_today=True, actor=finance)
    item_type = build.item_type(name="Personal alarm")
    supplier = build.supplier(name="Alarms Ltd")
    product_code = set_product_code(item_type, supplier, "PA-1")
    location = build.location(name="Office store")
    lead_case = build.case(caseworker=users["lead caseworker"])
    partner_case = build.case(caseworker=users["partner caseworker"])
    partner_request = build.equipment_request(case=partner_case, caseworker=users["partner caseworker"],
                                              lines=[(item_type, 1)])
    _, (issued_unit,) = build.handed_over(case=lead_case, fitter=users["fitter A"], lines=[(item_type, 1)])
    approved = build.approved_request(case=lead_case, lines=[(item_type, 2)], coordinator=coordinator)
    job = build.job(fitter=users["fitter A"], request=approved, coordinator=coordinator)
    order = build.purchase_order(supplier=supplier, lines=[(item_type, 2, 1000, 200)], actor=coordinator)
    build.receipt(order, location=location, actor=coordinator)
    invoice = record_invoice(order, number="INV-1", invoice_date=clock.today(), actor=finance,
                             lines=[InvoiceLine(order.lines[0].id, 2, 1000, 200)])
    stocktake = start_stocktake(location, actor=coordinator)
    spare_user = build.user(roles=["caseworker"], name="Spare User")
    build.token(spare_user)
    approval = request_approval("grant_role", spare_user, actor=users["admin"], role="fitter")
    entry = build.direct_purchase(gross_pence=4500, receipt="R-1", actor=finance)
    statement = build.statement([(clock.today(), "Locksmith Direct", "-45.00", "R-1")], actor=finance)
    line = db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id))
    match = create_match(pairs=[Pair(line.id, entry.id)], actor=finance)
    batch = export_batch(ExportFormat.XERO, actor=finance, settings=ExportSettings.from_config(app.config))
    notice = Notice("low_stock", f"item_type:{item_type.id}", "An item type is low on stock.", "/stock/",
                    roles=("coordinator",))
    deliver("low_stock", JobOutcome(notices=[notice]), kinds=["low_stock"], now=clock.now())
    upload = keep_upload(data=b"Date,Description,Amount\n01/01/2026,x,-1.00\n", filename="s.csv", account="Bank",
                         actor=finance, max_bytes=1024)
    db.session.commit()

    principals = {name: _signed_in(app, name, user, build) for name, user in users.items()}
    principals[STRANGER] = Principal(STRANGER, client=app.test_client())
    fitter_a = principals["fitter A"]
    unit = db.session.scalar(select(Item).where(Item.reserved_for_request_id == approved.id).order_by(Item.id))
    scanned = fitter_a.client.post("/api/v1/scans", json={"action": "issue", "code": unit.code, "job_id": job.id},
                                   headers={"Authorization": f"Bearer {fitter_a.token}"})
    assert scanned.status_code == 200, scanned.get_data(as_text=True)
    job_item = db.session.scalar(select(JobItem).where(JobItem.job_id == job.id))
    # Last, as an open overspend refuses new commitments.
    overspend = build.direct_purchase(gross_pence=1_000_000, receipt="R-2", actor=finance)
    alert = db.session.scalar(select(OverspendAlert).where(OverspendAlert.entry_id == overspend.id))

    arguments = {
        "action": "withdraw",
        "alert_id": alert.id,
        "approval_id": approval.id,
        "batch_id": batch.id,
        "case_id": lead_case.id,
        "category_id": db.session.scalar(select(BudgetCategory.id).where(BudgetCategory.name == "Bank charges")),
        "code": issued_unit.code,
        "code_id": product_code.id,
        "decision": "approve",
        "entry_id": entry.id,
        "invoice_id": invoice.id,
        "item_id": issued_unit.id,
        "item_type_id": item_type.id,
        "job_id": job.id,
        "job_item_id": job_item.id,
        "job_name": "prune_job_runs",
        "key": next(iter(FORMATS)),
        "line_id": line.id,
        "match_id": match.id,
        "month": f"{clock.today():%Y-%m}",
        "notification_id": db.session.scalar(select(Notification.id).where(Notification.user_id == coordinator.id)),
        "number": 1,
        "order_id": order.id,
        "organisation_id": partner.id,
        "period_id": period.id,
        "purchase_id": entry.source_id,
        "request_id": approved.id,
        "statement_id": statement.id,
        "supplier_id": supplier.id,
        "stocktake_id": stocktake.id,
        "token_id": db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == spare_user.id)),
        "upload_token": upload.token,
        "user_id": spare_user.id,
    }
    return World(app, principals, arguments, partner_case.id, partner_request.id)


def _signed_in(app: Flask, name: str, user, build: Builders) -> Principal:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": Builders.PASSWORD})
    assert response.status_code == 302, f"{name} could not sign in"
    return Principal(name, user, build.token(user), client, client.get_cookie(SESSION_COOKIE).value)


@pytest.fixture(scope="module")
def world(migrated_database, tmp_path_factory):
    """The world, built once for the module (calls leave it as they found it)."""
    if ENGINE == "postgresql":
        url = POSTGRES_URL
    else:
        path = tmp_path_factory.mktemp("access") / "world.sqlite3"
        shutil.copyfile(migrated_database, path)
        url = f"sqlite:///{path}"
    app = make_app(url)
    app.test_client_class = IsolatedClient
    with app.app_context(), today_from_the_environment():
        yield _build_world(app)
        db.session.remove()
        if ENGINE == "postgresql":
            _empty_postgres()
        db.engine.dispose()


@contextmanager
def undone():
    """Commits inside the block only flush: the request's session is closed at its end,
    rolling back whatever the call wrote."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "commit", Session.flush)
        yield


def test_the_world_fills_every_url_argument(world):
    """A new route naming a new kind of record needs one in the world, so it is covered too."""
    named = {name for rule in world.app.url_map.iter_rules() if rule.endpoint != "static" for name in rule.arguments}
    assert named <= world.arguments.keys(), f"add to the world: {sorted(named - world.arguments.keys())}"


@pytest.mark.parametrize("name", [*PRINCIPALS, STRANGER])
def test_every_route_answers_each_caller_as_it_declares(world, name):
    principal = world.principals[name]
    rows_before = world.row_counts()
    failures = []
    for call in world.calls():
        if call.access.allows(principal.user):
            with undone():
                problem = _judge(lambda: _admitted(call, principal))
        else:
            problem = _judge(lambda: _refused(world, call, principal))
        if problem:
            failures.append(f"{call}: {problem}")
    assert not failures, f"{name}, {len(failures)} wrong answers:\n" + "\n".join(failures)
    assert world.row_counts() == rows_before, "the calls changed the world the next test needs"


def test_administration_is_for_admins_alone(world):
    admitted = {call.url: {name for name, principal in world.principals.items() if call.access.allows(principal.user)}
                for call in world.calls() if call.url.startswith("/admin/")}
    assert admitted and all(names == {"admin"} for names in admitted.values()), admitted


@pytest.mark.parametrize("name", PRINCIPALS)
def test_the_navigation_links_only_to_pages_the_role_may_open(world, name):
    principal = world.principals[name]
    page = principal.send(Call("main.home", "GET", "/", SIGNED_IN)).get_data(as_text=True)
    links = re.findall(r'<li><a href="([^"]+)"', page.split('id="site-nav"', 1)[1].split("</ul>", 1)[0])
    adapter = world.app.url_map.bind("localhost")
    refused = [link for link in links
               if not declared_access(world.app.view_functions[adapter.match(link)[0]]).allows(principal.user)]
    assert links and refused == []
    assert ("/admin/users" in links) == (name == "admin")


def test_a_partner_caseworker_cannot_find_the_lead_providers_cases_or_their_requests(world):
    principal = world.principals["partner caseworker"]
    calls = world.calls(naming="case_id") + world.calls(naming="request_id")
    assert _not_found_everywhere(world, principal, calls) == []


def test_a_caseworker_cannot_find_a_partner_agencys_cases_or_their_requests(world):
    principal = world.principals["lead caseworker"]
    calls = (world.calls(naming="case_id", case_id=world.partner_case_id)
             + world.calls(naming="request_id", request_id=world.partner_request_id))
    assert _not_found_everywhere(world, principal, calls) == []


# URL arguments naming a record that belongs to one organisation (a survivor's case and
# what hangs off it), with the partner agency's own record in the world where it has one;
# every other argument names a record the service shares (stock, budget, staff...).
ORGANISATION_RECORDS = {"case_id": "partner_case_id", "request_id": "partner_request_id",
                        "job_id": None, "job_item_id": None}
SHARED_RECORDS = {"action", "alert_id", "approval_id", "decision", "batch_id", "category_id", "code", "code_id", "entry_id", "invoice_id",
                  "item_id", "item_type_id", "job_name", "key", "line_id", "match_id", "month", "notification_id",
                  "number", "order_id", "organisation_id", "period_id", "purchase_id", "statement_id",
                  "supplier_id", "stocktake_id", "token_id", "upload_token", "user_id"}


def test_every_url_argument_is_known_to_name_an_organisations_record_or_a_shared_one(world):
    """A new kind of record in a URL must be placed here, so the matrix below covers it."""
    named = {name for rule in world.app.url_map.iter_rules() if rule.endpoint != "static" for name in rule.arguments}
    assert named <= ORGANISATION_RECORDS.keys() | SHARED_RECORDS, sorted(named - ORGANISATION_RECORDS.keys()
                                                                          - SHARED_RECORDS)


@pytest.mark.parametrize("caller, owner", [("partner caseworker", "lead"), ("lead caseworker", "partner")])
def test_no_route_shows_a_caseworker_another_organisations_record(world, caller, owner):
    """Generated from the URL map: every route and method naming an organisation's record,
    called by a caseworker of the other organisation that the route's declaration admits,
    answers 404, as if the record were not there."""
    if owner == "lead":
        calls = world.calls(naming_any=frozenset(ORGANISATION_RECORDS))
    else:
        theirs = {name: getattr(world, attribute) for name, attribute in ORGANISATION_RECORDS.items() if attribute}
        lacking = frozenset(name for name, attribute in ORGANISATION_RECORDS.items() if not attribute)
        calls = [call for call in world.calls(naming_any=frozenset(theirs), **theirs)
                 if not lacking & _arguments_of(world, call)]
    assert _not_found_everywhere(world, world.principals[caller], calls) == []


def _arguments_of(world, call) -> set[str]:
    endpoint, values = world.app.url_map.bind("localhost").match(call.url, method=call.method)
    return set(values)


def test_a_fitter_cannot_find_another_fitters_job(world):
    assert _not_found_everywhere(world, world.principals["fitter B"], world.calls(naming="job_id")) == []


def _not_found_everywhere(world, principal, calls) -> list[str]:
    """Each call the role's declaration admits must answer 404, as if the record were not there."""
    admitted = [call for call in calls if call.access.allows(principal.user)]
    assert admitted, "no route names the record for this role: nothing was checked"
    answers = []
    for call in admitted:
        with undone():
            status = principal.send(call).status_code
        if status != 404:
            answers.append(f"{call}: {status}")
    return answers


def _judge(check) -> str | None:
    try:
        return check()
    except Exception as error:  # the test app raises what would be a 500
        return f"raised {error!r}"


def _admitted(call, principal) -> str | None:
    response = principal.send(call)
    status = response.status_code
    pinned = REFUSED_BY_THE_VIEW.get((call.endpoint, call.method, principal.name))
    if pinned:
        return None if status == 403 else f"{status}, expected 403 ({pinned})"
    if status >= 500 or status in (401, 403):
        return f"{status}, but the declaration admits {principal.name}"
    if "/login?next=" in (response.location or ""):
        return f"sent to sign in, but the declaration admits {principal.name}"
    return None


def _refused(world, call, principal) -> str | None:
    before = world.row_counts() if call.method in WRITE_METHODS else None
    response = principal.send(call)
    if before is not None:
        after = world.row_counts()
        changed = sorted(table for table, rows in before.items() if after[table] != rows)
        if changed:
            return f"refused with {response.status_code}, yet wrote to {changed}"
    if principal.user is None:
        if call.is_api:
            return _json_error(response, 401, "unauthenticated")
        if response.status_code == 302 and "/login?next=" in response.location:
            return None
        return f"{response.status_code}, expected a redirect to sign in"
    if call.is_api:
        return _json_error(response, 403, "forbidden")
    return None if response.status_code == 403 else f"{response.status_code}, expected 403"


def _json_error(response, status: int, code: str) -> str | None:
    if response.status_code != status:
        return f"{response.status_code}, expected {status}"
    if response.get_json()["error"]["code"] != code:
        return f"error code {response.get_json()['error']['code']!r}, expected {code!r}"
    return None


# Who may open the pages and API calls that hold a survivor's data or the service's
# oversight, written out by hand. The test above proves each route answers as it declares;
# this one proves the declarations are what the service intends, so a permission given to a
# role by mistake fails here. Anyone not listed is refused (403) or finds nothing (404).
CASEWORKERS = {"lead caseworker", "partner caseworker"}
OVERSIGHT = {"coordinator", "finance", "auditor"}
SENSITIVE_PAGES: dict[str, set[str]] = {
    "reports.index": OVERSIGHT,
    "reports.approval_trail": OVERSIGHT,
    "reports.approval_trail_csv": OVERSIGHT,
    "budget.entries": {"finance", "auditor"},
    "budget.entry": {"finance", "auditor"},
    "api.ledger_entries": {"finance", "auditor"},
    "cases.index": {"coordinator", "finance", *CASEWORKERS},
    "api.list_cases": {"coordinator", "finance", *CASEWORKERS},
    "cases.show": {"coordinator", "finance", "lead caseworker"},  # the world's case is the lead provider's
    "api.get_case": {"coordinator", "finance", "lead caseworker"},
    "requests.show": {"coordinator", "lead caseworker"},
    "api.get_request": {"coordinator", "lead caseworker"},
    "requests.queue": {"coordinator"},
    "api.queue": {"coordinator"},
    "jobs.index": {"coordinator"},
    "jobs.show": {"coordinator", "fitter A"},
    "api.get_job": {"coordinator", "fitter A"},
    "jobs.scan_any": {"coordinator", "fitter A", "fitter B"},
    "audit.access_log": {"admin"},
    "admin.users": {"admin"},
}
# Whoever never sees a survivor's name, address, phone or notes, on any page or API call.
NO_PERSONAL_DATA = ("auditor", "admin", "finance")
PERSONAL_DATA = ("Test Survivor", "Example Row", "Testville", "01632 960000", "Text first.")


@pytest.mark.parametrize("name", PRINCIPALS)
def test_each_role_opens_exactly_its_sensitive_pages_and_is_refused_the_rest(world, name):
    principal = world.principals[name]
    calls = {call.endpoint: call for call in world.calls() if call.method == "GET"}
    assert SENSITIVE_PAGES.keys() <= calls.keys()
    wrong = []
    for endpoint, admitted in SENSITIVE_PAGES.items():
        response = principal.send(calls[endpoint])
        expected = {200} if name in admitted else {403, 404}
        if response.status_code not in expected:
            wrong.append(f"{calls[endpoint]}: {response.status_code}, expected one of {sorted(expected)}")
        if name not in admitted and any(value in response.get_data(as_text=True) for value in PERSONAL_DATA):
            wrong.append(f"{calls[endpoint]}: refused, yet shows personal data")
    assert wrong == []


@pytest.mark.parametrize("name", NO_PERSONAL_DATA)
def test_no_page_or_api_call_shows_these_roles_a_survivors_details(world, name):
    principal = world.principals[name]
    shown = []
    for call in world.calls():
        if call.method != "GET" or not call.access.allows(principal.user):
            continue
        body = principal.send(call).get_data(as_text=True)
        shown += [f"{call}: {value!r}" for value in PERSONAL_DATA if value in body]
    assert shown == []
