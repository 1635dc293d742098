"""The request state machine: one table of which action moves a request from which states
to which state, and who may take it. Operations consult it; nothing else decides."""
from dataclasses import dataclass
from enum import StrEnum

from inventory.permissions import Permission, has_permission, can_raise_request_for
from inventory.requests.models import EquipmentRequest, RequestState


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


@dataclass(frozen=True)
class Transition:
    sources: frozenset[RequestState]
    target: RequestState
    by: Party
    needs_note: bool  # a reason or answer must be written


S = RequestState
TRANSITIONS: dict[Action, Transition] = {
    # Withdrawing an approved request gives back its reserved units and committed money.
    Action.WITHDRAW: Transition(frozenset({S.SUBMITTED, S.INFO_REQUESTED, S.APPROVED, S.PARTLY_APPROVED}),
                                S.WITHDRAWN, Party.CASEWORKER, False),
    Action.REQUEST_INFO: Transition(frozenset({S.SUBMITTED}), S.INFO_REQUESTED, Party.COORDINATOR, True),
    Action.RESUBMIT: Transition(frozenset({S.INFO_REQUESTED}), S.SUBMITTED, Party.CASEWORKER, True),
    Action.REJECT: Transition(frozenset({S.SUBMITTED}), S.REJECTED, Party.COORDINATOR, True),
    Action.APPROVE: Transition(frozenset({S.SUBMITTED}), S.APPROVED, Party.COORDINATOR, False),
    # Approving less than was asked for: the caseworker is told why.
    Action.APPROVE_PART: Transition(frozenset({S.SUBMITTED}), S.PARTLY_APPROVED, Party.COORDINATOR, True),
    # A partly fulfilled request can get another visit once more stock is reserved to it.
    Action.SCHEDULE: Transition(frozenset({S.APPROVED, S.PARTLY_APPROVED, S.PARTLY_FULFILLED}), S.SCHEDULED,
                                Party.COORDINATOR, False),
    Action.FULFIL: Transition(frozenset({S.SCHEDULED}), S.FULFILLED, Party.JOB, False),
    # Something approved was not handed over: the job records why, item by item.
    Action.FULFIL_PART: Transition(frozenset({S.SCHEDULED}), S.PARTLY_FULFILLED, Party.JOB, False),
}

# Actions that are a coordinator's decision: taken twice, the second finds `already_decided`.
DECISIONS = frozenset({Action.REQUEST_INFO, Action.REJECT, Action.APPROVE, Action.APPROVE_PART})
# Decisions taken with their own form (quantities per line), not a plain button.
APPROVALS = frozenset({Action.APPROVE, Action.APPROVE_PART})
# Actions a job takes (scheduling it, closing it): never a button on the request page.
JOB_ACTIONS = frozenset({Action.SCHEDULE, Action.FULFIL, Action.FULFIL_PART})


def is_party(user, party: Party, request: EquipmentRequest) -> bool:
    if party is Party.CASEWORKER:
        return can_raise_request_for(user, request.case.organisation_id)
    if party is Party.JOB:
        return has_permission(user, Permission.SCHEDULE_JOBS) or has_permission(user, Permission.SCAN_ITEMS)
    return has_permission(user, Permission.DECIDE_REQUESTS)


def available_actions(user, request: EquipmentRequest) -> list[Action]:
    """The actions this user may take on this request now (for buttons; operations re-check)."""
    return [action for action, transition in TRANSITIONS.items() if action not in JOB_ACTIONS
            and request.state_enum in transition.sources and is_party(user, transition.by, request)]
