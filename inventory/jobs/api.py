"""Jobs and scanning in the JSON API: POST/GET /api/v1/jobs, GET /api/v1/jobs/{id},
POST /api/v1/jobs/{id}/complete, POST /api/v1/scans (docs/api.md)."""
from flask import jsonify, request, url_for
from flask_login import current_user

from inventory.api import FLAG, PAGE_PARAMS, RECORD_ID, api_route, page_of, query_param, schema, text
from inventory.api.body import Body
from inventory.jobs import completion, queries
from inventory.jobs.booking import book_visit
from inventory.jobs.inputs import read_booking, read_completion, read_scan
from inventory.jobs.models import (
    Job,
    JobKind,
    JobStatus,
    NotCollectedReason,
    NotIssuedReason,
)
from inventory.jobs.scanning import scan
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, has_permission, permission_required
from inventory.stock.api import ITEM, serialise_item
from inventory.stock.models import Item, ItemState

JOB = schema("Job", {
    "type": "object",
    "required": ["id", "kind", "case_id", "request_id", "fitter_id", "scheduled_for", "status", "items"],
    "description": "A visit: an install hands over a request's reserved units; a collection takes units back "
                   "from a case (`request_id` is null). `items` are the units on it: those still expected and "
                   "those it has handled. No personal data: the address is revealed on the job page.",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": [str(k) for k in JobKind]},
        "case_id": {"type": "integer"},
        "request_id": {"type": ["integer", "null"]},
        "fitter_id": {"type": "integer"},
        "scheduled_for": {"type": "string", "format": "date"},
        "window_starts": {"type": "string"},
        "window_ends": {"type": "string"},
        "status": {"type": "string", "enum": [str(s) for s in JobStatus]},
        "case_reference": {"type": "string"},
        "items": {"type": "array", "items": {
            "type": "object", "required": ["item_id", "code", "item_type", "state"],
            "properties": {"item_id": {"type": "integer"}, "code": {"type": "string"},
                           "item_type": {"type": "string"},
                           "state": {"type": "string", "enum": [str(s) for s in ItemState]}}}},
    },
})

TIME_OF_DAY = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$"}

NEW_JOB = schema("NewJob", {
    "type": "object",
    "required": ["fitter_id", "scheduled_for"],
    "description": "An install (the default): `request_id`. A collection: `kind: collection`, `case_id` and "
                   "`item_ids` (units out with that case).",
    "properties": {
        "kind": {"type": "string", "enum": [str(k) for k in JobKind], "default": "install"},
        "request_id": {**RECORD_ID, "description": "for an install"},
        "case_id": {**RECORD_ID, "description": "for a collection"},
        "item_ids": {"type": "array", "minItems": 1, "items": RECORD_ID, "description": "for a collection"},
        "fitter_id": RECORD_ID,
        "scheduled_for": {"type": "string", "format": "date"},
        "window_starts": {**TIME_OF_DAY, "description": "HH:MM (default from settings)"},
        "window_ends": {**TIME_OF_DAY, "description": "HH:MM"},
    },
})

COMPLETION = schema("JobCompletion", {
    "type": "object",
    "properties": {
        "not_issued": {"type": "array", "description": "an install: each expected unit not handed over", "items": {
            "type": "object", "required": ["item_id", "reason"],
            "properties": {"item_id": RECORD_ID,
                           "reason": {"type": "string", "enum": [str(r) for r in NotIssuedReason]}}}},
        "not_collected": {"type": "array", "description": "a collection: each listed unit not taken back", "items": {
            "type": "object", "required": ["item_id", "reason"],
            "properties": {"item_id": RECORD_ID,
                           "reason": {"type": "string", "enum": [str(r) for r in NotCollectedReason]}}}},
    },
})

SCAN = schema("Scan", {
    "type": "object",
    "required": ["code", "action"],
    "properties": {
        "code": text(),
        "action": {"type": "string", "enum": ["issue", "return", "lookup", "stocktake"]},
        "job_id": {**RECORD_ID, "description": "required to issue; a fitter's collection visit"},
        "condition": {"type": "string", "enum": ["good", "needs_wipe", "faulty", "damaged", "lost"],
                      "description": "for a return"},
        "stocktake_id": {**RECORD_ID, "description": "for a stocktake count"},
    },
})

