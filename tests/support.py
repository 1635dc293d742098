"""Test helpers: data builders and an API client that checks every response against the
OpenAPI document."""
import itertools
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from string import ascii_uppercase

from flask import current_app
from jsonschema import Draft202012Validator
from sqlalchemy import event, select

from inventory import clock
from inventory.accounts import operations
from inventory.accounts.models import Organisation, OrganisationKind
from inventory.api import OPERATIONS
from inventory.api.openapi import build_document
from inventory.extensions import db
from inventory.jobs.models import CHECKLIST_KEYS

_counter = itertools.count(1)


class Builders:
    PASSWORD = "correct horse battery"

    def lead(self) -> Organisation:
        lead = db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.LEAD))
        if lead is None:
            lead = operations.create_organisation(name="Lead Provider", kind="lead", actor=None)
            db.session.commit()
        return lead

    def organisation(self, *, kind="partner", name=None, case_reference_prefix=None):
        """A partner agency, with a case reference prefix of its own (P and two letters unless given)."""
        if kind == "lead":
            return self.lead()
        n = next(_counter)
        prefix = case_reference_prefix or "P" + ascii_uppercase[n // 26 % 26] + ascii_uppercase[n % 26]
        organisation = operations.create_organisation(name=name or f"Partner {n}", kind=kind,
                                                      case_reference_prefix=prefix, actor=None)
        db.session.commit()
        return organisation

    def user(self, *, roles=("admin",), organisation=None, email=None, name=None, password=PASSWORD,
             active=True):
        organisation = organisation or self.lead()
        n = next(_counter)
        user = operations.create_user(
            email=email or f"user{n}@example.test", name=name or f"Test User {n}", organisation=organisation,
            roles=list(roles), password=password, actor=None,
        )
        user.active = active
        db.session.commit()
        return user

    def budget_period(self, *, allocated_pence=None, starts_on=None, ends_on=None, name=None, actor=None,
                      around_today=False):
        """A budget period (the financial year containing today by default; with around_today,
        the half-years either side of today, for tests that date things days ago whatever
        the date), optionally funded."""
        from inventory.budget import ledger
        from inventory.budget import operations as budget

        if around_today:
            starts_on, ends_on = clock.today() - timedelta(days=182), clock.today() + timedelta(days=182)

        period = budget.create_period(starts_on=starts_on, ends_on=ends_on, name=name)
        if allocated_pence:
            ledger.allocate(period, allocated_pence, actor=actor or self.user(roles=["finance"]), memo="Funding",
                            on=period.starts_on)
        db.session.commit()
        return period

    def direct_purchase(self, *, gross_pence=4500, vat_pence=0, on=None, supplier="Locksmith Direct",
                        receipt="R-1001", actor=None, paid_by="bank"):
        """A direct purchase posted as an actual (needs a funded budget period); returns the entry."""
        from inventory import clock
        from inventory.budget import operations as budget

        _, entry = budget.record_direct_purchase(
            supplier_name=supplier, purchased_on=on or clock.today(), net_pence=gross_pence - vat_pence,
            vat_pence=vat_pence, gross_pence=gross_pence, receipt_reference=receipt, category="Lock",
            actor=actor or self.user(roles=["finance"]), payment_method=paid_by,
        )
        db.session.commit()
        return entry

    def statement(self, rows, *, account="Current account", actor=None):
        """A statement imported from (date, description, amount, reference) rows."""
        from inventory.reconciliation.operations import import_statement
        from inventory.reconciliation.statement_csv import ColumnMapping

        text = "Date,Description,Amount,Reference\n" + "".join(
            f"{day:%d/%m/%Y},{description},{amount},{reference}\n" for day, description, amount, reference in rows)
        statement = import_statement(
            data=text.encode(), filename="statement.csv", account=account, actor=actor or self.user(roles=["finance"]),
            mapping=ColumnMapping(date="Date", description="Description", amount="Amount", reference="Reference"),
            max_bytes=1024 * 1024,
        )
        db.session.commit()
        return statement

    def token(self, user) -> str:
        _, plain = operations.create_api_token(user, name="tests")
        db.session.commit()
        return plain

    # Catalogue and stock

    def item_type(self, *, name=None, category="personal_alarm", connected_device=False, loaned=True,
                  standard_cost_pence=2500, reorder_level=0, **values):
        from inventory.catalogue.operations import create_item_type

        item_type = create_item_type(
            name=name or f"Item type {next(_counter)}", category=category, connected_device=connected_device,
            loaned=loaned, standard_cost_pence=standard_cost_pence, reorder_level=reorder_level, **values,
        )
        db.session.commit()
        return item_type

    def supplier(self, *, name=None, **values):
        from inventory.catalogue.operations import create_supplier

        supplier = create_supplier(name=name or f"Supplier {next(_counter)}", **values)
        db.session.commit()
        return supplier

    def location(self, *, name=None, kind="store", fitter=None):
        from inventory.stock.locations import create_location

        location = create_location(name=name or f"Store {next(_counter)}", kind=kind, fitter=fitter)
        db.session.commit()
        return location

    def items(self, quantity=1, *, item_type=None, location=None, serial_numbers=(), purchase_cost_pence=2500,
              **values):
        """Units received into stock (in_stock), each with a code and a cached QR."""
        from inventory.stock.receiving import NewUnits, receive_units

        units = NewUnits(item_type=item_type or self.item_type(), quantity=quantity,
                         location=location or self.location(), serial_numbers=tuple(serial_numbers),
                         purchase_cost_pence=purchase_cost_pence, **values)
        items = receive_units(units, actor=None)
        db.session.commit()
        return items

    def item(self, **values):
        return self.items(1, **values)[0]

    # Procurement

    def purchase_order(self, *, supplier=None, lines=None, raised=True, budget_pence=1_000_000, actor=None):
        """An order (raised by default, against a funded budget period). `lines` is a list of
        (item_type, quantity, unit_net_pence, unit_vat_pence)."""
        from inventory.budget.ledger import current_period
        from inventory.procurement import orders

        actor = actor or self.user(roles=["coordinator"])
        lines = lines or [(self.item_type(), 2, 1000, 200)]
        order = orders.create_purchase_order(
            supplier=supplier or self.supplier(), actor=actor,
            lines=[orders.OrderLine(t.id, q, net, vat) for t, q, net, vat in lines])
        db.session.commit()
        if raised:
            if current_period() is None:
                self.budget_period(allocated_pence=budget_pence)
            orders.raise_purchase_order(order, actor=actor)
            db.session.commit()
        return order

    def receipt(self, order, *, location=None, actor=None):
        """Everything outstanding on the order received into stock."""
        from inventory.procurement.receipts import receive_goods

        receipt = receive_goods(order, lines=None, location=location or self.location(),
                                actor=actor or self.user(roles=["coordinator"]))
        db.session.commit()
        return receipt

    def invoice(self, order, *, number=None, actor=None, on=None):
        """A posted invoice for everything received on the order, at the order's prices."""
        from inventory import clock
        from inventory.procurement.invoices import InvoiceLine, record_invoice

        invoice = record_invoice(
            order, number=number or f"INV-{next(_counter)}", invoice_date=on or clock.today(),
            actor=actor or self.user(roles=["finance"]),
            lines=[InvoiceLine(line.id, line.quantity_received, line.unit_net_pence, line.unit_vat_pence)
                   for line in order.lines if line.quantity_received])
        db.session.commit()
        return invoice

    # Cases and requests

    def case_details(self, **overrides) -> dict:
        """Valid details for a new case (invented survivor), as a form or the API sends them."""
        n = next(_counter)
        week_ago = (clock.today() - timedelta(days=7)).isoformat()
        return {
            "reference": f"NS-2026-{n:04d}", "name": f"Test Survivor {n}", "address": "1 Example Row\nTestville",
            "phone": "01632 960000", "safe_contact_notes": "Text first.", "police_reference": None,
            "consent_given": True, "consent_on": week_ago, "tenure": "private_tenant",
            "landlord_consent": "given", "risk_tool": "dash", "risk_level": "standard",
            "risk_assessed_on": week_ago, "marac": False, "flags": [], "referral_source": "police",
            "referral_agency": None, **overrides,
        }

    def caseworker(self, organisation=None):
        return self.user(roles=["caseworker"], organisation=organisation or self.lead())

    def case(self, *, organisation=None, caseworker=None, closed=False, **details):
        from inventory.cases.details import read_new_case
        from inventory.cases.models import SupportEnded
        from inventory.cases.operations import close_case, create_case
        from inventory.cases.reviews import Closing
        from inventory.parsing import Fields

        caseworker = caseworker or self.caseworker(organisation)
        prefix = caseworker.organisation.case_reference_prefix or "NS"
        details.setdefault("reference", f"{prefix}-2026-{next(_counter):04d}")
        case = create_case(read_new_case(Fields(self.case_details(**details))), actor=caseworker)
        if closed:
            close_case(case, Closing(SupportEnded.NO_LONGER_NEEDED), actor=caseworker)
        db.session.commit()
        return case

    def equipment_request(self, *, case=None, lines=None, caseworker=None, reason="Needs an alarm to carry."):
        """A submitted request; `lines` is [(item_type, quantity)] (default: one new alarm)."""
        from inventory.requests.operations import RequestDetails, WantedLine, raise_request

        if case is None:
            caseworker = caseworker or self.caseworker()
            case = self.case(caseworker=caseworker)
        if caseworker is None:
            caseworker = self.caseworker(case.organisation)
        lines = lines or [(self.item_type(), 1)]
        raised = raise_request(case.id, RequestDetails(
            lines=tuple(WantedLine(item_type.id, quantity) for item_type, quantity in lines), reason=reason),
            actor=caseworker)
        db.session.commit()
        return raised

    def approved_request(self, *, lines=None, case=None, coordinator=None):
        """A request approved in full; its units are received first, so all are reserved to it.
        `lines` is [(item_type, quantity)] (default: one new alarm)."""
        from inventory.requests.operations import approve_request

        lines = lines or [(self.item_type(), 1)]
        for item_type, quantity in lines:
            self.items(quantity, item_type=item_type)
        raised = self.equipment_request(case=case, lines=lines)
        approve_request(raised.id, actor=coordinator or self.user(roles=["coordinator"]))
        db.session.commit()
        return raised

    # Jobs

    def job(self, *, fitter=None, request=None, coordinator=None, scheduled_for=None, lines=None):
        """A visit booked today (by default) to hand over an approved request's units."""
        from inventory.jobs.booking import InstallBooking, schedule_job

        coordinator = coordinator or self.user(roles=["coordinator"])
        request = request or self.approved_request(lines=lines, coordinator=coordinator)
        fitter = fitter or self.user(roles=["fitter"])
        job = schedule_job(InstallBooking(request.id, visit(fitter, scheduled_for)), actor=coordinator)
        db.session.commit()
        return job

    def handed_over(self, *, lines=None, fitter=None, case=None, request=None):
        """Units issued to a case on a completed install (alarms are loaned by default), for
        `request` if given (approved, its units reserved), else a new one. Returns (case, [items])."""
        from inventory.jobs.completion import Completion, complete_job
        from inventory.jobs.issuing import record_checklist
        from inventory.jobs.models import JobItem
        from inventory.jobs.scanning import ScanAction, ScanInput, scan
        from inventory.stock.models import Item

        fitter = fitter or self.user(roles=["fitter"])
        request = request or self.approved_request(lines=lines, case=case)
        job = self.job(fitter=fitter, request=request)
        units = list(db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)
                                        .order_by(Item.id)))
        if any(unit.item_type.connected_device for unit in units):
            self.handover_checks(job, fitter)
        for unit in units:
            scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=fitter)
        for row in db.session.scalars(select(JobItem).where(JobItem.job_id == job.id)):
            if row.needs_checklist:
                record_checklist(job.id, row.id, CHECKLIST_KEYS, actor=fitter)
        complete_job(job.id, Completion(), actor=fitter)
        db.session.commit()
        return request.case, units

    def handover_checks(self, job, fitter, checks=None, answer="done"):
        """The widened handover answered on `job` (every point, or those of `checks`), as
        its fitter would before scanning a connected device."""
        from inventory.jobs.handover import record_handover_checks
        from inventory.jobs.models import HANDOVER_CHECKS

        record_handover_checks(job.id, {check.key: answer for check in checks or HANDOVER_CHECKS}, actor=fitter)
        db.session.commit()

    def collection(self, *, case, items, fitter=None, coordinator=None, scheduled_for=None):
        """A visit booked today (by default) to take `items` back from `case`."""
        from inventory.jobs.booking import CollectionBooking, schedule_collection

        booking = CollectionBooking(case.id, tuple(item.id for item in items),
                                    visit(fitter or self.user(roles=["fitter"]), scheduled_for))
        job = schedule_collection(booking, actor=coordinator or self.user(roles=["coordinator"]))
        db.session.commit()
        return job

    def awaiting_request(self, *, lines=None, case=None, budget_pence=100_000, coordinator=None):
        """A request approved in full with nothing in stock, so the standard cost of every
        unit is committed, awaiting stock (in a period funded with `budget_pence` if none
        covers today). `lines` is [(item_type, quantity)] (default: one new alarm)."""
        from inventory.budget.ledger import current_period
        from inventory.requests.operations import approve_request

        if current_period() is None:
            self.budget_period(allocated_pence=budget_pence)
        raised = self.equipment_request(case=case, lines=lines or [(self.item_type(), 1)])
        approve_request(raised.id, actor=coordinator or self.user(roles=["coordinator"]))
        db.session.commit()
        return raised

    def order_for_request(self, request, *, unit_net_pence=None, unit_vat_pence=0, quantity=None, supplier=None,
                          raised=True, actor=None):
        """An order for what each line of `request` awaits (or `quantity` of each), linked to
        the request's lines, at standard cost unless a unit price is given; raised by default."""
        from inventory.procurement import orders

        actor = actor or self.user(roles=["coordinator"])
        order = orders.create_purchase_order(supplier=supplier or self.supplier(), actor=actor, lines=[
            orders.OrderLine(line.item_type_id, quantity or line.awaiting_quantity,
                             line.item_type.standard_cost_pence if unit_net_pence is None else unit_net_pence,
                             unit_vat_pence, request_line_id=line.id)
            for line in request.lines if quantity or line.awaiting_quantity])
        db.session.commit()
        if raised:
            orders.raise_purchase_order(order, actor=actor)
            db.session.commit()
        return order


