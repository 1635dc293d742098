"""Races on real PostgreSQL connections around orders raised for requests: whatever wins,
each pound ends in exactly one state."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.extensions import db
from inventory.procurement import orders
from inventory.procurement.models import PurchaseOrder
from inventory.requests import operations as requests
from inventory.requests.models import EquipmentRequest
from inventory.requests.transitions import Action
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


def open_for(source_type: str, source_id: int) -> int:
    return sum(ledger.open_amount_pence(entry) for entry in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == EntryKind.COMMITMENT, LedgerEntry.source_type == source_type,
        LedgerEntry.source_id == source_id)))


def released_from_request(request_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0)).where(
        LedgerEntry.kind == EntryKind.RELEASE, LedgerEntry.source_type == SourceType.REQUEST,
        LedgerEntry.source_id == request_id))


def raise_order(order_id, user_id):
    return lambda: orders.raise_purchase_order(db.session.get(PurchaseOrder, order_id),
                                               actor=db.session.get(User, user_id))


def withdraw(request_id, user_id):
    return lambda: requests.take_action(request_id, Action.WITHDRAW, note=None, actor=db.session.get(User, user_id))


@pytest.mark.parametrize("attempt", range(3))
def test_a_request_withdrawn_as_its_order_is_raised_leaves_only_the_orders_commitment(app, build, attempt):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)], budget_pence=20_000)
    order = build.order_for_request(request, unit_net_pence=3000, raised=False)
    request_id, order_id = request.id, order.id
    caseworker_id, coordinator_id = request.raised_by_id, build.user(roles=["coordinator"]).id

    outcomes = run_at_once(app, [withdraw(request_id, caseworker_id), raise_order(order_id, coordinator_id)])

    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    assert db.session.get(EquipmentRequest, request_id).state == "withdrawn"
    assert db.session.get(PurchaseOrder, order_id).status == "raised"
    assert (open_for(SourceType.REQUEST, request_id), open_for(SourceType.PURCHASE_ORDER, order_id)) == (0, 6000)
    assert released_from_request(request_id) == 5000  # released once, by whichever came first
    summary = ledger.summary()
    assert (summary.committed_pence, summary.available_pence) == (6000, 20_000 - 6000)


def test_two_orders_for_the_same_shortfall_raised_at_once_convert_it_once(app, build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)], budget_pence=20_000)
    orders = [build.order_for_request(request, raised=False) for _ in range(2)]
    people = [build.user(roles=["coordinator"]).id for _ in orders]

    outcomes = run_at_once(app, [raise_order(order.id, person) for order, person in zip(orders, people, strict=True)])

    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    assert open_for(SourceType.REQUEST, request.id) == 0
    assert released_from_request(request.id) == 5000
    assert ledger.summary().committed_pence == 10_000  # both orders; the request's need once, inside them


@pytest.mark.parametrize("attempt", range(3))
def test_a_request_withdrawn_as_its_order_is_cancelled_gets_nothing_committed_again(app, build, attempt):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)], budget_pence=20_000)
    order = build.order_for_request(request)
    request_id, order_id = request.id, order.id
    caseworker_id, coordinator_id = request.raised_by_id, build.user(roles=["coordinator"]).id

    def cancel():
        orders.cancel_purchase_order(db.session.get(PurchaseOrder, order_id),
                                     actor=db.session.get(User, coordinator_id), reason="Not needed")

    outcomes = run_at_once(app, [withdraw(request_id, caseworker_id), cancel])

    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    assert (open_for(SourceType.REQUEST, request_id), open_for(SourceType.PURCHASE_ORDER, order_id)) == (0, 0)
    summary = ledger.summary()
    assert (summary.committed_pence, summary.available_pence) == (0, 20_000)