SCAN_RESULT = schema("ScanResult", {
    "type": "object",
    "required": ["result", "item", "message"],
    "properties": {
        "result": {"type": "string", "enum": ["issued", "returned", "found", "counted", "already_counted"]},
        "item": ITEM,
        "message": {"type": "string"},
        "swapped_for": {"type": "string", "description": "the code of the reserved unit this one replaced"},
        "handover": {"type": "object"},
        "value_reused_pence": {"type": "integer", "minimum": 0},
        "actions": {"type": "array", "items": {"type": "string"},
                    "description": "what stock staff may do with the item in its state"},
        "verdict": {"type": "string"},
        "item_url": {"type": "string", "description": "the item's stock page, for those who may see it"},
    },
})


def serialise_job(job: Job, items: list[Item]) -> dict:
    return {"id": job.id, "kind": job.kind, "case_id": job.case_id, "request_id": job.request_id,
            "fitter_id": job.fitter_id,
            "scheduled_for": job.scheduled_for.isoformat(), "window_starts": job.window_starts.strftime("%H:%M"),
            "window_ends": job.window_ends.strftime("%H:%M"), "status": job.status,
            "case_reference": job.case.reference,
            "items": [{"item_id": item.id, "code": item.code, "item_type": item.item_type.name, "state": item.state}
                      for item in items]}


@api_route("/jobs", "POST", summary="Book a visit (coordinators): an approved request's install, or a "
           "collection of units out with a case.", response=JOB, status=201, request_body=NEW_JOB, tag="jobs")
@permission_required(Permission.SCHEDULE_JOBS)
def create_job():
    job = book_visit(read_booking(Body()), actor=current_user)
    return jsonify(serialise_job(job, queries.job_view(job).items)), 201


@api_route("/jobs", summary="The jobs you may see; ?mine=1 for your own.", response=page_of(JOB), tag="jobs",
           query=[query_param("mine", FLAG), *PAGE_PARAMS])
@permission_required(Permission.SCAN_ITEMS)
def list_jobs():
    page, per_page = page_args()
    args = Fields(request.args, text=True)
    mine = bool(args.boolean("mine", required=False))
    args.check()
    result = paginate(queries.jobs_query(current_user, mine=mine), page, per_page)
    items = queries.items_by_job(result.items)
    return jsonify(result.as_json(lambda job: serialise_job(job, items[job.id])))


@api_route("/jobs/<int:job_id>", summary="One job and its items (404 if it is not yours to see).", response=JOB,
           tag="jobs")
@permission_required(Permission.SCAN_ITEMS)
def get_job(job_id: int):
    job = queries.get_job(current_user, job_id)
    return jsonify(serialise_job(job, queries.job_view(job).items))


@api_route("/jobs/<int:job_id>/complete", "POST", summary="Close the visit: each expected item issued or a "
           "reason why not; connected devices' checklists done.", response=JOB, request_body=COMPLETION, tag="jobs")
@permission_required(Permission.SCAN_ITEMS)
def complete_job(job_id: int):
    job = completion.complete_job(job_id, read_completion(Body(required=False)), actor=current_user)
    return jsonify(serialise_job(job, queries.job_view(job).items))


@api_route("/scans", "POST", summary="One scan: issue on a job, return, look up or count. Send an "
           "Idempotency-Key: a retry returns the first answer.", response=SCAN_RESULT, request_body=SCAN,
           tag="jobs", idempotent=True)
@permission_required(Permission.SCAN_ITEMS)
def scans():
    outcome = scan(read_scan(Body()), actor=current_user)
    answer = {"result": outcome.result, "item": serialise_item(outcome.item, current_user),
              "message": outcome.message, **outcome.extra}
    if has_permission(current_user, Permission.VIEW_STOCK):
        answer["item_url"] = url_for("stock.item", item_id=outcome.item.id)
    return jsonify(answer)
