"""The request state machine: one table of which action moves a request from which states
to which state (`REQUEST_MACHINE`), who may take each action (`PARTIES`) and which need a written
reason (`NEEDS_NOTE`). Operations consult them; nothing else decides. Every move is
recorded in the request's history with who, when and why."""
from enum import StrEnum

from inventory.errors import Conflict
from inventory.extensions import db
from inventory.permissions import Permission, can_raise_request_for, has_permission
from inventory.requests.models import DECIDED_STATES, EDITABLE_STATES, EquipmentRequest, RequestEvent, RequestState
from inventory.states import Change, StateMachine, Transition


class Action(StrEnum):
    SUBMIT = "submit"  # how a request begins (no state before it)
    EDIT = "edit"  # the caseworker changed the items or reason (the state stays)
    WITHDRAW = "withdraw"
    REQUEST_INFO = "request_info"
    RESUBMIT = "resubmit"
    REJECT = "reject"
    APPROVE = "approve"
    APPROVE_PART = "approve_part"
    # Taken by the jobs feature (inventory.jobs), which decides who may:
    SCHEDULE = "schedule"
    FULFIL = "fulfil"
    FULFIL_PART = "fulfil_part"


class Party(StrEnum):
    CASEWORKER = "caseworker"  # a caseworker of the case's own organisation
    COORDINATOR = "coordinator"  # whoever may decide requests
    JOB = "job"  # the job's coordinator or fitter (the jobs feature checks which job)


# Actions that are a coordinator's decision: taken twice, the second finds `already_decided`.
DECISIONS = frozenset({Action.REQUEST_INFO, Action.REJECT, Action.APPROVE, Action.APPROVE_PART})
# Decisions taken with their own form (quantities per line), not a plain button.
APPROVALS = frozenset({Action.APPROVE, Action.APPROVE_PART})
# Actions a job takes (scheduling it, closing it): never a button on the request page.
JOB_ACTIONS = frozenset({Action.SCHEDULE, Action.FULFIL, Action.FULFIL_PART})
# Actions that are not a move a person chooses on the request page.
NOT_BUTTONS = frozenset({Action.SUBMIT, Action.EDIT}) | JOB_ACTIONS

PARTIES: dict[Action, Party] = {
    Action.SUBMIT: Party.CASEWORKER,
    Action.EDIT: Party.CASEWORKER,
    Action.WITHDRAW: Party.CASEWORKER,
    Action.REQUEST_INFO: Party.COORDINATOR,
    Action.RESUBMIT: Party.CASEWORKER,
    Action.REJECT: Party.COORDINATOR,
    Action.APPROVE: Party.COORDINATOR,
    Action.APPROVE_PART: Party.COORDINATOR,
    Action.SCHEDULE: Party.COORDINATOR,
    Action.FULFIL: Party.JOB,
    Action.FULFIL_PART: Party.JOB,
}
# A reason or answer must be written (approving part: the caseworker is told why).
NEEDS_NOTE = frozenset({Action.REQUEST_INFO, Action.RESUBMIT, Action.REJECT, Action.APPROVE_PART})


def _record(change: Change) -> RequestEvent:
    """Write the move to the request's history; a decision also keeps who decided, when and why."""
    request = change.record
    if change.action in DECISIONS and request.is_decided:
        request.decided_at, request.decided_by_id, request.decision_reason = change.at, change.actor.id, change.note
    event = RequestEvent(request=request, actor_id=change.actor.id, action=str(change.action),
                         from_state=change.from_state, to_state=request.state, note=change.note,
                         occurred_at=change.at)
    db.session.add(event)
    return event


def _refusal_code(state: RequestState, action: Action) -> str:
    if action in JOB_ACTIONS:
        return "wrong_state"
    if action is Action.EDIT or action in DECISIONS or state in DECIDED_STATES:
        return "already_decided"
    return "wrong_state"


def _describe_refusal(request: EquipmentRequest, action: Action) -> str:
    state = request.state_enum.label.lower()
    if action is Action.EDIT:
        return f"This request is already {state}; it can no longer change."
    if action in JOB_ACTIONS:
        return (f"A request that is {state} cannot be "
                f"{'scheduled' if action is Action.SCHEDULE else 'closed by a job'}.")
    if _refusal_code(request.state_enum, action) == "already_decided":
        return f"This request has already been dealt with: it is {state}."
    return f"A request that is {state} cannot be changed that way."


class RequestStateConflict(Conflict):
    """A move the request's state does not allow: `already_decided` once a coordinator has
    decided (or when deciding twice), else `wrong_state`."""

    def __init__(self, message: str, *, details: dict):
        super().__init__(message, details={"state": details["state"]},
                         code=_refusal_code(RequestState(details["state"]), Action(details["action"])))


S = RequestState
REQUEST_MACHINE = StateMachine("request", {
    Action.SUBMIT: Transition(frozenset({None}), S.SUBMITTED),
    Action.EDIT: Transition(EDITABLE_STATES, None),
    # Withdrawing an approved request gives back its reserved units and committed money.
    Action.WITHDRAW: Transition(frozenset({S.SUBMITTED, S.INFO_REQUESTED, S.APPROVED, S.PARTLY_APPROVED}),
                                S.WITHDRAWN),
    Action.REQUEST_INFO: Transition(frozenset({S.SUBMITTED}), S.INFO_REQUESTED),
    Action.RESUBMIT: Transition(frozenset({S.INFO_REQUESTED}), S.SUBMITTED),
    Action.REJECT: Transition(frozenset({S.SUBMITTED}), S.REJECTED),
    Action.APPROVE: Transition(frozenset({S.SUBMITTED}), S.APPROVED),
    # Approving less than was asked for: the caseworker is told why.
    Action.APPROVE_PART: Transition(frozenset({S.SUBMITTED}), S.PARTLY_APPROVED),
    # A partly fulfilled request can get another visit once more stock is reserved to it.
    Action.SCHEDULE: Transition(frozenset({S.APPROVED, S.PARTLY_APPROVED, S.PARTLY_FULFILLED}), S.SCHEDULED),
    Action.FULFIL: Transition(frozenset({S.SCHEDULED}), S.FULFILLED),
    # Something approved was not handed over: the job records why, item by item.
    Action.FULFIL_PART: Transition(frozenset({S.SCHEDULED}), S.PARTLY_FULFILLED),
}, refusal=RequestStateConflict, describe_refusal=_describe_refusal, recorder=_record)


def is_party(user, party: Party, request: EquipmentRequest) -> bool:
    if party is Party.CASEWORKER:
        return can_raise_request_for(user, request.case.organisation_id)
    if party is Party.JOB:
        return has_permission(user, Permission.SCHEDULE_JOBS) or has_permission(user, Permission.SCAN_ITEMS)
    return has_permission(user, Permission.DECIDE_REQUESTS)


def may_take(user, action: Action, request: EquipmentRequest) -> bool:
    return is_party(user, PARTIES[action], request)


def available_actions(user, request: EquipmentRequest) -> list[Action]:
    """The actions this user may take on this request now (for buttons; operations re-check)."""
    return [action for action in REQUEST_MACHINE.actions_from(request.state_enum)
            if action not in NOT_BUTTONS and may_take(user, action, request)]
