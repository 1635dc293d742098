"""Random histories of everything that moves money keep every pound accounted for
(Hypothesis, stateful): approvals; purchase orders raised, received, invoiced in and out of
tolerance, credited, closed and cancelled; direct purchases and their refunds; adjustments;
reversals (also of a closed order's invoice); month closes; and exports to the accounts in
between.

After every step: the budget identity holds and verify-ledger passes (chain, balances,
dates, categories, no orphan commitment); every pound still committed is held by an open
order for what it has still to be invoiced, or by a request for units no order is bringing,
and by nothing else; no invoice is credited beyond what it charged nor any purchase refunded
beyond its cost; every export batch adds up to the ledger movement it carries, and every
file ever written downloads unchanged.
"""
import csv
import hashlib
import io
import itertools
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from inventory import clock
from inventory.budget import ledger, operations as budget
from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry, SourceType
from inventory.budget.verification import open_commitments_by_source, verify_ledger
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.procurement import invoices, orders, receipts
from inventory.procurement.models import (
    InvoiceKind,
    InvoiceStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    SupplierInvoice,
)
from inventory.reconciliation import exports
from inventory.reconciliation.models import ExportBatch, ExportedEntry, ExportFile, ExportFormat
from inventory.requests import operations as requests
from inventory.requests.holdings import HOLDING_STATES
from inventory.requests.models import EquipmentRequest

_years = itertools.count(2101)  # each example keeps books of its own year
_numbers = itertools.count(1)  # invoice, credit note and receipt numbers, unique across examples
P = PurchaseOrderStatus
OPEN = (P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED)
SAGE_SIGN = {"BP": 1, "CP": 1, "BR": -1, "CR": -1}


def _order_should_commit(order: PurchaseOrder) -> int:
    """The oracle: what an order still has to be invoiced for (gross: VAT is not reclaimed
    here), computed from its lines and its standing invoices, never from the ledger."""
    if order.status not in OPEN:
        return 0
    invoiced: dict[int, int] = {}
    for invoice in db.session.scalars(select(SupplierInvoice).where(
            SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.kind == InvoiceKind.INVOICE,
            SupplierInvoice.status == InvoiceStatus.POSTED)):
        for line in invoice.lines:
            category = line.purchase_order_line.budget_category_id
            invoiced[category] = invoiced.get(category, 0) + line.quantity * (line.unit_net_pence + line.unit_vat_pence)
    expected: dict[int, int] = {}
    for line in order.lines:
        units = line.quantity_received if order.rest_cancelled else line.quantity_ordered
        expected[line.budget_category_id] = expected.get(line.budget_category_id, 0) + units * line.unit_gross_pence
    return sum(max(value - invoiced.get(category, 0), 0) for category, value in expected.items())


def _request_should_commit(request: EquipmentRequest) -> int:
    if request.state_enum not in HOLDING_STATES:
        return 0
    total = 0
    for line in request.lines:
        coming = sum(po_line.outstanding for order in db.session.scalars(select(PurchaseOrder).where(
            PurchaseOrder.status.in_([P.RAISED, P.PARTLY_RECEIVED]))) for po_line in order.lines
            if po_line.request_line_id == line.id)
        total += max(line.awaiting_quantity - coming, 0) * line.item_type.standard_cost_pence
    return total


def _standing():
    """SQL condition: no reversal has cancelled the entry."""
    reversal = aliased(LedgerEntry)
    return ~exists().where(reversal.reverses_id == LedgerEntry.id)


def _rows(file: ExportFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(file.content.decode(), newline="")))


