"""Use cases for requests: raise, edit, comment, move in the queue, and the moves of the
state machine (withdraw, request information, resubmit, reject with what it is declined as,
approve).

Services take typed values (`RequestDetails`, `ApprovedLine`); forms and the API parse
what people send. Each use case checks what it was given first, then moves the request
(`transitions.REQUEST_MACHINE`, which records who, when and why), then does what the move implies.

Functions flush but never commit. A move locks the request row first (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's writers are already serialised), so two coordinators
deciding the same request cannot both succeed: the second gets `already_decided`.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from inventory import clock
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.permissions import Permission, can_raise_request_for, can_see_personal_details, has_permission
from inventory.requests.holdings import commit_shortfall, release_holdings, reserve_units
from inventory.requests.models import (
    MAX_LINE_QUANTITY,
    DeclinedAs,
    EquipmentRequest,
    PriorityAdjustment,
    RequestComment,
    RequestLine,
    RequestState,
)
from inventory.requests.priority import rescore
from inventory.requests.transitions import APPROVALS, JOB_ACTIONS, REQUEST_MACHINE, NEEDS_NOTE, Action, may_take

# Different item types in one request: room for every type a catalogue of household safety
# equipment offers (the form lists each active type once), and a bound on one body's size.
MAX_LINES = 30
MAX_ADJUSTMENT = 1000


@dataclass(frozen=True)
class WantedLine:
    item_type_id: int
    quantity: int
    urgent: bool = False  # among the most urgent: funded first if the budget cannot cover everything


@dataclass(frozen=True)
class RequestDetails:
    """What a caseworker asks for (raising a request or changing it): items, why, by when."""

    lines: tuple[WantedLine, ...]
    reason: str | None
    needed_by: date | None = None


@dataclass(frozen=True)
class ApprovedLine:
    """How many of a request line's items a coordinator approves (0 for none)."""

    line_id: int
    quantity: int


def _require_text(value: str | None, field: str, fields: dict) -> None:
    if value is None or not value.strip():
        fields[field] = "Required."


def _check_details(details: RequestDetails) -> None:
    """A request asks for 1 to MAX_LINES different offered item types, 1 to
    MAX_LINE_QUANTITY of each, says why, and is not needed by a day already past."""
    if not 1 <= len(details.lines) <= MAX_LINES:
        message = (f"At most {MAX_LINES} different items in one request." if details.lines
                   else "Ask for at least one item.")
        raise InvalidInput(message, fields={"lines": message})
    fields: dict[str, str] = {}
    seen: set[int] = set()
    for n, line in enumerate(details.lines):
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            fields[f"lines[{n}].quantity"] = f"Between 1 and {MAX_LINE_QUANTITY}."
        if line.item_type_id in seen:
            fields[f"lines[{n}].item_type_id"] = "This item is already on the request; change its quantity."
        seen.add(line.item_type_id)
    active = {row.id: row.active for row in db.session.scalars(select(ItemType).where(ItemType.id.in_(seen)))}
    for n, line in enumerate(details.lines):
        if f"lines[{n}].item_type_id" in fields:
            continue
        if line.item_type_id not in active:
            fields[f"lines[{n}].item_type_id"] = "No such item type."
        elif not active[line.item_type_id]:
            fields[f"lines[{n}].item_type_id"] = "This item type is no longer offered."
    _require_text(details.reason, "reason", fields)
    if details.needed_by is not None and details.needed_by < clock.today():
        fields["needed_by"] = "Cannot be in the past."
    if fields:
        raise InvalidInput("Some of the request needs correcting.", fields=fields)


