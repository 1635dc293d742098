"""Credits raced on PostgreSQL with real threads and connections: what comes back never
exceeds what was spent, and a reversal racing a credit neither deadlocks nor lets both in."""
import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.budget import operations as budget
from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry
from inventory.extensions import db
from inventory.procurement import invoices
from inventory.procurement.models import InvoiceStatus, SupplierInvoice
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def invoiced(build):
    build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    return build.invoice(order, number="INV-1")


def _credit(invoice_id, finance_id, number, net):
    return lambda: invoices.record_credit_note(
        db.session.get(SupplierInvoice, invoice_id), number=number, invoice_date=clock.today(), reason="Returned",
        net_pence=net, vat_pence=0, actor=db.session.get(User, finance_id))


def test_two_credit_notes_at_once_against_one_invoice_never_credit_more_than_it_charged(app, build, invoiced):
    finance_id, invoice_id = build.user(roles=["finance"]).id, invoiced.id
    outcomes = run_at_once(app, [_credit(invoice_id, finance_id, f"CN-{n}", 1500) for n in range(2)])
    assert sorted(outcomes) == ["credit_exceeds_invoiced", "ok"]
    db.session.expire_all()
    credited = db.session.scalar(select(func.sum(SupplierInvoice.net_pence)).where(
        SupplierInvoice.credited_invoice_id == invoice_id))
    assert credited == 1500
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_pence)).where(
        LedgerEntry.kind == EntryKind.CREDIT)) == 1500


def test_two_refunds_at_once_never_refund_more_than_the_purchase(app, build):
    build.budget_period(allocated_pence=100_000)
    purchase_id = build.direct_purchase(gross_pence=4500).source_id
    finance_id = build.user(roles=["finance"]).id

    def refund():
        return budget.refund_direct_purchase(db.session.get(DirectPurchase, purchase_id), on=clock.today(),
                                             net_pence=3000, vat_pence=0, reason="Returned",
                                             actor=db.session.get(User, finance_id))

    assert sorted(run_at_once(app, [refund, refund])) == ["ok", "refund_exceeds_purchase"]
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_pence)).where(
        LedgerEntry.kind == EntryKind.CREDIT)) == 3000


def test_a_credit_note_and_the_invoices_reversal_at_once_let_exactly_one_in_without_deadlock(app, build, invoiced):
    finance_id = build.user(roles=["finance"]).id
    actual_id, invoice_id = invoices.document_entries(invoiced)[0].id, invoiced.id

    def reverse():
        return ledger.reverse(db.session.get(LedgerEntry, actual_id), reason="Wrong order",
                              actor=db.session.get(User, finance_id))

    outcomes = run_at_once(app, [_credit(invoice_id, finance_id, "CN-1", 1000), reverse])
    assert outcomes in (["ok", "invoice_credited"], ["invoice_not_posted", "ok"])
    db.session.expire_all()
    invoice = db.session.get(SupplierInvoice, invoice_id)
    assert invoice.status == (InvoiceStatus.POSTED if outcomes[0] == "ok" else InvoiceStatus.REVERSED)
