"""The one state machine shape, and named hooks between features."""
from dataclasses import dataclass
from enum import StrEnum

import pytest
from flask import Flask

from inventory.errors import Conflict
from inventory.hooks import Hook
from inventory.states import Change, StateMachine, Transition


class Door(StrEnum):
    OPEN = "open"
    SHUT = "shut"
    LOCKED = "locked"


class Jammed(Conflict):
    code = "jammed"


@dataclass
class Thing:
    state: str


def door_machine(history):
    return StateMachine("door", {
        "shut": Transition(frozenset({Door.OPEN}), Door.SHUT),
        "lock": Transition(frozenset({Door.SHUT}), Door.LOCKED),
        "knock": Transition(frozenset(Door), None),
    }, refusal=Jammed, recorder=history.append)


def test_applying_an_allowed_transition_sets_the_state_and_records_who_and_why():
    history: list[Change] = []
    door = Thing(state=Door.OPEN)
    door_machine(history).apply(door, "shut", actor="coordinator", note="Draughty")
    assert door.state == Door.SHUT
    [change] = history
    assert (change.action, change.from_state, change.to_state, change.actor, change.note) == (
        "shut", Door.OPEN, Door.SHUT, "coordinator", "Draughty")
    assert change.at is not None


def test_a_transition_the_table_does_not_allow_is_refused_with_the_machines_error_and_changes_nothing():
    history: list[Change] = []
    door = Thing(state=Door.OPEN)
    with pytest.raises(Jammed) as refused:
        door_machine(history).apply(door, "lock")
    assert door.state == Door.OPEN and history == []
    assert refused.value.details == {"state": "open", "action": "lock"}


def test_an_event_without_a_target_keeps_the_state_but_is_recorded():
    history: list[Change] = []
    door = Thing(state=Door.LOCKED)
    machine = door_machine(history)
    machine.apply(door, "knock")
    assert door.state == Door.LOCKED and len(history) == 1
    assert machine.actions_from(Door.SHUT) == ["lock", "knock"]
    assert machine.allows(Door.OPEN, "shut") and not machine.allows(Door.OPEN, "lock")


def test_hooks_call_the_receivers_connected_to_this_app_only():
    arrived = Hook("arrived")
    first, second = Flask("first"), Flask("second")
    heard = []
    arrived.connect(first, lambda n: heard.append(("a", n)))
    arrived.connect(first, lambda n: heard.append(("b", n)))
    with first.app_context():
        arrived.fire(3)
    with second.app_context():
        assert arrived.fire(4) == []
    assert heard == [("a", 3), ("b", 3)]


def test_the_app_connects_each_cross_feature_reaction(app):
    from inventory.budget.categories import category_deactivating
    from inventory.budget.ledger import entry_reversed, entry_reversing
    from inventory.budget.verification import open_commitment_owners
    from inventory.cases.operations import need_changed
    from inventory.cases.views import page_sections
    from inventory.procurement.orders import lines_ordered_for, order_cancelling, order_raising
    from inventory.scheduling.runner import job_finished
    from inventory.stock.queries import units_on_order
    from inventory.stock.receiving import units_received

    receivers = {entry_reversing: 2, entry_reversed: 1, open_commitment_owners: 2, category_deactivating: 1,
                 need_changed: 1, page_sections: 2, order_raising: 1, order_cancelling: 1, lines_ordered_for: 1,
                 units_on_order: 1, units_received: 1, job_finished: 1}
    for hook, count in receivers.items():
        assert len(hook.receivers()) == count, hook
