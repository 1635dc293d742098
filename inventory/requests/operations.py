"""Use cases for requests: raise, edit, comment, move in the queue, and the transitions of
the state machine (withdraw, request information, resubmit, reject).

Functions flush but never commit. A transition locks the request row first (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's writers are already serialised), so two coordinators
deciding the same request cannot both succeed: the second gets `already_decided`.
"""
from datetime import date

from sqlalchemy import select

from inventory import clock
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.permissions import CaseAccess, Permission, case_access, has_permission, can_raise_request_for
from inventory.requests.models import (
    MAX_LINE_QUANTITY,
    MAX_TEXT,
    EquipmentRequest,
    PriorityAdjustment,
    RequestComment,
    RequestEvent,
    RequestLine,
    RequestState,
)
from inventory.requests.holdings import commit_shortfall, release_holdings, reserve_units
from inventory.requests.priority import rescore
from inventory.requests.transitions import APPROVALS, DECISIONS, JOB_ACTIONS, TRANSITIONS, Action, Party, is_party

MAX_LINES = 10
MAX_ADJUSTMENT = 1000


def _text(value, field: str, *, required: bool, fields: dict) -> str | None:
    if value is not None and not isinstance(value, str):
        fields[field] = "Must be text."
        return None
    value = (value or "").strip()
    if required and not value:
        fields[field] = "Required."
    elif len(value) > MAX_TEXT:
        fields[field] = f"At most {MAX_TEXT} characters."
    return value or None


