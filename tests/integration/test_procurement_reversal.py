"""Reversing an invoice leaves nothing stuck: the invoice is reversed, its order awaits
invoicing again and commits exactly what is still to be invoiced; closing and cancelling
release whatever an order still commits; money is held per budget category."""
import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.budget.verification import verify_ledger
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.procurement import invoices, orders, receipts
from inventory.procurement.invoices import CreditLine, InvoiceLine
from inventory.procurement.models import InvoiceStatus
from inventory.procurement.receipts import ReceiptLine


def _invoice(order, build, *, number="INV-1", net=1000, vat=200, quantity=None):
    line = order.lines[0]
    return invoices.record_invoice(order, number=number, invoice_date=clock.today(),
                                   actor=build.user(roles=["finance"]), lines=[InvoiceLine(line.id, quantity or line.quantity_received, net, vat)])


def _reverse_invoice(invoice, build, *, entry=0):
    actual = invoices.document_entries(invoice)[entry]
    return ledger.reverse(actual, reason="Posted to the wrong order", actor=build.user(roles=["finance"]))


def _identity_holds(period) -> bool:
    report = verify_ledger()
    assert report.problems == []
    return True


@pytest.fixture
def period(build):
    return build.budget_period(allocated_pence=100_000)


def test_reversing_the_invoice_of_a_closed_order_reopens_it_committing_what_is_still_to_be_invoiced(build, period):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])  # £24.00
    build.receipt(order)
    invoice = _invoice(order, build, net=990, vat=198)  # £23.76, within tolerance
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    assert ledger.available_pence(period) == 100_000 - 2376 and orders.committed_pence(order) == 0

    _reverse_invoice(invoice, build)
    db.session.commit()
    assert (invoice.status, order.status, order.closed_at) == (InvoiceStatus.REVERSED, "received", None)
    # The whole order is still to be invoiced: the 2376 the invoice released and the 24 closing released.
    assert orders.committed_pence(order) == 2400
    summary = ledger.summary(period)
    assert (summary.actual_pence, summary.committed_pence, summary.available_pence) == (0, 2400, 100_000 - 2400)
    assert _identity_holds(period)

    # It can be invoiced again (the reversed invoice no longer counts as billed) and closed.
    again = _invoice(order, build, number="INV-2")
    assert (again.status, again.mismatches) == (InvoiceStatus.POSTED, [])
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    assert orders.committed_pence(order) == 0 and ledger.available_pence(period) == 100_000 - 2400
    assert _identity_holds(period)


def test_reversing_the_invoice_of_an_open_order_restores_its_commitment_and_the_order_can_be_closed(build, period):
    order = build.purchase_order(lines=[(build.item_type(), 4, 1000, 200)])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 2)], location=build.location(),
                           actor=build.user())
    invoice = _invoice(order, build)
    db.session.commit()
    assert orders.committed_pence(order) == 2400
    _reverse_invoice(invoice, build)
    db.session.commit()
    assert (invoice.status, order.status, orders.committed_pence(order)) == ("reversed", "partly_received", 4800)
    orders.cancel_purchase_order(order, actor=build.user(), reason="Rest not coming")
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    assert orders.committed_pence(order) == 0 and ledger.available_pence(period) == 100_000
    assert _identity_holds(period)


def test_an_invoice_with_credit_notes_standing_cannot_be_reversed_until_they_are(build, period):
    order = build.purchase_order()
    build.receipt(order)
    invoice = _invoice(order, build)
    note = invoices.record_credit_note(invoice, number="CN-1", invoice_date=clock.today(), net_pence=500, vat_pence=100,
                                       reason="Damaged box", actor=build.user(roles=["finance"]))
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        _reverse_invoice(invoice, build)
    assert caught.value.code == "invoice_credited" and caught.value.details["credit_notes"] == ["CN-1"]
    db.session.rollback()
    ledger.reverse(invoices.document_entries(note)[0], reason="Wrong", actor=build.user(roles=["finance"]))
    _reverse_invoice(invoice, build)
    db.session.commit()
    assert (note.status, invoice.status) == ("reversed", "reversed")
    assert ledger.available_pence(period) == 100_000 - 2400  # committed again, nothing spent or credited
    assert _identity_holds(period)


def test_cancelling_an_order_with_nothing_received_cancels_it_and_releases_everything(build, period):
    order = build.purchase_order(lines=[(build.item_type(), 3, 1000, 200)])
    orders.cancel_purchase_order(order, actor=build.user(), reason="Found a cheaper supplier")
    db.session.commit()
    assert order.status == "cancelled" and orders.committed_pence(order) == 0
    assert ledger.available_pence(period) == 100_000


