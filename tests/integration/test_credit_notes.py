"""Credit notes and refunds give back no more than was spent: per invoice, per invoice line,
and per direct purchase, less what standing credits already gave back."""
import pytest
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget import operations as budget
from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry, SourceType
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.procurement import invoices
from inventory.procurement.invoices import CreditExceedsInvoiced, CreditLine, InvoiceLine
from inventory.procurement.models import InvoiceStatus, SupplierInvoice


def _credit(invoice, build, *, number="CN-1", net=None, vat=None, lines=None):
    return invoices.record_credit_note(invoice, number=number, invoice_date=clock.today(), reason="Returned",
                                       actor=build.user(roles=["finance"]), net_pence=net, vat_pence=vat, lines=lines)


@pytest.fixture
def invoiced(build):
    """An order for 2 × £10 + £2 VAT, received and invoiced: £24.00."""
    period = build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(name="Alarm"), 2, 1000, 200)])
    build.receipt(order)
    return period, order, build.invoice(order, number="INV-1")


def test_a_credit_note_up_to_what_the_invoice_charged_gives_the_money_back(build, invoiced):
    period, _, invoice = invoiced
    before = ledger.available_pence(period)
    _credit(invoice, build, number="CN-1", net=1500, vat=300)
    _credit(invoice, build, number="CN-2", net=500, vat=100)
    db.session.commit()
    assert ledger.available_pence(period) == before + 2400


def test_a_credit_beyond_what_the_invoice_charged_less_what_was_credited_is_refused_with_the_figures(
        build, invoiced):
    period, _, invoice = invoiced
    _credit(invoice, build, number="CN-1", net=1000, vat=200)
    db.session.commit()
    before = ledger.available_pence(period)
    with pytest.raises(CreditExceedsInvoiced) as caught:
        _credit(invoice, build, number="CN-2", net=500_000, vat=0)
    assert caught.value.code == "credit_exceeds_invoiced" and caught.value.status == 409
    assert caught.value.details == {
        "invoice_id": invoice.id, "invoiced_pence": 2400, "credited_pence": 1200, "creditable_pence": 1200,
        "creditable_net_pence": 1000, "creditable_vat_pence": 200, "requested_pence": 500_000}
    assert "at most £12.00 more" in caught.value.message
    db.session.rollback()
    assert ledger.available_pence(period) == before
    assert db.session.scalar(select(SupplierInvoice).where(SupplierInvoice.number == "CN-2")) is None


def test_net_and_vat_are_bounded_each_so_vat_never_comes_back_beyond_what_was_charged(build, invoiced):
    _, _, invoice = invoiced
    with pytest.raises(CreditExceedsInvoiced):
        _credit(invoice, build, net=0, vat=401)  # within the gross, beyond the VAT charged


def test_a_credit_by_lines_is_bounded_by_each_invoice_line(build):
    build.budget_period(allocated_pence=100_000)
    alarm, light = build.item_type(name="Alarm"), build.item_type(name="Light")
    order = build.purchase_order(lines=[(alarm, 2, 1000, 200), (light, 1, 3000, 600)])
    build.receipt(order)
    invoice = build.invoice(order)
    alarm_line, light_line = invoice.lines
    _credit(invoice, build, number="CN-1", lines=[CreditLine(alarm_line.id, 1, 1000, 200)])
    db.session.commit()
    # One alarm is left to credit: a second unit, or more money than the line charged, is refused,
    # though the invoice as a whole could still take it.
    for wanted in (CreditLine(alarm_line.id, 2, 500, 100), CreditLine(alarm_line.id, 1, 2000, 400)):
        with pytest.raises(CreditExceedsInvoiced) as caught:
            _credit(invoice, build, number="CN-2", lines=[wanted])
        assert caught.value.details["invoice_line_id"] == alarm_line.id
        assert (caught.value.details["creditable_quantity"], caught.value.details["creditable_pence"]) == (1, 1200)
        db.session.rollback()
    note = _credit(invoice, build, number="CN-3", lines=[CreditLine(alarm_line.id, 1, 1000, 200),
                                                         CreditLine(light_line.id, 1, 3000, 600)])
    assert (note.net_pence, note.vat_pence, note.status) == (4000, 800, "posted")


def test_a_credit_line_must_be_a_line_of_the_invoice_credited(build, invoiced):
    _, _, invoice = invoiced
    with pytest.raises(InvalidInput) as caught:
        _credit(invoice, build, lines=[CreditLine(invoice.lines[0].id + 999, 1, 100, 0)])
    assert "lines[0].invoice_line_id" in caught.value.fields