def raise_request(case_id: int, details: RequestDetails, *, actor) -> EquipmentRequest:
    """A caseworker asks for items for an open case of their own organisation."""
    if not has_permission(actor, Permission.RAISE_REQUESTS):
        raise NotAllowed("Only caseworkers raise requests.")
    case = db.session.get(Case, case_id)
    if case is None or not can_raise_request_for(actor, case.organisation_id):
        raise InvalidInput("No such case among your organisation's cases.",
                           fields={"case_id": "No such case among your organisation's cases."})
    if not case.is_open:
        raise InvalidInput("This case is closed. Reopen it or open a new case.", code="case_closed",
                           fields={"case_id": "This case is closed."})
    _check_details(details)
    request = EquipmentRequest(case=case, raised_by_id=actor.id, reason=details.reason, needed_by=details.needed_by,
                               submitted_at=clock.now(), submitted_on=clock.today(), manual_adjustment=0,
                               lines=[RequestLine(item_type_id=line.item_type_id, quantity=line.quantity,
                                                  urgent=line.urgent) for line in details.lines])
    rescore(request)
    db.session.add(request)
    REQUEST_MACHINE.apply(request, Action.SUBMIT, actor=actor)
    db.session.flush()
    return request


def requests_for_case(case: Case) -> list[EquipmentRequest]:
    """A case's requests, newest first."""
    return list(db.session.scalars(select(EquipmentRequest).where(EquipmentRequest.case_id == case.id)
                                   .order_by(EquipmentRequest.submitted_at.desc(), EquipmentRequest.id.desc())))


def get_request(user, request_id: int, *, for_update: bool = False) -> EquipmentRequest:
    """The request if `user` may see its case's details; otherwise NotFound."""
    query = select(EquipmentRequest).where(EquipmentRequest.id == request_id)
    if for_update:
        query = query.with_for_update(of=EquipmentRequest).execution_options(populate_existing=True)
    request = db.session.scalar(query)
    if request is None or not can_see_personal_details(user, request.case):
        raise NotFound("No such request.")
    return request


def _locked_for(action: Action, request_id: int, actor) -> EquipmentRequest:
    """The request, locked, if `actor` is the party who takes `action` (its state is the
    state machine's to check)."""
    request = get_request(actor, request_id, for_update=True)
    if not may_take(actor, action, request):
        raise NotAllowed("You may not do that to this request.")
    return request


def edit_request(request_id: int, details: RequestDetails, *, actor) -> EquipmentRequest:
    """The caseworker changes the items, reason or date while the request awaits a decision."""
    request = get_request(actor, request_id, for_update=True)
    if not may_take(actor, Action.EDIT, request):
        raise NotAllowed("Only a caseworker of the case's organisation can change this request.")
    _check_details(details)
    REQUEST_MACHINE.apply(request, Action.EDIT, actor=actor, note="Items, reason or date changed.")
    request.reason, request.needed_by = details.reason, details.needed_by
    by_type = {line.item_type_id: line for line in request.lines}
    request.lines = [by_type.get(line.item_type_id) or RequestLine(item_type_id=line.item_type_id)
                     for line in details.lines]
    for line, wanted in zip(request.lines, details.lines, strict=True):
        line.quantity, line.urgent = wanted.quantity, wanted.urgent
    db.session.flush()
    return request


def _check_note(action: Action, note: str | None) -> None:
    fields: dict[str, str] = {}
    if action in NEEDS_NOTE:
        _require_text(note, "reason", fields)
    if fields:
        raise InvalidInput("Write a reason.", fields=fields)


def take_action(request_id: int, action: Action, *, note: str | None, actor) -> EquipmentRequest:
    """Move a request along the state machine, if this user may and its state allows it."""
    if action in APPROVALS:
        raise ValueError("approvals carry quantities: use approve_request")
    if action in JOB_ACTIONS:
        raise ValueError("jobs move their requests: use advance_by_job")
    if action is Action.REJECT:
        raise ValueError("a rejection says what it is declined as: use reject_request")
    request = _locked_for(action, request_id, actor)
    _check_note(action, note)
    held = request.is_decided  # an approved request holds units and money until it ends
    REQUEST_MACHINE.apply(request, action, actor=actor, note=note)
    if action is Action.WITHDRAW and held:
        release_holdings(request, actor=actor, why="request withdrawn")
    if action is Action.RESUBMIT:
        rescore(request)
    db.session.flush()
    return request


