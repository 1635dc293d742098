"""Random sequences of approvals, orders for requests (raised, received, cancelled), goods
from elsewhere and withdrawals keep every pound in exactly one state (Hypothesis, stateful).

After every step: allocated = available + committed + spent; each request has committed
exactly the standard cost of its units awaiting stock that no open order is bringing; each
order has committed exactly the value of its units not yet invoiced (nothing is invoiced
here) or, once cancelled, of those received; and nothing else is committed.
"""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.procurement import orders, receipts
from inventory.procurement.models import (
    OPEN_FOR_RECEIPT,
    PurchaseOrder,
    PurchaseOrderStatus,
)
from inventory.requests import operations as requests
from inventory.requests.holdings import HOLDING_STATES
from inventory.requests.models import EquipmentRequest
from inventory.requests.transitions import Action
from inventory.stock.receiving import NewUnits, receive_units

AVAILABLE = 15_000
kinds = st.integers(min_value=0, max_value=2)
quantities = st.integers(min_value=1, max_value=3)
prices = st.sampled_from([1500, 2500, 3500])


def _open_by_source() -> dict[tuple[str, int], int]:
    opened: dict[tuple[str, int], int] = {}
    for commitment in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.COMMITMENT)):
        key = (commitment.source_type, commitment.source_id)
        opened[key] = opened.get(key, 0) + ledger.open_amount_pence(commitment)
    return opened


def _request_should_hold(request: EquipmentRequest, orders: list[PurchaseOrder]) -> int:
    if request.state_enum not in HOLDING_STATES:
        return 0
    total = 0
    for line in request.lines:
        coming = sum(po_line.outstanding for order in orders if order.status in OPEN_FOR_RECEIPT
                     for po_line in order.lines if po_line.request_line_id == line.id)
        total += max(line.awaiting_quantity - coming, 0) * line.item_type.standard_cost_pence
    return total


def _order_should_hold(order: PurchaseOrder) -> int:
    if order.status == PurchaseOrderStatus.DRAFT:
        return 0
    # Once cancelled (wholly, or the rest after a part delivery), only what came is still owed.
    return sum((line.quantity_received if order.rest_cancelled else line.quantity_ordered) * line.unit_gross_pence
               for line in order.lines)


def test_random_histories_of_orders_for_requests_never_count_money_twice(app, build):
    build.budget_period()
    finance, coordinator = build.user(roles=["finance"]), build.user(roles=["coordinator"])
    supplier, store = build.supplier(), build.location()
    caseworker = build.caseworker()
    case = build.case(caseworker=caseworker)

    class Machine(RuleBasedStateMachine):
        @initialize()
        def start_afresh(self):
            """Item types of its own and 15,000 available, so that what earlier examples left
            behind (stock, requests, orders) cannot change what this one does."""
            db.session.rollback()  # a failed example may leave the session mid-transaction
            self.item_types = [build.item_type(category="personal_alarm", standard_cost_pence=2500),
                               build.item_type(category="personal_alarm", standard_cost_pence=2000),
                               build.item_type(category="pir_light", standard_cost_pence=3000)]
            available = ledger.summary().available_pence
            if available < AVAILABLE:
                ledger.allocate(ledger.current_period(), AVAILABLE - available, actor=finance, memo="Funding")
            elif available > AVAILABLE:
                ledger.adjust(AVAILABLE - available, on=clock.today(), actor=finance, reason="Start afresh")
            db.session.commit()
            self.request_ids, self.order_ids = [], []

        def attempt(self, action) -> bool:
            try:
                action()
                db.session.commit()
                return True
            except DomainError:
                db.session.rollback()
                return False

        @rule(kind=kinds, quantity=quantities)
        def approve_a_request(self, kind, quantity):
            raised = build.equipment_request(case=case, caseworker=caseworker,
                                             lines=[(self.item_types[kind], quantity)])
            if self.attempt(lambda: requests.approve_request(raised.id, actor=coordinator)):
                self.request_ids.append(raised.id)

        @precondition(lambda self: self.request_ids)
        @rule(data=st.data(), quantity=quantities, price=prices)
        def order_for_a_request(self, data, quantity, price):
            request = db.session.get(EquipmentRequest, data.draw(st.sampled_from(self.request_ids)))
            line = request.lines[0]
            order = orders.create_purchase_order(supplier=supplier, actor=coordinator, lines=[
                orders.OrderLine(line.item_type_id, quantity, price, request_line_id=line.id)])
            db.session.commit()
            self.order_ids.append(order.id)
            self.attempt(lambda: orders.raise_purchase_order(order, actor=coordinator))

        @rule(kind=kinds, quantity=quantities)
        def order_for_stock(self, kind, quantity):
            order = orders.create_purchase_order(supplier=supplier, actor=coordinator, lines=[
                orders.OrderLine(self.item_types[kind].id, quantity, 2500)])
            db.session.commit()
            self.order_ids.append(order.id)
            self.attempt(lambda: orders.raise_purchase_order(order, actor=coordinator))

        def open_orders(self):
            return [i for i in self.order_ids if db.session.get(PurchaseOrder, i).status in OPEN_FOR_RECEIPT]

        @precondition(lambda self: self.open_orders())
        @rule(data=st.data(), quantity=quantities)
        def receive(self, data, quantity):
            order = db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.open_orders())))
            line = order.lines[0]
            self.attempt(lambda: receipts.receive_goods(order, lines=[
                receipts.ReceiptLine(line.id, min(quantity, line.outstanding))], location=store, actor=coordinator))

        @precondition(lambda self: self.open_orders())
        @rule(data=st.data())
        def cancel(self, data):
            order = db.session.get(PurchaseOrder, data.draw(st.sampled_from(self.open_orders())))
            self.attempt(lambda: orders.cancel_purchase_order(order, actor=coordinator, reason="Changed"))

        @rule(kind=kinds)
        def goods_from_elsewhere(self, kind):
            self.attempt(lambda: receive_units(NewUnits(item_type=self.item_types[kind], quantity=1, location=store),
                                               actor=coordinator))

        @precondition(lambda self: self.request_ids)
        @rule(data=st.data())
        def withdraw(self, data):
            request = db.session.get(EquipmentRequest, data.draw(st.sampled_from(self.request_ids)))
            self.attempt(lambda: requests.take_action(request.id, Action.WITHDRAW, note=None,
                                                      actor=request.raised_by))

        @invariant()
        def every_pound_is_in_exactly_one_state(self):
            totals = ledger.summary()
            assert totals.allocated_pence == totals.available_pence + totals.committed_pence + totals.actual_pence
            orders = list(db.session.scalars(select(PurchaseOrder)))
            opened = _open_by_source()
            for request in db.session.scalars(select(EquipmentRequest)):
                assert opened.get((SourceType.REQUEST, request.id), 0) == _request_should_hold(request, orders), \
                    f"request {request.id}"
            for order in orders:
                assert opened.get((SourceType.PURCHASE_ORDER, order.id), 0) == _order_should_hold(order), \
                    f"{order.reference} {order.status}"
            assert totals.committed_pence == sum(opened.values())

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=10, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))