def test_only_a_posted_invoice_can_be_credited(build):
    build.budget_period(allocated_pence=100_000)
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    build.receipt(order)
    awaiting = invoices.record_invoice(order, number="INV-9", invoice_date=clock.today(), actor=build.user(),
                                       lines=[InvoiceLine(order.lines[0].id, 2, 1500, 300)])  # beyond tolerance
    assert awaiting.status == InvoiceStatus.AWAITING_APPROVAL
    with pytest.raises(Conflict) as caught:
        _credit(awaiting, build, net=100, vat=0)
    assert caught.value.code == "invoice_not_posted"


def test_a_reversed_credit_note_no_longer_counts_against_the_bound(build, invoiced):
    period, _, invoice = invoiced
    note = _credit(invoice, build, number="CN-1", net=2000, vat=400)
    db.session.commit()
    credit = invoices.document_entries(note)[0]
    ledger.reverse(credit, reason="Entered against the wrong invoice", actor=build.user(roles=["finance"]))
    db.session.commit()
    assert note.status == InvoiceStatus.REVERSED and note.reversed_at is not None
    _credit(invoice, build, number="CN-2", net=2000, vat=400)
    db.session.commit()


def test_a_credit_without_lines_on_an_invoice_of_several_categories_is_shared_in_proportion(build):
    build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(name="Alarm", category="personal_alarm")
    light = build.item_type(name="Light", category="pir_light")
    order = build.purchase_order(lines=[(alarm, 1, 1000, 200), (light, 1, 3000, 600)])
    build.receipt(order)
    invoice = build.invoice(order)
    note = _credit(invoice, build, net=1001, vat=0)
    credits = {entry.category: entry.amount_pence for entry in invoices.document_entries(note)}
    assert sum(credits.values()) == 1001
    assert credits == {alarm.category_label: 250, light.category_label: 751}


# Refunds of direct purchases ------------------------------------------------------------------

@pytest.fixture
def purchase(build):
    period = build.budget_period(allocated_pence=100_000)
    entry = build.direct_purchase(gross_pence=4500, vat_pence=750)
    return period, db.session.get(DirectPurchase, entry.source_id), entry


def _refund(purchase, build, *, net, vat, on=None):
    return budget.refund_direct_purchase(purchase, on=on or clock.today(), net_pence=net, vat_pence=vat,
                                         reason="Faulty, taken back", actor=build.user(roles=["finance"]))


def test_a_refund_of_a_direct_purchase_is_a_credit_in_its_category_up_to_what_it_cost(build, purchase):
    period, bought, _ = purchase
    before = ledger.available_pence(period)
    entry = _refund(bought, build, net=3750, vat=750)
    db.session.commit()
    assert (entry.kind, entry.source_type, entry.source_id, entry.category) == (
        EntryKind.CREDIT, SourceType.DIRECT_PURCHASE, bought.id, bought.category)
    assert ledger.available_pence(period) == before + 4500
    with pytest.raises(budget.RefundExceedsPurchase) as caught:
        _refund(bought, build, net=1, vat=0)
    assert caught.value.details["refundable_pence"] == 0 and caught.value.code == "refund_exceeds_purchase"


def test_a_refund_beyond_the_purchase_less_refunds_already_made_is_refused(build, purchase):
    _, bought, _ = purchase
    _refund(bought, build, net=2000, vat=0)
    db.session.commit()
    with pytest.raises(budget.RefundExceedsPurchase) as caught:
        _refund(bought, build, net=2000, vat=0)
    assert caught.value.details == {
        "direct_purchase_id": bought.id, "purchase_pence": 4500, "refunded_pence": 2000, "refundable_pence": 2500,
        "refundable_net_pence": 1750, "refundable_vat_pence": 750, "requested_pence": 2000}


@pytest.mark.parametrize("net, vat, on, field", [
    (0, 0, None, "net_pence"), (-5, 0, None, "net_pence"), (100, 0, "tomorrow", "on"), (100, "1", None, "vat_pence"),
])
def test_a_refund_with_bad_amounts_or_a_future_date_is_refused_naming_the_field(build, purchase, net, vat, on, field):
    from datetime import timedelta
    _, bought, _ = purchase
    day = clock.today() + timedelta(days=1) if on == "tomorrow" else None
    with pytest.raises(InvalidInput) as caught:
        _refund(bought, build, net=net, vat=vat, on=day)
    assert field in caught.value.fields


def test_a_reversed_purchase_cannot_be_refunded_nor_a_refunded_one_reversed(build, purchase):
    _, bought, entry = purchase
    finance = build.user(roles=["finance"])
    refund = _refund(bought, build, net=1000, vat=0)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        ledger.reverse(entry, reason="Wrong", actor=finance)
    assert caught.value.code == "purchase_refunded"
    db.session.rollback()
    ledger.reverse(refund, reason="Refund entered twice", actor=finance)
    ledger.reverse(db.session.get(LedgerEntry, entry.id), reason="Wrong", actor=finance)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        _refund(bought, build, net=1000, vat=0)
    assert caught.value.code == "purchase_reversed"