def _as_date(value, field: str, fields: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            fields[field] = "Enter a date (YYYY-MM-DD)."
            return None
    if not isinstance(value, date):
        fields[field] = "Enter a date (YYYY-MM-DD)."
        return None
    if value < clock.today():
        fields[field] = "Cannot be in the past."
    return value


def _whole_number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _clean_lines(lines, fields: dict) -> list[tuple[int, int]]:
    """[(item_type_id, quantity)] from [{item_type_id, quantity}], every problem named."""
    if not isinstance(lines, list) or not lines:
        fields["lines"] = "Ask for at least one item."
        return []
    if len(lines) > MAX_LINES:
        fields["lines"] = f"At most {MAX_LINES} different items in one request."
        return []
    wanted: list[tuple[int, int]] = []
    for n, line in enumerate(lines):
        line = line if isinstance(line, dict) else {}
        item_type_id = _whole_number(line.get("item_type_id"))
        quantity = _whole_number(line.get("quantity"))
        if item_type_id is None:
            fields[f"lines[{n}].item_type_id"] = "Choose an item type."
        if quantity is None:
            fields[f"lines[{n}].quantity"] = "Enter a whole number."
        elif not 1 <= quantity <= MAX_LINE_QUANTITY:
            fields[f"lines[{n}].quantity"] = f"Between 1 and {MAX_LINE_QUANTITY}."
        if item_type_id is not None and any(item_type_id == seen for seen, _ in wanted):
            fields[f"lines[{n}].item_type_id"] = "This item is already on the request; change its quantity."
        wanted.append((item_type_id, quantity))
    ids = {item_type_id for item_type_id, _ in wanted if item_type_id is not None}
    active = {row.id: row.active for row in db.session.scalars(select(ItemType).where(ItemType.id.in_(ids)))}
    for n, (item_type_id, _) in enumerate(wanted):
        if item_type_id is None or f"lines[{n}].item_type_id" in fields:
            continue
        if item_type_id not in active:
            fields[f"lines[{n}].item_type_id"] = "No such item type."
        elif not active[item_type_id]:
            fields[f"lines[{n}].item_type_id"] = "This item type is no longer offered."
    return wanted


def _clean_request(data: dict) -> tuple[list[tuple[int, int]], str, date | None]:
    fields: dict[str, str] = {}
    lines = _clean_lines(data.get("lines"), fields)
    reason = _text(data.get("reason"), "reason", required=True, fields=fields)
    needed_by = _as_date(data.get("needed_by"), "needed_by", fields)
    if fields:
        raise InvalidInput("Some of the request needs correcting.", fields=fields)
    return lines, reason, needed_by


def _record(request: EquipmentRequest, action: Action, *, actor, from_state, note: str | None) -> None:
    db.session.add(RequestEvent(request=request, actor_id=actor.id, action=str(action), from_state=from_state,
                                to_state=request.state, note=note))


def raise_request(data: dict, *, actor) -> EquipmentRequest:
    """A caseworker asks for items for an open case of their own organisation."""
    if not has_permission(actor, Permission.RAISE_REQUESTS):
        raise NotAllowed("Only caseworkers raise requests.")
    case = db.session.get(Case, _whole_number(data.get("case_id")) or 0)
    if case is None or not can_raise_request_for(actor, case.organisation_id):
        raise InvalidInput("No such case among your organisation's cases.",
                           fields={"case_id": "No such case among your organisation's cases."})
    if not case.is_open:
        raise InvalidInput("This case is closed; reopen it or open a new case.", code="case_closed",
                           fields={"case_id": "This case is closed."})
    lines, reason, needed_by = _clean_request(data)
    request = EquipmentRequest(case=case, raised_by_id=actor.id, reason=reason, needed_by=needed_by,
                               state=RequestState.SUBMITTED, submitted_at=clock.now(), submitted_on=clock.today(),
                               manual_adjustment=0,
                               lines=[RequestLine(item_type_id=i, quantity=q) for i, q in lines])
    rescore(request)
    db.session.add(request)
    _record(request, Action.SUBMIT, actor=actor, from_state=None, note=None)
    db.session.flush()
    return request


def get_request(user, request_id: int, *, for_update: bool = False) -> EquipmentRequest:
    """The request if `user` may see its case's details; otherwise NotFound."""
    query = select(EquipmentRequest).where(EquipmentRequest.id == request_id)
    if for_update:
        query = query.with_for_update(of=EquipmentRequest).execution_options(populate_existing=True)
    request = db.session.scalar(query)
    if request is None or case_access(user, request.case.organisation_id) is not CaseAccess.PERSONAL:
        raise NotFound("No such request.")
    return request


def _refuse_unless_editable(request: EquipmentRequest) -> None:
    if not request.is_editable:
        raise Conflict(f"This request is already {request.state_enum.label.lower()}; it can no longer change.",
                       code="already_decided")


def edit_request(request_id: int, data: dict, *, actor) -> EquipmentRequest:
    """The caseworker changes the items, reason or date while the request awaits a decision."""
    request = get_request(actor, request_id, for_update=True)
    if not is_party(actor, Party.CASEWORKER, request):
        raise NotAllowed("Only a caseworker of the case's organisation can change this request.")
    _refuse_unless_editable(request)
    lines, reason, needed_by = _clean_request(data)
    request.reason, request.needed_by = reason, needed_by
    by_type = {line.item_type_id: line for line in request.lines}
    request.lines = [by_type[i] if i in by_type else RequestLine(item_type_id=i, quantity=q) for i, q in lines]
    for line, (_, quantity) in zip(request.lines, lines, strict=True):
        line.quantity = quantity
    _record(request, Action.EDIT, actor=actor, from_state=request.state, note="Items, reason or date changed.")
    db.session.flush()
    return request


def _locked_for(action: Action, request_id: int, actor) -> EquipmentRequest:
    """The request, locked, if `actor` may take `action` on it in its current state."""
    transition = TRANSITIONS[action]
    request = get_request(actor, request_id, for_update=True)
    if not is_party(actor, transition.by, request):
        raise NotAllowed("You may not do that to this request.")
    if request.state_enum not in transition.sources:
        if action in DECISIONS or request.is_decided:
            raise Conflict(f"This request has already been dealt with: it is {request.state_enum.label.lower()}.",
                           code="already_decided", details={"state": request.state})
        raise Conflict(f"A request that is {request.state_enum.label.lower()} cannot be changed that way.",
                       code="wrong_state", details={"state": request.state})
    return request


def _note(action: Action, note) -> str | None:
    fields: dict[str, str] = {}
    note = _text(note, "reason", required=TRANSITIONS[action].needs_note, fields=fields)
    if fields:
        raise InvalidInput("Write a reason.", fields=fields)
    return note


def _move(request: EquipmentRequest, action: Action, *, note: str | None, actor) -> None:
    from_state = request.state
    request.state = TRANSITIONS[action].target
    if action in DECISIONS and request.is_decided:
        request.decided_at, request.decided_by_id, request.decision_reason = clock.now(), actor.id, note
    _record(request, action, actor=actor, from_state=from_state, note=note)
    db.session.flush()


def take_action(request_id: int, action: Action, *, note: str | None, actor) -> EquipmentRequest:
    """Move a request along the state machine, if this user may and its state allows it."""
    if action in APPROVALS:
        raise ValueError("approvals carry quantities: use approve_request")
    if action in JOB_ACTIONS:
        raise ValueError("jobs move their requests: use advance_by_job")
    request = _locked_for(action, request_id, actor)
    note = _note(action, note)
    if action is Action.WITHDRAW and request.is_decided:
        release_holdings(request, actor=actor, why="request withdrawn")
    if action is Action.RESUBMIT:
        rescore(request)
    _move(request, action, note=note, actor=actor)
    return request


def _approved_quantities(request: EquipmentRequest, lines) -> dict[int, int]:
    """{line id: quantity to approve}; `lines` None approves everything asked for."""
    if lines is None:
        return {line.id: line.quantity for line in request.lines}
    asked = {line.id: line.quantity for line in request.lines}
    fields: dict[str, str] = {}
    chosen: dict[int, int] = {}
    if not isinstance(lines, list):
        lines = [None]
    for n, entry in enumerate(lines):
        entry = entry if isinstance(entry, dict) else {}
        line_id, quantity = _whole_number(entry.get("line_id")), _whole_number(entry.get("quantity"))
        if line_id not in asked or line_id in chosen:
            fields[f"lines[{n}].line_id"] = "Not a line of this request (or named twice)."
        elif quantity is None or not 0 <= quantity <= asked[line_id]:
            fields[f"lines[{n}].quantity"] = f"Between 0 and {asked[line_id]}, the quantity asked for."
        else:
            chosen[line_id] = quantity
    if not fields and not any(chosen.values()):
        fields["lines"] = "Approve at least one item, or reject the request."
    if fields:
        raise InvalidInput("Check the quantities to approve.", fields=fields)
    return {line_id: chosen.get(line_id, 0) for line_id in asked}


def approve_request(request_id: int, *, lines=None, note=None, actor) -> EquipmentRequest:
    """Approve all (lines None) or part of a request: reserve in-stock units to it and commit
    the estimated cost of the rest in the ledger, refused over budget."""
    request = _locked_for(Action.APPROVE, request_id, actor)
    quantities = _approved_quantities(request, lines)
    whole = all(quantities[line.id] == line.quantity for line in request.lines)
    action = Action.APPROVE if whole else Action.APPROVE_PART
    note = _note(action, note)
    for line in request.lines:
        line.approved_quantity = quantities[line.id]
        reserve_units(request, line, line.approved_quantity, actor=actor)
    commit_shortfall(request, actor=actor)
    _move(request, action, note=note, actor=actor)
    return request


def add_comment(request_id: int, body, *, actor) -> RequestComment:
    request = get_request(actor, request_id)
    fields: dict[str, str] = {}
    body = _text(body, "body", required=True, fields=fields)
    if fields:
        raise InvalidInput("Write a comment.", fields=fields)
    comment = RequestComment(request=request, author_id=actor.id, body=body)
    db.session.add(comment)
    db.session.flush()
    return comment


def adjust_priority(request_id: int, points, reason, *, actor) -> PriorityAdjustment:
    """A coordinator moves a waiting request up (points > 0) or down, and must say why."""
    if not has_permission(actor, Permission.DECIDE_REQUESTS):
        raise NotAllowed("Only coordinators move requests in the queue.")
    request = get_request(actor, request_id, for_update=True)
    if request.state_enum is not RequestState.SUBMITTED:
        raise Conflict("Only requests waiting in the queue can be moved.", code="not_in_queue")
    fields: dict[str, str] = {}
    points = _whole_number(points)
    if points is None or points == 0 or abs(points) > MAX_ADJUSTMENT:
        fields["points"] = f"A whole number of points, not zero, between −{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}."
    reason = _text(reason, "reason", required=True, fields=fields)
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
    transition = TRANSITIONS[action]
    if action not in JOB_ACTIONS or not is_party(actor, transition.by, request):
        raise NotAllowed("You may not do that to this request.")
    if request.state_enum not in transition.sources:
        raise Conflict(f"A request that is {request.state_enum.label.lower()} cannot be "
                       f"{'scheduled' if action is Action.SCHEDULE else 'closed by a job'}.",
                       code="wrong_state", details={"state": request.state})
    from_state = request.state
    request.state = transition.target
    _record(request, action, actor=actor, from_state=from_state, note=note)
    db.session.flush()
