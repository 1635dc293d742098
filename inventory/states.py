"""One shape for every state machine (items, requests, jobs, purchase orders, invoices).

A machine is data: a table from each action to the states it may start from and the state
it ends in. `StateMachine.apply` is the one function that moves a record: it refuses a
move the table does not allow (with the machine's own Conflict), sets the new state and
hands a `Change` (what, from, to, who, when, why) to the machine's recorder, which writes
it to that record's history (item events, request history, ...).

Who may take an action is a separate question, asked by the feature's permission
predicates before the machine is applied.
"""
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inventory import clock
from inventory.errors import Conflict


@dataclass(frozen=True)
class Transition:
    sources: frozenset
    target: Any = None  # None: the state stays as it is (an event that changes no state)


@dataclass(frozen=True)
class Change:
    """One applied transition, for the record's history."""

    record: Any
    action: Hashable
    from_state: Any
    to_state: Any
    actor: Any
    note: str | None
    at: datetime = field(default_factory=clock.now)
    extra: Mapping[str, Any] = field(default_factory=dict)


class StateMachine:
    def __init__(self, name: str, transitions: Mapping[Hashable, Transition], *,
                 refusal: type[Conflict] = Conflict,
                 describe_refusal: Callable[[Any, Hashable], str] | None = None,
                 recorder: Callable[[Change], Any] | None = None,
                 state_attribute: str = "state",
                 refusal_details: Callable[[Any], Mapping[str, Any]] | None = None):
        self.name = name
        self.transitions = dict(transitions)
        self.refusal = refusal
        self.describe_refusal = describe_refusal or (
            lambda record, action: f"This {name} is {getattr(record, state_attribute)}, so it cannot be {action}.")
        self.recorder = recorder
        self.state_attribute = state_attribute
        # What else a refusal names about the record (its id, say), beside state and action.
        self.refusal_details = refusal_details or (lambda record: {})

    def allows(self, state, action) -> bool:
        return state in self.transitions[action].sources

    def actions_from(self, state) -> list:
        return [action for action, transition in self.transitions.items() if state in transition.sources]

    def target(self, action):
        return self.transitions[action].target

    def check(self, record, action) -> None:
        """Raise the machine's refusal unless the table allows `action` from the record's
        state (for a use case that must refuse before it changes anything)."""
        state = getattr(record, self.state_attribute)
        if not self.allows(state, action):
            raise self.refusal(self.describe_refusal(record, action), details={
                **self.refusal_details(record), "state": str(state), "action": str(action)})

    def apply(self, record, action, *, actor=None, note: str | None = None, **extra):
        """Move `record` by `action`, or raise the machine's refusal; record the change.

        Returns what the recorder returns (the history row), or the Change itself."""
        self.check(record, action)
        transition = self.transitions[action]
        from_state = getattr(record, self.state_attribute)
        if transition.target is not None:
            setattr(record, self.state_attribute, transition.target)
        change = Change(record=record, action=action, from_state=from_state,
                        to_state=getattr(record, self.state_attribute), actor=actor, note=note, extra=extra)
        return self.recorder(change) if self.recorder is not None else change
