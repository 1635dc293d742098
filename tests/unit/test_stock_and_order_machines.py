"""The item, purchase order and invoice state machines as data, without a database: which
steps each state allows, and how a refusal names the record."""
from dataclasses import dataclass

import pytest

from inventory.procurement.invoices import INVOICE_MACHINE, InvoiceAction, InvoiceDecided
from inventory.procurement.models import InvoiceKind, InvoiceStatus, PurchaseOrder, PurchaseOrderStatus, SupplierInvoice
from inventory.procurement.orders import ORDER_MACHINE, OrderAction, OrderNotOpen
from inventory.stock.models import ItemEventKind, ItemState
from inventory.stock.operations import ITEM_MACHINE, ItemNotAvailable

K, S, A, P = ItemEventKind, ItemState, OrderAction, PurchaseOrderStatus


@dataclass
class FakeItem:
    state: str
    id: int = 7
    code: str = "ABCD-EFGH-JKLM-N"


def an_order(status: str) -> PurchaseOrder:
    return PurchaseOrder(id=12, status=status)  # never added to a session


def an_invoice(status: str, kind: str = InvoiceKind.INVOICE) -> SupplierInvoice:
    return SupplierInvoice(id=3, status=status, kind=kind)  # never added to a session


@pytest.mark.parametrize("state, issuable", [
    (S.ON_ORDER, False), (S.IN_STOCK, True), (S.RESERVED, True), (S.ISSUED, False), (S.RETURNED, False),
    (S.QUARANTINE, False), (S.WRITTEN_OFF, False),
])
def test_only_a_unit_on_the_shelf_or_set_aside_can_be_issued(state, issuable):
    assert ITEM_MACHINE.allows(state, K.ISSUED) is issuable


def test_anything_not_yet_written_off_can_be_written_off_and_only_a_written_off_unit_found():
    assert ITEM_MACHINE.actions_from(S.WRITTEN_OFF) == [K.FOUND, K.CODE_REPLACED]
    assert all(ITEM_MACHINE.allows(state, K.WRITTEN_OFF) for state in set(ItemState) - {S.WRITTEN_OFF})


def test_an_item_step_the_table_refuses_names_the_item_its_state_and_the_step():
    with pytest.raises(ItemNotAvailable) as refused:
        ITEM_MACHINE.check(FakeItem(S.ISSUED), K.RESERVED)
    assert refused.value.message == "Item ABCD-EFGH-JKLM-N is issued, so it cannot be reserved."
    assert refused.value.details == {"item_id": 7, "state": "issued", "action": "reserved"}


@pytest.mark.parametrize("action, allowed_from", [
    (A.RAISE, {P.DRAFT}),
    (A.RECEIVE, {P.RAISED, P.PARTLY_RECEIVED}),
    (A.CANCEL, {P.DRAFT, P.RAISED}),
    (A.CANCEL_REST, {P.PARTLY_RECEIVED}),
    (A.CLOSE, {P.RECEIVED}),
    (A.REOPEN, {P.CLOSED}),
    (A.INVOICE, {P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED}),
    (A.CREDIT, {P.RAISED, P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED, P.CLOSED}),
])
def test_each_order_action_is_allowed_from_exactly_its_states(action, allowed_from):
    assert {state for state in PurchaseOrderStatus if ORDER_MACHINE.allows(state, action)} == allowed_from


def test_receiving_the_last_goods_outstanding_leaves_the_order_received_and_the_rest_partly():
    order = an_order(P.RAISED)
    ORDER_MACHINE.apply(order, A.RECEIVE)
    assert order.status == P.PARTLY_RECEIVED
    ORDER_MACHINE.apply(order, A.RECEIVE_LAST)
    assert order.status == P.RECEIVED


def test_an_order_refusal_keeps_its_code_and_says_what_could_not_be_done():
    with pytest.raises(OrderNotOpen) as refused:
        ORDER_MACHINE.check(an_order(P.DRAFT), A.RECEIVE)
    assert refused.value.code == "purchase_order_state"
    assert refused.value.message == "PO-00012 is draft, so it cannot be received against."
    assert refused.value.details["status"] == "draft"


def test_cancelling_an_order_with_goods_received_leaves_it_received_and_a_reversal_reopens_a_closed_one():
    order = an_order(P.PARTLY_RECEIVED)
    ORDER_MACHINE.apply(order, A.CANCEL_REST)
    assert order.status == P.RECEIVED
    ORDER_MACHINE.apply(order, A.CLOSE)
    ORDER_MACHINE.apply(order, A.REOPEN)
    assert order.status == P.RECEIVED


def test_a_posted_invoice_or_credit_note_is_reversed_once():
    for kind, name in ((InvoiceKind.INVOICE, "invoice"), (InvoiceKind.CREDIT_NOTE, "credit note")):
        document = an_invoice(InvoiceStatus.POSTED, kind)
        INVOICE_MACHINE.apply(document, InvoiceAction.REVERSE)
        assert document.status == InvoiceStatus.REVERSED
        with pytest.raises(InvoiceDecided) as refused:
            INVOICE_MACHINE.apply(document, InvoiceAction.REVERSE)
        assert refused.value.message == f"This {name} is already reversed."


def test_an_invoice_posts_once():
    invoice = an_invoice(InvoiceStatus.AWAITING_APPROVAL)
    INVOICE_MACHINE.apply(invoice, InvoiceAction.POST)
    assert invoice.status == InvoiceStatus.POSTED
    with pytest.raises(InvoiceDecided) as refused:
        INVOICE_MACHINE.apply(invoice, InvoiceAction.POST)
    assert (refused.value.code, refused.value.message) == ("already_decided", "This invoice is already posted.")
