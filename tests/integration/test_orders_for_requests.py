"""A purchase order raised for a request's shortfall converts the request's commitment:
the same need is never committed twice, whatever arrives, is cancelled or is withdrawn."""
import pytest
from sqlalchemy import func, select

from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.jobs.completion import Completion, complete_job
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.procurement import orders, receipts
from inventory.procurement.orders import OrderLine
from inventory.procurement.receipts import ReceiptLine
from inventory.requests import holdings
from inventory.requests import operations as requests
from inventory.requests.transitions import Action
from inventory.stock.models import Item, ItemState
from inventory.stock.receiving import NewUnits, receive_units


def request_open(request) -> int:
    """What the request still has committed, all categories."""
    return sum(holdings.open_pence(request, category)
               for category in {line.item_type.category_label for line in request.lines})


def committed() -> int:
    return ledger.summary().committed_pence


def releases() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == EntryKind.RELEASE))


def arrive(build, item_type, quantity=1):
    """Units from elsewhere (not on an order for a request) put into stock by a coordinator."""
    receive_units(NewUnits(item_type=item_type, quantity=quantity, location=build.location()),
                  actor=build.user(roles=["coordinator"]))
    db.session.commit()


def test_raising_an_order_for_a_requests_shortfall_converts_its_commitment_once(build):
    alarm = build.item_type(name="Alarm", standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)], budget_pence=100_000)
    assert (request_open(request), committed()) == (7500, 7500)
    order = build.order_for_request(request)
    assert request_open(request) == 0
    assert orders.committed_pence(order) == 7500
    summary = ledger.summary()
    assert (summary.committed_pence, summary.available_pence) == (7500, 100_000 - 7500)
    memo = db.session.scalar(select(LedgerEntry.memo).where(LedgerEntry.kind == EntryKind.RELEASE))
    assert memo == f"Request {request.id}: converted to {order.reference}"


def test_an_order_for_a_shortfall_already_committed_is_not_refused_for_want_of_budget(build):
    """7,500 committed for the request leaves 2,500 available; the order costs 9,000 and fits
    only because raising it frees the request's 7,500 first."""
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)], budget_pence=10_000)
    unlinked = build.purchase_order(lines=[(alarm, 3, 3000, 0)], raised=False)
    with pytest.raises(ledger.BudgetExceeded):
        orders.raise_purchase_order(unlinked, actor=build.user(roles=["coordinator"]))
    db.session.rollback()
    order = build.order_for_request(request, unit_net_pence=3000)
    assert order.status == "raised"
    assert (request_open(request), ledger.summary().available_pence) == (0, 1000)


def test_the_price_above_standard_cost_still_needs_budget(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)], budget_pence=5500)
    order = build.order_for_request(request, unit_net_pence=2500, unit_vat_pence=500, raised=False)
    with pytest.raises(ledger.BudgetExceeded) as refused:
        orders.raise_purchase_order(order, actor=build.user(roles=["coordinator"]))
    assert refused.value.details["shortfall_pence"] == 500
    db.session.rollback()
    assert (request_open(request), ledger.summary().available_pence) == (5000, 500)


def test_units_already_on_another_raised_order_for_the_line_are_not_converted_again(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)])
    build.order_for_request(request, quantity=2)
    assert request_open(request) == 2500
    second = build.order_for_request(request, quantity=2)
    assert request_open(request) == 0
    assert committed() == 5000 + orders.committed_pence(second) == 5000 + 5000


def test_goods_on_a_linked_order_go_to_that_request_first_and_release_nothing_more(build):
    alarm = build.item_type(standard_cost_pence=2500)
    ordered_for = build.awaiting_request(lines=[(alarm, 2)])
    urgent = build.awaiting_request(lines=[(alarm, 2)], case=build.case(risk_level="high"))
    assert urgent.priority_key > ordered_for.priority_key
    order = build.order_for_request(ordered_for)
    before = (committed(), ledger.summary().available_pence, releases())
    build.receipt(order)
    assert {line.reserved_quantity for line in ordered_for.lines} == {2}
    assert {line.reserved_quantity for line in urgent.lines} == {0}
    assert (committed(), ledger.summary().available_pence, releases()) == before
    assert (request_open(ordered_for), request_open(urgent)) == (0, 5000)


def test_units_from_elsewhere_never_release_money_already_converted(build):
    """Two lines in one category share the request's commitment: a unit for the converted
    line arriving from elsewhere must not release the other line's money."""
    alarm = build.item_type(name="Alarm", category="personal_alarm", standard_cost_pence=2500)
    pendant = build.item_type(name="Pendant alarm", category="personal_alarm", standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 1), (pendant, 1)])
    alarm_line = next(line for line in request.lines if line.item_type_id == alarm.id)
    order = build.purchase_order(lines=[(alarm, 1, 2500, 0)], raised=False)
    order.lines[0].request_line_id = alarm_line.id
    db.session.commit()
    orders.raise_purchase_order(order, actor=build.user(roles=["coordinator"]))
    db.session.commit()
    assert request_open(request) == 2500  # the pendant's
    arrive(build, alarm)  # a unit from another source goes to the request
    assert alarm_line.reserved_quantity == 1
    assert request_open(request) == 2500
    build.receipt(order)  # the ordered unit is no longer awaited: it stays in stock
    assert request_open(request) == 2500
    assert db.session.scalar(select(func.count()).where(Item.item_type_id == alarm.id,
                                                        Item.state == ItemState.IN_STOCK)) == 1
    arrive(build, pendant)
    assert request_open(request) == 0


