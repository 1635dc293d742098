from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from inventory import clock
from inventory.budget import ledger
from inventory.budget.ledger import BudgetExceeded
from inventory.errors import InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.procurement import invoices, orders, receipts
from inventory.procurement.models import InvoiceStatus
from inventory.procurement.invoices import InvoiceLine
from inventory.procurement.orders import OrderLine
from inventory.procurement.receipts import ReceiptLine
from inventory.stock.models import Item
from inventory.stock.queries import stock_levels


def test_a_draft_order_commits_nothing_until_raised_then_its_gross_value(build):
    period = build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(name="Alarm")
    order = build.purchase_order(lines=[(alarm, 3, 1000, 200)], raised=False)
    assert order.status == "draft" and ledger.available_pence(period) == 100_000
    orders.raise_purchase_order(order, actor=build.user(roles=["coordinator"]))
    db.session.commit()
    assert order.status == "raised"
    assert orders.committed_pence(order) == 3600
    assert ledger.available_pence(period) == 100_000 - 3600


def test_raising_an_order_over_budget_is_refused_with_the_shortfall(build):
    period = build.budget_period(allocated_pence=5000)
    order = build.purchase_order(lines=[(build.item_type(), 5, 1000, 200)], raised=False)
    with pytest.raises(BudgetExceeded) as caught:
        orders.raise_purchase_order(order, actor=build.user(roles=["coordinator"]))
    assert caught.value.details == {"available_pence": 5000, "needed_pence": 6000, "shortfall_pence": 1000}
    db.session.rollback()
    assert order.status == "draft" and ledger.available_pence(period) == 5000


@pytest.mark.parametrize("quantity", [0, -1, 10**9, "3", 2.5, True])
def test_an_order_line_with_a_zero_negative_absurd_or_non_whole_quantity_is_refused(build, quantity):
    with pytest.raises(InvalidInput) as caught:
        orders.create_purchase_order(supplier=build.supplier(), actor=build.user(),
                                     lines=[OrderLine(build.item_type().id, quantity, 1000)])
    assert "lines[0].quantity" in caught.value.fields


@pytest.mark.parametrize("net, vat", [(-1, 0), (10**12, 0), (1000, -5)])
def test_an_order_line_with_a_bad_price_is_refused(build, net, vat):
    with pytest.raises(InvalidInput):
        orders.create_purchase_order(supplier=build.supplier(), actor=build.user(),
                                     lines=[OrderLine(build.item_type().id, 1, net, vat)])


def test_receiving_part_then_the_rest_makes_items_with_cost_supplier_order_and_new_codes(build):
    supplier = build.supplier(name="Brightwell")
    alarm, light = build.item_type(name="Alarm"), build.item_type(name="Light", category="pir_light")
    order = build.purchase_order(supplier=supplier, lines=[(alarm, 3, 1000, 200), (light, 1, 3000, 600)])
    store, actor = build.location(), build.user(roles=["coordinator"])
    alarm_line, light_line = order.lines
    first = receipts.receive_goods(order, lines=[ReceiptLine(alarm_line.id, 2, ["S1", "S2"])], location=store,
                                   actor=actor)
    db.session.commit()
    assert order.status == "partly_received"
    items = receipts.receipt_items(first)
    assert [(i.serial_number, i.purchase_cost_pence, i.supplier_id, i.purchase_order_id, i.state) for i in items] == [
        ("S1", 1200, supplier.id, order.id, "in_stock"), ("S2", 1200, supplier.id, order.id, "in_stock")]
    assert len({i.code for i in items}) == 2
    assert {level.item_type: level.on_order for level in stock_levels()} == {"Alarm": 1, "Light": 1}
    receipts.receive_goods(order, lines=None, location=store, actor=actor)
    db.session.commit()
    assert order.status == "received"
    assert {level.item_type: level.on_order for level in stock_levels()} == {"Alarm": 0, "Light": 0}
    assert db.session.scalar(select(func.count(Item.id))) == 4


def test_receiving_more_than_ordered_is_refused_and_nothing_is_received(build):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    with pytest.raises(InvalidInput) as caught:
        receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 3)], location=build.location(),
                               actor=build.user())
    assert caught.value.code == "more_than_ordered"
    assert "lines[0].quantity" in caught.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(Item.id))) == 0


@pytest.mark.parametrize("quantity", [0, -2, 10**6])
def test_receiving_a_zero_negative_or_absurd_quantity_is_refused(build, quantity):
    order = build.purchase_order()
    with pytest.raises(InvalidInput) as caught:
        receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, quantity)],
                               location=build.location(), actor=build.user())
    assert "lines[0].quantity" in caught.value.fields


def test_a_duplicate_serial_number_on_receipt_is_refused(build):
    alarm = build.item_type()
    build.item(item_type=alarm, serial_numbers=["SN-1"])
    order = build.purchase_order(lines=[(alarm, 2, 1000, 200)])
    line = order.lines[0].id
    for serials in (["SN-2", "SN-2"], ["SN-1"]):
        with pytest.raises(InvalidInput) as caught:
            receipts.receive_goods(order, lines=[ReceiptLine(line, 2, serials)], location=build.location(),
                                   actor=build.user())
        assert "lines[0].serial_numbers" in caught.value.fields
        db.session.rollback()


