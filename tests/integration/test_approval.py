import pytest
from sqlalchemy import func, select

from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry
from inventory.errors import Conflict, InvalidInput
from inventory.extensions import db
from inventory.requests import operations
from inventory.requests.operations import ApprovedLine
from inventory.requests.transitions import Action
from inventory.stock.models import Item


def coordinator(build):
    return build.user(roles=["coordinator"])


def commitments():
    return db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.COMMITMENT)).all()


def test_approval_reserves_units_in_stock_and_commits_only_the_shortfall(build):
    period = build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(standard_cost_pence=2500)
    build.items(1, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 3)])
    operations.approve_request(raised.id, actor=coordinator(build))
    db.session.commit()
    assert raised.state == "approved" and raised.decided_at is not None
    [line] = raised.lines
    assert (line.approved_quantity, line.reserved_quantity, line.awaiting_quantity) == (3, 1, 2)
    assert db.session.scalar(select(Item.reserved_for_request_id)) == raised.id
    [commitment] = commitments()
    assert (commitment.amount_pence, commitment.source_id, commitment.case_reference) == (
        -5000, raised.id, raised.case.reference)
    assert ledger.available_pence(period) == 95_000


def test_approval_fully_covered_by_stock_commits_no_money(build):
    build.budget_period(allocated_pence=1)
    alarm = build.item_type()
    build.items(2, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 2)])
    operations.approve_request(raised.id, actor=coordinator(build))
    assert commitments() == []
    assert [(line.reserved_quantity, line.awaiting_quantity) for line in raised.lines] == [(2, 0)]


def test_approving_part_records_the_quantities_and_needs_a_reason(build):
    build.budget_period(allocated_pence=100_000)
    alarm, lock = build.item_type(), build.item_type(category="lock", loaned=False)
    raised = build.equipment_request(lines=[(alarm, 2), (lock, 1)])
    alarm_line, lock_line = raised.lines
    part = [ApprovedLine(alarm_line.id, 1), ApprovedLine(lock_line.id, 0)]
    with pytest.raises(InvalidInput) as error:
        operations.approve_request(raised.id, lines=part, actor=coordinator(build))
    assert error.value.fields == {"reason": "Required."}
    operations.approve_request(raised.id, lines=part, note="One alarm now; locks via the landlord.",
                               actor=coordinator(build))
    assert raised.state == "partly_approved"
    assert (alarm_line.approved_quantity, lock_line.approved_quantity) == (1, 0)
    assert raised.decision_reason == "One alarm now; locks via the landlord."


@pytest.mark.parametrize("lines, field", [
    ([{"line_id": "LINE", "quantity": 5}], "lines[0].quantity"),
    ([{"line_id": "LINE", "quantity": -1}], "lines[0].quantity"),
    ([{"line_id": 999999, "quantity": 1}], "lines[0].line_id"),
    ([{"line_id": "LINE", "quantity": 0}], "lines"),
])
def test_bad_approval_quantities_are_refused(build, lines, field):
    build.budget_period(allocated_pence=100_000)
    raised = build.equipment_request(lines=[(build.item_type(), 2)])
    lines = [ApprovedLine(raised.lines[0].id if line["line_id"] == "LINE" else line["line_id"], line["quantity"])
             for line in lines]
    with pytest.raises(InvalidInput) as error:
        operations.approve_request(raised.id, lines=lines, note="x", actor=coordinator(build))
    assert field in error.value.fields


def test_over_budget_is_refused_with_available_needed_and_the_part_that_fits(build):
    period = build.budget_period(allocated_pence=3000)
    alarm = build.item_type(standard_cost_pence=2500)
    doorbell = build.item_type(standard_cost_pence=9000, category="camera_doorbell")
    build.items(1, item_type=doorbell)
    raised = build.equipment_request(lines=[(alarm, 2), (doorbell, 2)])
    with pytest.raises(Conflict) as error:
        operations.approve_request(raised.id, actor=coordinator(build))
    db.session.rollback()
    assert error.value.code == "budget_exceeded"
    details = error.value.details
    assert (details["available_pence"], details["needed_pence"]) == (3000, 2 * 2500 + 9000)
    alarm_line, doorbell_line = raised.lines
    assert [(line["line_id"], line["quantity"]) for line in details["suggested_lines"]] == [
        (alarm_line.id, 1), (doorbell_line.id, 1)]
    assert db.session.scalar(select(Item.reserved_for_request_id)) is None  # rolled back whole
    assert ledger.available_pence(period) == 3000
    operations.approve_request(raised.id, lines=[ApprovedLine(line["line_id"], line["quantity"])
                                                 for line in details["suggested_lines"]],
                               note="What the budget covers.", actor=coordinator(build))
    assert raised.state == "partly_approved" and ledger.available_pence(period) == 500