def reject_request(request_id: int, declined_as: DeclinedAs, *, note: str | None, actor) -> EquipmentRequest:
    """A coordinator declines a waiting request as unsuitable, ineligible or for another
    reason, and says why; the caseworker sees both, and the commissioner counts declines by ground."""
    request = _locked_for(Action.REJECT, request_id, actor)
    _check_note(Action.REJECT, note)
    REQUEST_MACHINE.apply(request, Action.REJECT, actor=actor, note=note)
    request.declined_as = str(declined_as)
    db.session.flush()
    return request


def _approved_quantities(request: EquipmentRequest, lines: Sequence[ApprovedLine] | None) -> dict[int, int]:
    """{line id: quantity to approve}; `lines` None approves everything asked for."""
    asked = {line.id: line.quantity for line in request.lines}
    if lines is None:
        return asked
    fields: dict[str, str] = {}
    chosen: dict[int, int] = {}
    for n, line in enumerate(lines):
        if line.line_id not in asked or line.line_id in chosen:
            fields[f"lines[{n}].line_id"] = "Not a line of this request (or named twice)."
        elif not 0 <= line.quantity <= asked[line.line_id]:
            fields[f"lines[{n}].quantity"] = f"Between 0 and {asked[line.line_id]}, the quantity asked for."
        else:
            chosen[line.line_id] = line.quantity
    if not fields and not any(chosen.values()):
        fields["lines"] = "Approve at least one item, or reject the request."
    if fields:
        raise InvalidInput("Check the quantities to approve.", fields=fields)
    return {line_id: chosen.get(line_id, 0) for line_id in asked}


def approve_request(request_id: int, *, lines: Sequence[ApprovedLine] | None = None, note: str | None = None,
                    actor) -> EquipmentRequest:
    """Approve all (lines None) or part of a request: reserve in-stock units to it and commit
    the estimated cost of the rest in the ledger, refused over budget."""
    request = _locked_for(Action.APPROVE, request_id, actor)
    quantities = _approved_quantities(request, lines)
    whole = all(quantities[line.id] == line.quantity for line in request.lines)
    action = Action.APPROVE if whole else Action.APPROVE_PART
    _check_note(action, note)
    REQUEST_MACHINE.apply(request, action, actor=actor, note=note)
    for line in request.lines:
        line.approved_quantity = quantities[line.id]
        reserve_units(request, line, line.approved_quantity, actor=actor)
    commit_shortfall(request, actor=actor)
    db.session.flush()
    return request


def add_comment(request_id: int, body: str | None, *, actor) -> RequestComment:
    request = get_request(actor, request_id)
    fields: dict[str, str] = {}
    _require_text(body, "body", fields)
    if fields:
        raise InvalidInput("Write a comment.", fields=fields)
    comment = RequestComment(request=request, author_id=actor.id, body=body)
    db.session.add(comment)
    db.session.flush()
    return comment


def adjust_priority(request_id: int, points: int, reason: str | None, *, actor) -> PriorityAdjustment:
    """A coordinator moves a waiting request up (points > 0) or down, and must say why."""
    if not has_permission(actor, Permission.DECIDE_REQUESTS):
        raise NotAllowed("Only coordinators move requests in the queue.")
    request = get_request(actor, request_id, for_update=True)
    if request.state_enum is not RequestState.SUBMITTED:
        raise Conflict("Only requests waiting in the queue can be moved.", code="not_in_queue")
    fields: dict[str, str] = {}
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        fields["points"] = f"A whole number of points, not zero, between −{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}."
    _require_text(reason, "reason", fields)
    if fields:
        raise InvalidInput("Say how far and why.", fields=fields)
    request.manual_adjustment += points
    rescore(request)
    adjustment = PriorityAdjustment(request=request, actor_id=actor.id, points=points, reason=reason)
    db.session.add(adjustment)
    db.session.flush()
    return adjustment


def advance_by_job(request: EquipmentRequest, action: Action, *, actor, note: str | None = None) -> None:
    """A job moves its (locked) request on: scheduled, fulfilled or partly fulfilled. The jobs
    feature has checked who may; the state machine still decides whether the state allows it."""
    if action not in JOB_ACTIONS or not may_take(actor, action, request):
        raise NotAllowed("You may not do that to this request.")
    REQUEST_MACHINE.apply(request, action, actor=actor, note=note)
    db.session.flush()
