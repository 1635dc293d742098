import pytest

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.requests import operations
from inventory.requests.models import DeclinedAs, EquipmentRequest, RequestEvent
from inventory.requests.transitions import Action
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only



@pytest.mark.parametrize("actions", [
    (Action.REJECT, Action.REJECT),
    (Action.REJECT, Action.REQUEST_INFO),
    (Action.REQUEST_INFO, Action.REQUEST_INFO),
])
def test_two_coordinators_deciding_the_same_request_one_wins_the_other_is_told_already_decided(app, build,
                                                                                              actions):
    raised = build.equipment_request()
    coordinator_ids = [build.user(roles=["coordinator"]).id for _ in actions]
    request_id = raised.id

    def decide(action, user_id):
        note = f"{action} by {user_id}"
        if action is Action.REJECT:
            return lambda: operations.reject_request(request_id, DeclinedAs.UNSUITABLE, note=note,
                                                     actor=db.session.get(User, user_id))
        return lambda: operations.take_action(request_id, action, note=note, actor=db.session.get(User, user_id))

    outcomes = run_at_once(app, [decide(a, u) for a, u in zip(actions, coordinator_ids, strict=True)])
    assert sorted(outcomes) == ["already_decided", "ok"]
    db.session.expire_all()
    events = db.session.query(RequestEvent).filter_by(request_id=request_id).order_by(RequestEvent.id).all()
    assert len(events) == 2  # the submission and exactly one decision
    assert db.session.get(EquipmentRequest, request_id).state == events[-1].to_state


def approve(request_id, user_id):
    return lambda: operations.approve_request(request_id, actor=db.session.get(User, user_id))


def test_two_approvals_that_together_exceed_the_budget_exactly_one_succeeds(app, build):
    from inventory.budget import ledger

    period = build.budget_period(allocated_pence=4000)
    alarm = build.item_type(standard_cost_pence=2500)
    first, second = build.equipment_request(lines=[(alarm, 1)]), build.equipment_request(lines=[(alarm, 1)])
    coordinators = [build.user(roles=["coordinator"]).id for _ in range(2)]
    outcomes = run_at_once(app, [approve(first.id, coordinators[0]), approve(second.id, coordinators[1])])
    assert sorted(outcomes) == ["budget_exceeded", "ok"]
    db.session.expire_all()
    states = sorted(db.session.get(EquipmentRequest, r.id).state for r in (first, second))
    assert states == ["approved", "submitted"]
    assert ledger.available_pence(db.session.get(type(period), period.id)) == 1500


def test_two_approvals_wanting_the_last_unit_one_reserves_it_the_other_gets_a_shortfall(app, build):
    from inventory.stock.models import Item

    build.budget_period(allocated_pence=100_000)
    alarm = build.item_type(standard_cost_pence=2500)
    [last_unit] = build.items(1, item_type=alarm)
    first, second = build.equipment_request(lines=[(alarm, 1)]), build.equipment_request(lines=[(alarm, 1)])
    coordinators = [build.user(roles=["coordinator"]).id for _ in range(2)]
    outcomes = run_at_once(app, [approve(first.id, coordinators[0]), approve(second.id, coordinators[1])])
    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    held = sorted((line.reserved_quantity, line.awaiting_quantity) for r in (first, second)
                  for line in db.session.get(EquipmentRequest, r.id).lines)
    assert held == [(0, 1), (1, 0)]
    assert db.session.get(Item, last_unit.id).reserved_for_request_id in (first.id, second.id)
