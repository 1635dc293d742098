"""POST /api/v1/requests, GET /api/v1/requests/{id}, GET /api/v1/queue,
POST /api/v1/requests/{id}/decision."""
from enum import StrEnum

from flask import jsonify, request
from flask_login import current_user

from inventory import clock
from inventory.api import FLAG, PAGE_PARAMS, RECORD_ID, api_route, page_of, query_param, schema, text, whole_number
from inventory.api.body import Body
from inventory.cases.models import RiskLevel
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, permission_required
from inventory.requests import operations
from inventory.requests.models import MAX_LINE_QUANTITY, MAX_TEXT, DeclinedAs, EquipmentRequest, RequestState
from inventory.requests.operations import MAX_LINES, ApprovedLine, RequestDetails, WantedLine
from inventory.requests.queue import QueueFilters, queue_query, queue_rows
from inventory.requests.transitions import Action

DATE = {"type": "string", "format": "date"}


class Decision(StrEnum):
    """A coordinator's decision; each but "approve" (whole, or part with `lines`) is the
    state machine's action of the same name."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"

REQUEST = schema("Request", {
    "type": "object",
    "required": ["id", "case_id", "case_reference", "state", "reason", "needed_by", "lines", "submitted_at",
                 "decided_at", "decision_reason", "declined_as"],
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "case_reference": {"type": "string"},
        "state": {"type": "string", "enum": [str(s) for s in RequestState]},
        "reason": {"type": "string"},
        "needed_by": {"anyOf": [DATE, {"type": "null"}]},
        "submitted_at": {"type": "string", "format": "date-time"},
        "decided_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "decision_reason": {"type": ["string", "null"]},
        "declined_as": {"anyOf": [{"type": "string", "enum": [str(d) for d in DeclinedAs]}, {"type": "null"}],
                        "description": "A rejected request: declined as unsuitable, ineligible or for another "
                                       "reason (null on rejections from before it was recorded)."},
        "lines": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "item_type_id", "item_type", "quantity", "approved_quantity", "urgent"],
            "properties": {"id": {"type": "integer"}, "item_type_id": {"type": "integer"},
                           "item_type": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
                           "approved_quantity": {"type": ["integer", "null"], "minimum": 0},
                           "urgent": {"type": "boolean"}}}},
    },
})

NEW_REQUEST = schema("NewRequest", {
    "type": "object",
    "required": ["case_id", "lines", "reason"],
    "properties": {
        "case_id": RECORD_ID,
        "lines": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "items": {
            "type": "object", "required": ["item_type_id", "quantity"],
            "properties": {"item_type_id": RECORD_ID, "quantity": whole_number(1, MAX_LINE_QUANTITY),
                           "urgent": {"type": "boolean", "default": False,
                                      "description": "Among the most urgent: if the budget cannot cover the "
                                                     "whole request, the part offered funds these first."}}}},
        "reason": text(MAX_TEXT),
        "needed_by": DATE,
    },
})

QUEUE_ENTRY = schema("QueueEntry", {
    "type": "object",
    "required": ["id", "case_reference", "risk_level", "score", "score_parts", "waiting_days", "overdue",
                 "est_cost_pence", "decide_by", "install_by", "stock_covers"],
    "properties": {
        "id": {"type": "integer"},
        "case_reference": {"type": "string"},
        "risk_level": {"type": "string", "enum": [str(r) for r in RiskLevel]},
        "score": {"type": "integer"},
        "score_parts": {"type": "array", "items": {
            "type": "object", "required": ["label", "points"],
            "properties": {"label": {"type": "string"}, "points": {"type": "integer"}}}},
        "waiting_days": {"type": "integer", "minimum": 0},
        "overdue": {"type": "boolean"},
        "est_cost_pence": {"type": "integer", "minimum": 0},
        "decide_by": DATE,
        "install_by": DATE,
        "stock_covers": {"type": "boolean"},
    },
})

DECISION = schema("Decision", {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {"type": "string", "enum": [str(d) for d in Decision]},
        "lines": {"type": "array", "description": "approve only: the quantity to approve per line (0 for none); "
                                                  "omit to approve everything asked for.",
                  "items": {"type": "object", "required": ["line_id", "quantity"],
                            "properties": {"line_id": RECORD_ID,
                                           "quantity": whole_number(0, MAX_LINE_QUANTITY)}}},
        "reason": {**text(MAX_TEXT), "description": "Shown to the caseworker; required to reject, ask for "
                                                    "information or approve part."},
        "declined_as": {"type": "string", "enum": [str(d) for d in DeclinedAs], "default": "other",
                        "description": "reject only: declined as unsuitable, ineligible or for another reason "
                                       "(shown to the caseworker); other when left out."},
    },
})


def serialise_request(r: EquipmentRequest) -> dict:
    return {
        "id": r.id, "case_id": r.case_id, "case_reference": r.case.reference, "state": r.state,
        "reason": r.reason, "needed_by": r.needed_by.isoformat() if r.needed_by else None,
        "submitted_at": r.submitted_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None, "decision_reason": r.decision_reason,
        "declined_as": r.declined_as,
        "lines": [{"id": line.id, "item_type_id": line.item_type_id, "item_type": line.item_type.name,
                   "quantity": line.quantity, "approved_quantity": line.approved_quantity, "urgent": line.urgent}
                  for line in r.lines],
    }


@api_route("/requests", "POST", summary="Raise a request for an open case of your organisation (caseworkers).",
           response=REQUEST, status=201, request_body=NEW_REQUEST, tag="requests")
@permission_required(Permission.RAISE_REQUESTS)
def raise_request():
    body = Body()
    case_id = body.record_id("case_id")
    details = RequestDetails(
        lines=tuple(WantedLine(line.record_id("item_type_id"), line.whole_number("quantity", minimum=None),
                               bool(line.boolean("urgent", required=False)))
                    for line in body.objects("lines")),
        reason=body.text("reason", required=False, max_length=MAX_TEXT),
        needed_by=body.date("needed_by", required=False))
    body.check()
    return jsonify(serialise_request(operations.raise_request(case_id, details, actor=current_user))), 201


@api_route("/requests/<int:request_id>", summary="One request, with its state and decision.", response=REQUEST,
           tag="requests")
@permission_required(Permission.VIEW_CASES)
def get_request(request_id: int):
    return jsonify(serialise_request(operations.get_request(current_user, request_id)))


@api_route("/queue", summary="Requests awaiting a decision, in priority order, each score with its parts.",
           response=page_of(QUEUE_ENTRY), tag="requests", query=[
               query_param("organisation_id", RECORD_ID),
               query_param("risk_level", {"type": "string", "enum": [str(r) for r in RiskLevel]}),
               query_param("overdue", FLAG),
               query_param("item_type_id", RECORD_ID), *PAGE_PARAMS])
@permission_required(Permission.DECIDE_REQUESTS)
def queue():
    page, per_page = page_args()
    today = clock.today()
    result = paginate(queue_query(QueueFilters.from_args(request.args), today), page, per_page)
    rows = queue_rows(result.items, today)
    return jsonify({**result.counts(), "items": [{
        "id": row.request.id, "case_reference": row.request.case.reference,
        "risk_level": row.request.case.risk_level, "score": row.score,
        "score_parts": [{"label": part.label, "points": part.points} for part in row.parts],
        "waiting_days": row.waiting_days, "overdue": row.overdue, "est_cost_pence": row.est_cost_pence,
        "decide_by": row.request.decide_by.isoformat(), "install_by": row.request.install_by.isoformat(),
        "stock_covers": row.stock_covers,
    } for row in rows]})


@api_route("/requests/<int:request_id>/decision", "POST", response=REQUEST, request_body=DECISION, tag="requests",
           summary="Approve (whole or per line: reserves stock, commits the shortfall's cost; 409 budget_exceeded "
                   "with one needed_pence and one available_pence for the request, the part that fits by need as "
                   "suggested_lines and what it leaves out as left_out_lines), reject, or ask for information.")
@permission_required(Permission.DECIDE_REQUESTS)
def decide(request_id: int):
    body = Body()
    decision = body.choice("decision", Decision)
    lines = [ApprovedLine(line.record_id("line_id"), line.whole_number("quantity", minimum=None))
             for line in body.objects("lines")] if body.present("lines") else None
    reason = body.text("reason", required=False, max_length=MAX_TEXT)
    # Older clients send no ground: their rejections count as "another reason".
    declined_as = body.choice("declined_as", DeclinedAs, required=False) or DeclinedAs.OTHER
    if body.present("declined_as") and decision not in (None, Decision.REJECT):
        body.errors.setdefault("declined_as", "Only a rejection is declined as something.")
    body.check()
    if decision is Decision.APPROVE:
        operations.approve_request(request_id, lines=lines, note=reason, actor=current_user)
    elif decision is Decision.REJECT:
        operations.reject_request(request_id, declined_as, note=reason, actor=current_user)
    else:
        operations.take_action(request_id, Action(decision), note=reason, actor=current_user)
    return jsonify(serialise_request(operations.get_request(current_user, request_id)))