def test_the_database_refuses_more_received_than_ordered(build):
    build.purchase_order()
    with pytest.raises((IntegrityError, DBAPIError)):
        db.session.execute(text("UPDATE purchase_order_lines SET quantity_received = quantity_ordered + 1"))
    db.session.rollback()


def test_a_draft_order_cannot_be_received(build):
    order = build.purchase_order(raised=False)
    with pytest.raises(orders.OrderNotOpen):
        receipts.receive_goods(order, lines=None, location=build.location(), actor=build.user())


def test_cancelling_after_a_part_delivery_calls_off_the_rest_and_awaits_the_invoice_for_what_came(build):
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(), 4, 1000, 200)])
    actor = build.user(roles=["coordinator"])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 1)], location=build.location(),
                           actor=actor)
    orders.cancel_purchase_order(order, actor=actor, reason="Supplier out of stock")
    db.session.commit()
    assert (order.status, order.cancel_reason) == ("received", "Supplier out of stock")
    assert orders.committed_pence(order) == 1200  # the unit that came, until its invoice
    assert ledger.available_pence(period) == 100_000 - 1200
    assert {level.on_order for level in stock_levels()} == {0}


def test_a_cancellation_needs_a_reason(build):
    order = build.purchase_order()
    with pytest.raises(InvalidInput):
        orders.cancel_purchase_order(order, actor=build.user(), reason=" ")


def _invoice(order, build, *, number="INV-1", quantity=None, net=1000, vat=200, actor=None):
    line = order.lines[0]
    return invoices.record_invoice(
        order, number=number, invoice_date=clock.today(), actor=actor or build.user(roles=["finance"]),
        lines=[InvoiceLine(line.id, quantity or line.quantity_received, net, vat)])


def test_an_invoice_within_tolerance_posts_the_actual_and_releases_the_commitment(build):
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    invoice = _invoice(order, build, net=1010, vat=202)  # 1% dearer: within the 2% tolerance
    db.session.commit()
    assert (invoice.status, invoice.mismatches, invoice.gross_pence) == ("posted", [], 2424)
    assert orders.committed_pence(order) == 0
    summary = ledger.summary(period)
    assert (summary.actual_pence, summary.committed_pence, summary.available_pence) == (2424, 0, 100_000 - 2424)


def test_an_invoice_outside_tolerance_waits_for_finance_to_approve_it_with_a_reason(build):
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(name="Doorbell"), 2, 1000, 200)])
    build.receipt(order)
    invoice = _invoice(order, build, net=1100, vat=220)
    db.session.commit()
    assert invoice.status == "awaiting_approval"
    assert "beyond the 2% tolerance" in invoice.mismatches[0]["problem"]
    assert ledger.summary(period).actual_pence == 0
    with pytest.raises(NotAllowed):
        invoices.approve_invoice(invoice, actor=build.user(roles=["coordinator"]), reason="ok")
    with pytest.raises(InvalidInput):
        invoices.approve_invoice(invoice, actor=build.user(roles=["finance"]), reason="")
    finance = build.user(roles=["finance"])
    invoices.approve_invoice(invoice, actor=finance, reason="Supplier's price rise agreed by phone")
    db.session.commit()
    assert (invoice.status, invoice.approved_by_id) == (InvoiceStatus.POSTED, finance.id)
    assert ledger.summary(period).actual_pence == 2640


def test_invoicing_more_than_was_received_is_a_mismatch(build):
    order = build.purchase_order(lines=[(build.item_type(name="Lock"), 4, 1000, 200)])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 1)], location=build.location(),
                           actor=build.user())
    invoice = _invoice(order, build, quantity=3)
    assert invoice.status == "awaiting_approval"
    assert invoice.mismatches == [{"line_id": order.lines[0].id,
                                   "problem": "Lock: 3 invoiced in all, but only 1 received."}]


def test_the_same_supplier_invoice_number_cannot_be_recorded_twice(build):
    order = build.purchase_order()
    build.receipt(order)
    _invoice(order, build, quantity=1)
    with pytest.raises(InvalidInput) as caught:
        _invoice(order, build, quantity=1)
    assert caught.value.code == "duplicate_invoice"


def test_a_credit_note_gives_money_back_to_the_budget(build):
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order()
    build.receipt(order)
    invoice = _invoice(order, build)
    before = ledger.available_pence(period)
    note = invoices.record_credit_note(invoice, number="CN-1", invoice_date=clock.today(), net_pence=1000,
                                       vat_pence=200, reason="One unit faulty, returned",
                                       actor=build.user(roles=["finance"]))
    db.session.commit()
    assert note.status == "posted" and ledger.available_pence(period) == before + 1200


def test_closing_a_received_order_releases_what_the_invoices_did_not_use(build):
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    _invoice(order, build, net=990, vat=198)
    orders.close_purchase_order(order, actor=build.user())
    db.session.commit()
    assert order.status == "closed" and orders.committed_pence(order) == 0
    assert ledger.available_pence(period) == 100_000 - 2376


def test_an_invoice_needs_a_number_and_a_date(build):
    order = build.purchase_order()
    with pytest.raises(InvalidInput) as caught:
        invoices.record_invoice(order, number="", invoice_date=date(2026, 1, 1), lines=[], actor=build.user())
    assert "number" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        invoices.record_invoice(order, number="X", invoice_date="yesterday", lines=[], actor=build.user())
    assert "invoice_date" in caught.value.fields