def test_random_money_histories_account_for_every_pound(app, build):
    finance, coordinator = build.user(roles=["finance"]), build.user(roles=["coordinator"])
    supplier, store = build.supplier(), build.location()
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)
    export_settings = exports.ExportSettings.from_config(current_app.config)
    digests: dict[int, str] = {}  # every export file ever written -> its sha256 when first seen

    class Money(RuleBasedStateMachine):
        @initialize()
        def open_the_books(self):
            db.session.rollback()  # a failed example may leave the session mid-transaction
            self.time = ExitStack()
            year = next(_years)
            self.day = date(year, 4, 20)
            self.frozen()
            self.period = budget.create_period(starts_on=date(year, 4, 1), ends_on=date(year + 1, 3, 31),
                                               name=f"Histories {year}")
            ledger.allocate(self.period, 60_000, actor=finance, memo="Grant")
            db.session.commit()
            self.item_types = [build.item_type(category="personal_alarm", standard_cost_pence=2500),
                               build.item_type(category="pir_light", standard_cost_pence=4000)]
            self.request_ids, self.order_ids, self.invoice_ids, self.purchase_ids = [], [], [], []

        def frozen(self):
            self.time.close()
            self.time = ExitStack()
            self.time.enter_context(clock.frozen_at(datetime.combine(self.day, datetime.min.time()).replace(hour=12)))

        def teardown(self):
            self.time.close()

        def attempt(self, use_case) -> bool:
            try:
                use_case()
                db.session.commit()
                return True
            except DomainError:
                db.session.rollback()
                return False

        def orders_in(self, *states):
            return [i for i in self.order_ids if db.session.get(PurchaseOrder, i).status in states]

        def documents(self, kind, status):
            return [i for i in self.invoice_ids if (doc := db.session.get(SupplierInvoice, i)).kind == kind
                    and doc.status == status]

        # Funding, requests and orders -------------------------------------------------------

        @rule(amount=st.integers(5_000, 40_000))
        def more_funding(self, amount):
            self.attempt(lambda: ledger.allocate(self.period, amount, actor=finance, memo="Top-up", on=clock.today()))

        @rule(kind=st.integers(0, 1), quantity=st.integers(1, 3))
        def approve_a_request(self, kind, quantity):
            raised = build.equipment_request(case=case, caseworker=caseworker,
                                             lines=[(self.item_types[kind], quantity)])
            if self.attempt(lambda: requests.approve_request(raised.id, actor=coordinator)):
                self.request_ids.append(raised.id)

        @rule(kinds=st.lists(st.integers(0, 1), min_size=1, max_size=2, unique=True), quantity=st.integers(1, 3),
              price=st.sampled_from([1500, 2500, 4000]), vat=st.sampled_from([0, 20]),
              for_request=st.booleans(), then=st.sampled_from(["raised", "received", "invoiced", "credited"]), data=st.data())
        def raise_an_order(self, kinds, quantity, price, vat, for_request, then, data):
            """Raise an order (for stock, or for what a request awaits) and, as often happens,
            take the goods and the invoice straight away."""
            lines = [orders.OrderLine(self.item_types[k].id, quantity, price, price * vat // 100) for k in kinds]
            waiting = [r for r in self.request_ids if db.session.get(EquipmentRequest, r).state_enum in HOLDING_STATES]
            if for_request and waiting:
                line = db.session.get(EquipmentRequest, data.draw(st.sampled_from(waiting))).lines[0]
                if line.awaiting_quantity:
                    lines = [orders.OrderLine(line.item_type_id, line.awaiting_quantity, price, price * vat // 100,
                                              request_line_id=line.id)]
            order = orders.create_purchase_order(supplier=supplier, actor=coordinator, lines=lines)
            db.session.commit()
            if not self.attempt(lambda: orders.raise_purchase_order(order, actor=coordinator)):
                return
            self.order_ids.append(order.id)
            if then != "raised":
                self.attempt(lambda: receipts.receive_goods(order, lines=None, location=store, actor=coordinator))
            if then in ("invoiced", "credited"):
                invoice = self.bill(order, dearer=then == "invoiced" and data.draw(st.booleans()))
                if invoice is not None and then == "credited":
                    self.credit(invoice, data.draw(st.integers(1, 120)))

        @precondition(lambda self: self.orders_in(P.RAISED, P.PARTLY_RECEIVED))
        @rule(data=st.data(), everything=st.booleans())
        def receive(self, data, everything):
            order = db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.orders_in(P.RAISED,
                                                                                           P.PARTLY_RECEIVED))))
            lines = None if everything else [receipts.ReceiptLine(line.id, 1) for line in order.lines
                                             if line.outstanding][:1]
            self.attempt(lambda: receipts.receive_goods(order, lines=lines, location=store, actor=coordinator))

        @precondition(lambda self: self.orders_in(*OPEN))
        @rule(data=st.data(), dearer=st.booleans())
        def invoice(self, data, dearer):
            self.bill(db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.orders_in(*OPEN)))), dearer=dearer)

        def bill(self, order, *, dearer):
            """Bill what came and is not billed yet: at the order's price, or 30% dearer (out of
            tolerance: it waits for finance)."""
            billed = {}
            for invoice in db.session.scalars(select(SupplierInvoice).where(
                    SupplierInvoice.purchase_order_id == order.id, SupplierInvoice.kind == InvoiceKind.INVOICE,
                    SupplierInvoice.status != InvoiceStatus.REVERSED)):
                for line in invoice.lines:
                    billed[line.purchase_order_line_id] = billed.get(line.purchase_order_line_id, 0) + line.quantity
            lines = [invoices.InvoiceLine(line.id, line.quantity_received - billed.get(line.id, 0),
                                          line.unit_net_pence * (13 if dearer else 10) // 10, line.unit_vat_pence)
                     for line in order.lines if line.quantity_received > billed.get(line.id, 0)]
            if not lines:
                return
            number = f"INV-{next(_numbers)}"
            if not self.attempt(lambda: invoices.record_invoice(order, number=number, invoice_date=clock.today(),
                                                                lines=lines, actor=finance)):
                return None
            invoice = db.session.scalar(select(SupplierInvoice).where(
                SupplierInvoice.number == number, SupplierInvoice.supplier_id == supplier.id))
            self.invoice_ids.append(invoice.id)
            return invoice

        @precondition(lambda self: self.documents(InvoiceKind.INVOICE, InvoiceStatus.AWAITING_APPROVAL))
        @rule(data=st.data())
        def approve_an_invoice(self, data):
            invoice = db.session.get(SupplierInvoice, data.draw(st.sampled_from(
                self.documents(InvoiceKind.INVOICE, InvoiceStatus.AWAITING_APPROVAL))))
            self.attempt(lambda: invoices.approve_invoice(invoice, actor=finance, reason="Price went up"))

        @precondition(lambda self: self.documents(InvoiceKind.INVOICE, InvoiceStatus.POSTED))
        @rule(data=st.data(), share=st.integers(1, 120))
        def credit_note(self, data, share):
            self.credit(db.session.get(SupplierInvoice, data.draw(st.sampled_from(
                self.documents(InvoiceKind.INVOICE, InvoiceStatus.POSTED)))), share)

        def credit(self, invoice, share):
            """A credit of `share`% of the invoice's net: beyond what is left, refused."""
            if invoice.status != InvoiceStatus.POSTED:
                return
            already, _ = invoices.credited(invoice)
            net = max(invoice.net_pence * share // 100, 1)
            number = f"CN-{next(_numbers)}"
            done = self.attempt(lambda: invoices.record_credit_note(
                invoice, number=number, invoice_date=clock.today(), reason="Returned", net_pence=net, vat_pence=0,
                actor=finance))
            assert done == (net <= invoice.net_pence - already.net_pence)
            if done:
                self.invoice_ids.append(db.session.scalar(select(SupplierInvoice.id).where(
                    SupplierInvoice.number == number, SupplierInvoice.supplier_id == supplier.id)))

        @precondition(lambda self: self.orders_in(P.RECEIVED))
        @rule(data=st.data())
        def close_an_order(self, data):
            order = db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.orders_in(P.RECEIVED))))
            self.attempt(lambda: orders.close_purchase_order(order, actor=finance))

        @precondition(lambda self: self.orders_in(P.RAISED, P.PARTLY_RECEIVED))
        @rule(data=st.data())
        def cancel_an_order(self, data):
            order = db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.orders_in(P.RAISED,
                                                                                           P.PARTLY_RECEIVED))))
            self.attempt(lambda: orders.cancel_purchase_order(order, actor=coordinator, reason="Not needed"))

        # Spend without an order, corrections ------------------------------------------------

        @rule(gross=st.integers(100, 9_000))
        def direct_purchase(self, gross):
            def buy():
                purchase, _ = budget.record_direct_purchase(
                    supplier_name="Hardware shop", purchased_on=clock.today(), net_pence=gross, vat_pence=0,
                    gross_pence=gross, receipt_reference=f"R-{next(_numbers)}", category="Lock", actor=finance)
                self.purchase_ids.append(purchase.id)
            self.attempt(buy)

        @precondition(lambda self: self.purchase_ids)
        @rule(data=st.data(), share=st.integers(1, 120))
        def refund(self, data, share):
            purchase = db.session.get(DirectPurchase, data.draw(st.sampled_from(self.purchase_ids)))
            net_back, _ = budget.refunded(purchase)
            standing = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
                LedgerEntry.source_type == SourceType.DIRECT_PURCHASE, LedgerEntry.source_id == purchase.id,
                LedgerEntry.kind == EntryKind.ACTUAL, _standing()))
            net = max(purchase.net_pence * share // 100, 1)
            done = self.attempt(lambda: budget.refund_direct_purchase(
                purchase, on=clock.today(), net_pence=net, vat_pence=0, reason="Faulty", actor=finance))
            assert done == (bool(standing) and net <= purchase.net_pence - net_back)

        @rule(amount=st.integers(-3_000, 3_000).filter(bool))
        def adjust(self, amount):
            self.attempt(lambda: ledger.adjust(amount, on=clock.today(), actor=finance, reason="Journal"))

        @rule(pick=st.integers(0, 10_000))
        def reverse_something(self, pick):
            """Reverse any standing actual, credit or adjustment of this year (an order's own
            commitments follow the order): some are refused, which must change nothing."""
            candidates = list(db.session.scalars(select(LedgerEntry.id).where(
                LedgerEntry.period_id == self.period.id,
                LedgerEntry.kind.in_([EntryKind.ACTUAL, EntryKind.CREDIT, EntryKind.ADJUSTMENT]),
                _standing()).order_by(LedgerEntry.id)))
            if candidates:
                entry = db.session.get(LedgerEntry, candidates[pick % len(candidates)])
                self.attempt(lambda: ledger.reverse(entry, reason="Posted in error", actor=finance))

        @rule()
        def resolve_alerts(self):
            while (alert := ledger.open_overspend_alert(self.period)) is not None:
                budget.resolve_overspend(alert, actor=finance, resolution="Funded from reserves")
            db.session.commit()

        # Time, month ends, the accounts -----------------------------------------------------

        @rule(days=st.integers(1, 25))
        def time_passes(self, days):
            self.day = min(self.day + timedelta(days=days), self.period.ends_on)
            self.frozen()

        @rule()
        def close_last_month(self):
            last_month = (self.day.replace(day=1) - timedelta(days=1)).replace(day=1)
            if self.period.contains(last_month) and not ledger.is_month_closed(last_month):
                budget.close_month(last_month, actor=finance)
                db.session.commit()

        @rule(export_format=st.sampled_from(ExportFormat))
        def export(self, export_format):
            self.attempt(lambda: exports.export_batch(export_format, actor=finance, settings=export_settings))
            for file in db.session.scalars(select(ExportFile)):
                digests.setdefault(file.id, hashlib.sha256(file.content).hexdigest())

        # What must always hold --------------------------------------------------------------

        @invariant()
        def the_books_balance_and_verify(self):
            totals = ledger.summary(self.period)
            assert totals.available_pence == (totals.allocated_pence - totals.actual_pence - totals.committed_pence
                                               + totals.credits_pence + totals.adjustments_pence)
            report = verify_ledger()
            assert report.ok, report.problems

        @invariant()
        def every_committed_pound_has_exactly_one_open_owner(self):
            committed = open_commitments_by_source()  # the ledger's answer, per source
            for order_id in self.order_ids:
                order = db.session.get(PurchaseOrder, order_id)
                assert committed.pop((SourceType.PURCHASE_ORDER, order_id), 0) == _order_should_commit(order), \
                    f"{order.reference} ({order.status})"
            for request_id in self.request_ids:
                request = db.session.get(EquipmentRequest, request_id)
                assert committed.pop((SourceType.REQUEST, request_id), 0) == _request_should_commit(request), \
                    f"request {request_id} ({request.state})"
            expected = sum(_order_should_commit(db.session.get(PurchaseOrder, i)) for i in self.order_ids) + sum(
                _request_should_commit(db.session.get(EquipmentRequest, i)) for i in self.request_ids)
            assert ledger.summary(self.period).committed_pence == expected  # and nothing else is committed

        @invariant()
        def nothing_is_credited_or_refunded_beyond_what_it_cost(self):
            for invoice_id in self.documents(InvoiceKind.INVOICE, InvoiceStatus.POSTED):
                invoice = db.session.get(SupplierInvoice, invoice_id)
                already, _ = invoices.credited(invoice)
                assert already.net_pence <= invoice.net_pence and already.vat_pence <= invoice.vat_pence
            for purchase_id in self.purchase_ids:
                purchase = db.session.get(DirectPurchase, purchase_id)
                net_back, vat_back = budget.refunded(purchase)
                assert net_back <= purchase.net_pence and vat_back <= purchase.vat_pence

        @invariant()
        def every_batch_adds_up_to_what_it_carries_and_no_file_changes(self):
            for batch in db.session.scalars(select(ExportBatch)):
                carried = select(ExportedEntry.ledger_entry_id).where(ExportedEntry.batch_id == batch.id)
                movement = -sum(db.session.scalars(select(LedgerEntry.amount_pence).where(LedgerEntry.id.in_(carried))))
                rows = [row for file in batch.files for row in _rows(file)]
                if batch.format == ExportFormat.SAGE:
                    pounds = sum(SAGE_SIGN[r["Type"]] * (Decimal(r["Net Amount"]) + Decimal(r["Tax Amount"]))
                                 for r in rows)
                else:
                    journals: dict[str, Decimal] = {}
                    for row in rows:
                        journals[row["*Narration"]] = journals.get(row["*Narration"], Decimal(0)) + Decimal(row["*Amount"])
                    assert set(journals.values()) == {Decimal(0)}  # every journal balances
                    pounds = sum(Decimal(r["*Amount"]) for r in rows if r["*AccountCode"] == export_settings.xero_expense)
                assert pounds * 100 == movement, f"batch {batch.id} ({batch.format})"
            for file_id, digest in digests.items():
                file = db.session.get(ExportFile, file_id)
                assert hashlib.sha256(file.content).hexdigest() == digest == file.sha256

    run_state_machine_as_test(Money, settings=settings(
        max_examples=15, stateful_step_count=35, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))