def test_withdrawing_an_approved_request_hands_back_units_and_money(build):
    period = build.budget_period(allocated_pence=10_000)
    alarm = build.item_type(standard_cost_pence=2500)
    build.items(1, item_type=alarm)
    raised = build.equipment_request(lines=[(alarm, 2)])
    operations.approve_request(raised.id, actor=coordinator(build))
    assert ledger.available_pence(period) == 7500
    operations.take_action(raised.id, Action.WITHDRAW, note=None, actor=raised.raised_by)
    db.session.commit()
    assert raised.state == "withdrawn" and raised.decided_at is not None
    assert db.session.scalar(select(Item.state)) == "in_stock"
    assert ledger.available_pence(period) == 10_000


def test_approving_an_approved_request_is_already_decided(build):
    build.budget_period(allocated_pence=100_000)
    raised = build.equipment_request()
    operations.approve_request(raised.id, actor=coordinator(build))
    with pytest.raises(Conflict) as error:
        operations.approve_request(raised.id, actor=coordinator(build))
    assert error.value.code == "already_decided"


def test_a_shortfall_with_no_budget_period_is_a_clear_conflict(build):
    raised = build.equipment_request()
    with pytest.raises(Conflict) as error:
        operations.approve_request(raised.id, actor=coordinator(build))
    assert error.value.code == "no_budget_period"


def receive(build, item_type, quantity, actor):
    from inventory.stock.receiving import NewUnits, receive_units

    units = receive_units(NewUnits(item_type=item_type, quantity=quantity, location=build.location()), actor=actor)
    db.session.commit()
    return units


def test_goods_arriving_go_to_awaiting_requests_in_priority_order_and_hand_back_their_money(build):
    period = build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(standard_cost_pence=2500)
    standard = build.equipment_request(lines=[(alarm, 1)])
    high = build.equipment_request(case=build.case(risk_level="high"), lines=[(alarm, 2)])
    boss = coordinator(build)
    operations.approve_request(standard.id, actor=boss)
    operations.approve_request(high.id, actor=boss)
    db.session.commit()
    assert ledger.available_pence(period) == 100_000 - 3 * 2500
    received = receive(build, alarm, 2, boss)
    assert {unit.reserved_for_request_id for unit in received} == {high.id}
    assert (high.lines[0].reserved_quantity, standard.lines[0].reserved_quantity) == (2, 0)
    assert ledger.available_pence(period) == 100_000 - 2500
    receive(build, alarm, 3, boss)
    assert standard.lines[0].awaiting_quantity == 0
    assert ledger.available_pence(period) == 100_000
    assert db.session.scalar(select(func.count()).select_from(Item).where(Item.state == "in_stock")) == 2


def test_arrivals_for_a_withdrawn_request_stay_in_stock(build):
    build.budget_period(allocated_pence=100_000)
    alarm = build.item_type()
    raised = build.equipment_request(lines=[(alarm, 1)])
    operations.approve_request(raised.id, actor=coordinator(build))
    operations.take_action(raised.id, Action.WITHDRAW, note=None, actor=raised.raised_by)
    db.session.commit()
    [unit] = receive(build, alarm, 1, coordinator(build))
    assert unit.state == "in_stock"


def test_a_purchase_order_receipt_reserves_to_the_request_awaiting_it(build):
    period = build.budget_period(allocated_pence=1_000_000)
    alarm = build.item_type(standard_cost_pence=2500)
    raised = build.equipment_request(lines=[(alarm, 1)])
    operations.approve_request(raised.id, actor=coordinator(build))
    db.session.commit()
    before = ledger.available_pence(period)
    order = build.purchase_order(lines=[(alarm, 1, 2000, 400)])
    build.receipt(order)
    db.session.expire_all()
    assert raised.lines[0].awaiting_quantity == 0
    assert ledger.available_pence(period) == before - 2400 + 2500  # the order's cost in, the estimate out