def test_an_order_for_part_of_the_shortfall_leaves_the_rest_committed_to_the_request(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)])
    order = build.order_for_request(request, quantity=2)
    actor = build.user(roles=["coordinator"])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 1)], location=build.location(),
                           actor=actor)
    db.session.commit()
    assert (request.lines[0].reserved_quantity, request_open(request)) == (1, 2500)
    arrive(build, alarm)  # from elsewhere: releases the uncovered unit's money
    assert (request.lines[0].reserved_quantity, request_open(request)) == (2, 0)
    build.receipt(order)
    assert (request.lines[0].reserved_quantity, request_open(request)) == (3, 0)
    assert committed() == orders.committed_pence(order) == 5000  # until its invoice


def test_cancelling_a_linked_order_commits_the_still_awaited_units_to_the_request_again(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)], budget_pence=20_000)
    order = build.order_for_request(request, unit_net_pence=2000)
    actor = build.user(roles=["coordinator"])
    receipts.receive_goods(order, lines=[ReceiptLine(order.lines[0].id, 1)], location=build.location(),
                           actor=actor)
    orders.cancel_purchase_order(order, actor=actor, reason="Supplier out of stock")
    db.session.commit()
    assert request_open(request) == 5000  # the two units still awaited, at standard cost
    assert orders.committed_pence(order) == 2000  # the unit that came, until its invoice
    assert committed() == 7000
    assert ledger.summary().available_pence == 20_000 - 7000


def test_a_cancel_whose_recommitment_the_budget_cannot_hold_is_refused_whole(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 3)], budget_pence=10_000)
    order = build.order_for_request(request, unit_net_pence=1000)  # cheaper than standard
    build.purchase_order(lines=[(build.item_type(), 7, 1000, 0)])  # spends the rest
    assert ledger.summary().available_pence == 0
    with pytest.raises(Conflict) as refused:
        orders.cancel_purchase_order(order, actor=build.user(roles=["coordinator"]), reason="Wrong model")
    assert refused.value.code == "budget_exceeded"
    assert refused.value.details["request_id"] == request.id
    db.session.rollback()
    assert order.status == "raised" and orders.committed_pence(order) == 3000
    assert request_open(request) == 0


def test_cancelling_an_order_for_a_withdrawn_request_commits_nothing_again(build):
    alarm = build.item_type(standard_cost_pence=2500)
    request = build.awaiting_request(lines=[(alarm, 2)])
    order = build.order_for_request(request)
    requests.take_action(request.id, Action.WITHDRAW, note=None, actor=request.raised_by)
    db.session.commit()
    orders.cancel_purchase_order(order, actor=build.user(roles=["coordinator"]), reason="Not needed")
    db.session.commit()
    assert (request_open(request), committed()) == (0, 0)


def test_an_order_line_naming_a_request_line_of_another_item_type_is_refused(build):
    request = build.awaiting_request(lines=[(build.item_type(), 1)])
    with pytest.raises(InvalidInput) as caught:
        orders.create_purchase_order(supplier=build.supplier(), actor=build.user(), lines=[
            OrderLine(build.item_type().id, 1, 1000, request_line_id=request.lines[0].id)])
    assert "lines[0].request_line_id" in caught.value.fields


def test_a_partly_fulfilled_request_receives_arrivals_and_its_commitment_is_released(build):
    alarm = build.item_type(standard_cost_pence=2500)
    build.budget_period(allocated_pence=100_000)
    build.items(1, item_type=alarm)
    coordinator, fitter = build.user(roles=["coordinator"]), build.user(roles=["fitter"])
    request = build.equipment_request(lines=[(alarm, 2)])
    requests.approve_request(request.id, actor=coordinator)
    db.session.commit()
    job = build.job(request=request, fitter=fitter, coordinator=coordinator)
    [unit] = db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)).all()
    scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=fitter)
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    assert (request.state, request_open(request)) == ("partly_fulfilled", 2500)
    order = build.order_for_request(request)
    assert request_open(request) == 0
    build.receipt(order)
    assert request.lines[0].reserved_quantity == 2 and request_open(request) == 0
    second = build.job(request=request, fitter=fitter, coordinator=coordinator)
    assert request.state == "scheduled" and second.request_id == request.id


def test_a_partly_fulfilled_request_receives_unlinked_arrivals_too(build):
    alarm = build.item_type(standard_cost_pence=2500)
    build.budget_period(allocated_pence=100_000)
    build.items(1, item_type=alarm)
    fitter = build.user(roles=["fitter"])
    request = build.equipment_request(lines=[(alarm, 2)])
    requests.approve_request(request.id, actor=build.user(roles=["coordinator"]))
    db.session.commit()
    job = build.job(request=request, fitter=fitter)
    [unit] = db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id)).all()
    scan(ScanInput(ScanAction.ISSUE, unit.code, job_id=job.id), actor=fitter)
    complete_job(job.id, Completion(), actor=fitter)
    db.session.commit()
    arrive(build, alarm)
    assert request.lines[0].reserved_quantity == 2
    assert (request_open(request), committed()) == (0, 0)