def booking_day() -> str:
    """A day a booking sent as the API or a form sends it may name whatever the hour the tests
    run: tomorrow (today's usual window may already have passed, which is refused)."""
    return (clock.today() + timedelta(days=1)).isoformat()


def this_morning() -> datetime:
    """Today at 07:00 UTC (08:00 at most in London), or now if that is earlier: before any
    window in the tests, and never hours after a sign-in made just now (which would have
    timed out by then, when the tests run after midnight)."""
    return min(clock.now(), datetime.combine(clock.today(), time(7), tzinfo=UTC))


def visit(fitter, day=None):
    """A visit by `fitter` on `day` (default today) in the usual window, 09:00 to 12:00."""
    from inventory.jobs.booking import Visit

    return Visit(fitter.id, day or clock.today(), time(9), time(12))


class ApiClient:
    """Calls /api/v1 with a bearer token and validates each JSON body against the
    operation's schema in the OpenAPI document (or the Error schema for 4xx/5xx)."""

    def __init__(self, client, token: str, user):
        self.client = client
        self.token = token
        self.user = user

    def request(self, method: str, path: str, *, json=None, headers=None, **kwargs):
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        response = self.client.open(f"/api/v1{path}", method=method, json=json, headers=all_headers, **kwargs)
        assert_conforms(method, f"/api/v1{path.split('?')[0]}", response)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def assert_conforms(method: str, path: str, response) -> None:
    document = build_document()
    if response.status_code >= 400:
        schema_ref = {"$ref": "#/components/schemas/Error"}
    else:
        adapter = current_app.url_map.bind("localhost")
        endpoint, _ = adapter.match(path, method=method)
        operation = OPERATIONS[endpoint.split(".", 1)[1]]
        assert response.status_code == operation.status, (
            f"{method} {path}: status {response.status_code}, documented {operation.status}"
        )
        if response.mimetype in operation.other_media_types:
            return
        if operation.media_type != "application/json":
            assert response.mimetype == operation.media_type, f"{method} {path} answered {response.content_type}"
            return
        schema_ref = operation.response or {"type": "object"}
    assert response.is_json, f"{method} {path} answered {response.status_code} with {response.content_type}"
    validator = Draft202012Validator({**schema_ref, "components": document["components"]})
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} does not match its OpenAPI schema: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


@contextmanager
def recorded_statements(*, selects_only: bool = False):
    """Collect the SQL statements run inside the block (to prove a page or a use case costs
    the same however much data there is: no N+1)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not selects_only or statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def recorded_selects():
    return recorded_statements(selects_only=True)