def test_a_part_received_order_cancelled_then_invoiced_and_closed_commits_nothing_left(build, period):
    order = build.purchase_order(lines=[(build.item_type(), 4, 1000, 200)])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 1)], location=build.location(),
                           actor=build.user())
    orders.cancel_purchase_order(order, actor=build.user(), reason="Discontinued")
    assert orders.committed_pence(order) == 1200
    with pytest.raises(orders.OrderNotOpen):  # nothing more can arrive
        receipts.receive_goods(order, lines=None, location=build.location(), actor=build.user())
    db.session.rollback()
    _invoice(order, build)
    assert orders.committed_pence(order) == 0
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    assert order.status == "closed" and ledger.available_pence(period) == 100_000 - 1200
    assert _identity_holds(period)


def test_reversing_an_invoice_of_a_cancelled_order_leaves_it_committing_nothing(build, period):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    invoice = _invoice(order, build, quantity=2)  # nothing received: awaits approval
    invoices.approve_invoice(invoice, actor=build.user(roles=["finance"]), reason="Prepaid, as agreed")
    orders.cancel_purchase_order(order, actor=build.user(), reason="Supplier closed down")
    db.session.commit()
    _reverse_invoice(invoice, build)
    db.session.commit()
    assert (order.status, orders.committed_pence(order)) == ("cancelled", 0)
    assert ledger.available_pence(period) == 100_000
    assert _identity_holds(period)


@pytest.mark.parametrize("which", ["commitment", "closing release"])
def test_an_orders_commitments_and_releases_follow_the_order_and_cannot_be_reversed_by_hand(build, period, which):
    order = build.purchase_order()
    if which == "closing release":
        build.receipt(order)
        _invoice(order, build, net=990, vat=198)  # a little under the order: closing releases the rest
        orders.close_purchase_order(order, actor=build.user())
        db.session.commit()
    entries = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_type == SourceType.PURCHASE_ORDER, LedgerEntry.source_id == order.id,
        LedgerEntry.kind == (EntryKind.COMMITMENT if which == "commitment" else EntryKind.RELEASE))).all()
    with pytest.raises(Conflict) as caught:
        ledger.reverse(entries[-1], reason="Tidying", actor=build.user(roles=["finance"]))
    assert caught.value.code == "commitment_follows_order"


def test_reopening_a_closed_order_is_refused_when_the_budget_cannot_hold_it_and_then_nothing_changes(build):
    period = build.budget_period(allocated_pence=2400)
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    invoice = _invoice(order, build, net=990, vat=198)
    orders.close_purchase_order(order, actor=build.user())
    build.direct_purchase(gross_pence=24)  # the 24 closing released is spent elsewhere
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        _reverse_invoice(invoice, build)
    assert caught.value.code == "budget_exceeded"
    assert "PO-" in caught.value.message
    db.session.rollback()
    assert (invoice.status, order.status, ledger.available_pence(period)) == ("posted", "closed", 0)


# Per budget category ------------------------------------------------------------------------

@pytest.fixture
def two_categories(build, period):
    alarm = build.item_type(name="Alarm", category="personal_alarm")
    light = build.item_type(name="Light", category="pir_light")
    order = build.purchase_order(lines=[(alarm, 2, 1000, 200), (light, 1, 3000, 600)])
    return order, alarm.category_label, light.category_label


def test_raising_commits_one_commitment_per_budget_category(build, two_categories):
    order, alarms, lights = two_categories
    commitments = orders.order_commitments(order)
    assert {c.category: -c.amount_pence for c in commitments} == {alarms: 2400, lights: 3600}


def test_an_invoice_posts_one_actual_per_category_each_releasing_its_own_commitment(build, period, two_categories):
    order, alarms, lights = two_categories
    build.receipt(order)
    invoice = build.invoice(order)
    actuals = invoices.document_entries(invoice)
    assert {(a.category, -a.amount_pence) for a in actuals} == {(alarms, 2400), (lights, 3600)}
    by_category = {c.category: ledger.open_amount_pence(c) for c in orders.order_commitments(order)}
    assert by_category == {alarms: 0, lights: 0}
    assert _identity_holds(period)


def test_reversing_one_actual_of_an_invoice_of_several_categories_reverses_the_whole_invoice(
        build, period, two_categories):
    order, alarms, lights = two_categories
    build.receipt(order)
    invoice = build.invoice(order)
    _reverse_invoice(invoice, build, entry=1)
    db.session.commit()
    assert invoice.status == "reversed"
    assert all(ledger._is_reversed(actual) for actual in invoices.document_entries(invoice))
    assert orders.committed_pence(order) == 6000
    summary = ledger.summary(period)
    assert (summary.actual_pence, summary.committed_pence) == (0, 6000)
    assert _identity_holds(period)


def test_a_credit_note_by_lines_credits_the_category_of_each_line(build, two_categories):
    order, alarms, lights = two_categories
    build.receipt(order)
    invoice = build.invoice(order)
    light_line = invoice.lines[1]
    note = invoices.record_credit_note(invoice, number="CN-1", invoice_date=clock.today(), reason="Light faulty",
                                       actor=build.user(roles=["finance"]),
                                       lines=[CreditLine(light_line.id, 1, 3000, 600)])
    assert [(c.category, c.amount_pence) for c in invoices.document_entries(note)] == [(lights, 3600)]
