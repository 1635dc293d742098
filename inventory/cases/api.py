"""GET/POST /api/v1/cases, GET /api/v1/cases/{id}, POST /api/v1/cases/{id}/close,
GET/POST /api/v1/cases/{id}/reviews.

Personal fields (name, address, phone, safe_contact_notes) appear only in
GET /cases/{id}, as the API contract fixes it, and only for those who may see them; each
such answer is written to the access log, which the request's unit of work keeps although
it is a read. A browser's read sent from another website (a link followed with the
session cookie) reveals and records nothing. Lists never carry them. Finance sees a case's
reference and status only. A case's reviews are seen by those who see its details (as its
requests are), and recorded by a caseworker of its organisation or a coordinator.
"""
from flask import jsonify, request
from flask_login import current_user

from inventory.api import PAGE_PARAMS, RECORD_ID, api_route, page_of, query_param, schema, text
from inventory.api.body import Body
from inventory.cases import operations, reviews
from inventory.cases.details import AGENCY_LIMIT, read_new_case
from inventory.cases.models import (
    FEELS_SAFER_SCALE,
    NEED_FLAG_KEYS,
    Case,
    CaseReview,
    LandlordConsent,
    ReferralSource,
    ReviewKind,
    RiskLevel,
    RiskTool,
    SupportEnded,
    Tenure,
)
from inventory.cases.reviews import MAX_INCIDENTS, Closing, ItemAnswer, NewReview, ReviewAnswers
from inventory.errors import NotFound
from inventory.pagination import page_args, paginate
from inventory.parsing import DEFAULT_TEXT_LIMIT, Fields
from inventory.permissions import Permission, can_see_personal_details, permission_required
from inventory.unit_of_work import keep, records_the_read


def _nullable(definition: dict) -> dict:
    return {"anyOf": [definition, {"type": "null"}]}


def _enum(enum) -> dict:
    return {"type": "string", "enum": [str(v) for v in enum]}


DATE = {"type": "string", "format": "date"}
REFERENCE_SEARCH_LIMIT = 40  # longer than any reference
PERSONAL_FIELDS = ("name", "address", "phone", "safe_contact_notes")
DETAIL_FIELDS = ("risk_level", "risk_tool", "risk_assessed_on", "flags", "marac", "consent_on", "tenure",
                 "landlord_consent", "police_reference", "referral_source", "referral_agency")

CASE = schema("Case", {
    "type": "object",
    "required": ["id", "reference", "organisation_id", "status", "closed_on", *PERSONAL_FIELDS, *DETAIL_FIELDS],
    "properties": {
        "id": {"type": "integer"},
        "reference": {"type": "string"},
        "organisation_id": {"type": "integer"},
        "status": _enum(["open", "closed"]),
        "closed_on": _nullable(DATE),
        **{name: _nullable({"type": "string"}) for name in PERSONAL_FIELDS},
        "risk_level": _nullable(_enum(RiskLevel)),
        "risk_tool": _nullable(_enum(RiskTool)),
        "risk_assessed_on": _nullable(DATE),
        "flags": _nullable({"type": "array", "items": _enum(NEED_FLAG_KEYS)}),
        "marac": _nullable({"type": "boolean"}),
        "consent_on": _nullable(DATE),
        "tenure": _nullable(_enum(Tenure)),
        "landlord_consent": _nullable(_enum(LandlordConsent)),
        "police_reference": _nullable({"type": "string"}),
        "referral_source": _nullable(_enum(ReferralSource)),
        "referral_agency": _nullable({"type": "string"}),
    },
})

NEW_CASE = schema("NewCase", {
    "type": "object",
    "required": ["reference", "name", "address", "phone", "consent_given", "consent_on", "tenure",
                 "landlord_consent", "risk_tool", "risk_level", "risk_assessed_on"],
    "properties": {
        "reference": {"type": "string", "maxLength": DEFAULT_TEXT_LIMIT, "examples": ["NS-2026-0142"]},
        "name": {"type": "string", "maxLength": 120},
        "address": {"type": "string", "maxLength": 500},
        "phone": {"type": "string", "maxLength": 24},
        "safe_contact_notes": {"type": "string", "maxLength": 2000},
        "police_reference": {"type": "string", "maxLength": 40},
        "consent_given": {"type": "boolean", "const": True},
        "consent_on": DATE,
        "tenure": _enum(Tenure),
        "landlord_consent": _enum(LandlordConsent),
        "risk_tool": _enum(RiskTool),
        "risk_level": _enum(RiskLevel),
        "risk_assessed_on": DATE,
        "marac": {"type": "boolean"},
        "flags": {"type": "array", "items": _enum(NEED_FLAG_KEYS)},
        "referral_source": {**_enum(ReferralSource),
                            "description": "Where the referral came from. Optional for older integrations: "
                                           "a case without it is stored as not recorded."},
        "referral_agency": {"type": "string", "maxLength": AGENCY_LIMIT,
                            "description": "The referring agency's name (an organisation, not a person); "
                                           "required when referral_source is agency, refused otherwise."},
    },
})

ANSWER_PROPERTIES = {
    "feels_safer": {**_nullable({"type": "integer", "minimum": 1, "maximum": 5}),
                    "description": "Feels safer since the fitting: " + ", ".join(
                        f"{n} {label.lower()}" for n, label in FEELS_SAFER_SCALE.items())
                    + "; null or absent: did not say."},
    "still_at_address": {**_nullable({"type": "boolean"}), "description": "Null or absent: did not say."},
    "incidents_since_fitting": {**_nullable({"type": "integer", "minimum": 0, "maximum": MAX_INCIDENTS}),
                                "description": "Incidents reported since the fitting; null or absent: did not say."},
    "items": {"type": "array", "description": "Items issued to the case now: whether each is in use and "
                                              "working. An item left out: the survivor did not say.",
              "items": {"type": "object", "required": ["item_id", "in_use", "working"],
                        "properties": {"item_id": RECORD_ID, "in_use": {"type": "boolean"},
                                       "working": {"type": "boolean"}}}},
}

REVIEW = schema("CaseReview", {
    "type": "object",
    "required": ["id", "case_id", "kind", "reviewed_on", "feels_safer", "still_at_address",
                 "incidents_since_fitting", "support_ended", "items", "recorded_by_id", "recorded_at"],
    "properties": {
        "id": {"type": "integer"},
        "case_id": {"type": "integer"},
        "kind": _enum(ReviewKind),
        "reviewed_on": DATE,
        **{name: ANSWER_PROPERTIES[name] for name in ("feels_safer", "still_at_address", "incidents_since_fitting")},
        "support_ended": _nullable(_enum(SupportEnded)),
        "items": ANSWER_PROPERTIES["items"],
        "recorded_by_id": {"type": "integer"},
        "recorded_at": {"type": "string", "format": "date-time"},
    },
})

NEW_REVIEW = schema("NewCaseReview", {
    "type": "object",
    "required": ["kind", "reviewed_on"],
    "properties": {
        "kind": {**_enum(ReviewKind), "description": "closing only for a closed case without one: an open case's "
                                                     "closing review is recorded by closing it."},
        "reviewed_on": {**DATE, "description": "Not in the future; a 3- or 6-month review not before the first "
                                               "item was issued to the case."},
        **ANSWER_PROPERTIES,
        "support_ended": {**_enum(SupportEnded), "description": "The closing review's, and only its."},
    },
})

CASE_CLOSING = schema("CaseClosing", {
    "type": "object",
    "required": ["support_ended"],
    "properties": {"support_ended": _enum(SupportEnded), **ANSWER_PROPERTIES},
})

REVIEWS = {**page_of(REVIEW)}
REVIEWS["required"] = [*REVIEWS["required"], "due"]
REVIEWS["properties"] = {**REVIEWS["properties"], "due": {
    "type": "array", "description": "The 3- and 6-month reviews not yet recorded, with the day each falls due "
                                    "(none once the case is closed).",
    "items": {"type": "object", "required": ["kind", "due_on"],
              "properties": {"kind": _enum(ReviewKind), "due_on": DATE}}}}


def serialise_case(case: Case, *, personal: bool) -> dict:
    """The case as the caller may see it; `personal` only after the view has been logged."""
    body = {"id": case.id, "reference": case.reference, "organisation_id": case.organisation_id,
            "status": case.status, "closed_on": case.closed_on.isoformat() if case.closed_on else None}
    details = can_see_personal_details(current_user, case)
    body.update({
        "risk_level": case.risk_level if details else None,
        "risk_tool": case.risk_tool if details else None,
        "risk_assessed_on": case.risk_assessed_on.isoformat() if details else None,
        "flags": case.flags if details else None,
        "marac": case.marac if details else None,
        "consent_on": case.consent_on.isoformat() if details else None,
        "tenure": case.tenure if details else None,
        "landlord_consent": case.landlord_consent if details else None,
        "police_reference": case.police_reference if details else None,
        "referral_source": case.referral_source if details else None,
        "referral_agency": case.referral_agency if details else None,
    })
    body.update({name: getattr(case, name) if personal else None for name in PERSONAL_FIELDS})
    return body


@api_route("/cases", summary="The cases you may see, newest first (no personal fields; search by reference).",
           response=page_of(CASE), tag="cases",
           query=[query_param("reference", text(REFERENCE_SEARCH_LIMIT), "Reference contains this, anywhere and in any case."), *PAGE_PARAMS])
@permission_required(Permission.VIEW_CASES)
def list_cases():
    page, per_page = page_args()
    args = Fields(request.args, text=True)
    reference = args.text("reference", required=False, max_length=REFERENCE_SEARCH_LIMIT)
    args.check()
    query = operations.visible_cases(current_user, reference=reference or "")
    return jsonify(paginate(query, page, per_page).as_json(lambda case: serialise_case(case, personal=False)))


@api_route("/cases", "POST", summary="Open a case for your organisation (caseworkers).", response=CASE,
           status=201, request_body=NEW_CASE, tag="cases")
@permission_required(Permission.MANAGE_CASES)
def create_case():
    case = operations.create_case(read_new_case(Body()), actor=current_user)
    return jsonify(serialise_case(case, personal=False)), 201


@api_route("/cases/<int:case_id>", response=CASE, tag="cases",
           summary="One case, with its personal fields where you may see them (each such read is logged).")
@permission_required(Permission.VIEW_CASES)
@records_the_read
def get_case(case_id: int):
    case = operations.get_case(current_user, case_id)
    personal = (request.headers.get("Sec-Fetch-Site") != "cross-site"
                and operations.reveal_personal_details(current_user, case, reason="Fetched through the API"))
    if personal:
        keep()  # the access log row is the record of this read
    return jsonify(serialise_case(case, personal=personal))


def serialise_review(review: CaseReview) -> dict:
    return {"id": review.id, "case_id": review.case_id, "kind": review.kind,
            "reviewed_on": review.reviewed_on.isoformat(), "feels_safer": review.feels_safer,
            "still_at_address": review.still_at_address, "incidents_since_fitting": review.incidents_since_fitting,
            "support_ended": review.support_ended,
            "items": [{"item_id": item.item_id, "in_use": item.in_use, "working": item.working}
                      for item in review.items],
            "recorded_by_id": review.recorded_by_id, "recorded_at": review.recorded_at.isoformat()}


def _read_answers(body: Fields) -> ReviewAnswers:
    """The answers in a body (a scale or count out of range is the rule's to name)."""
    items = tuple(ItemAnswer(item.record_id("item_id"), item.boolean("in_use"), item.boolean("working"))
                  for item in body.objects("items", required=False))
    return ReviewAnswers(feels_safer=body.whole_number("feels_safer", required=False, minimum=None),
                         still_at_address=body.boolean("still_at_address", required=False),
                         incidents_since_fitting=body.whole_number("incidents_since_fitting", required=False,
                                                                   minimum=None),
                         items=items)


def _case_with_details(case_id: int) -> Case:
    """The case if the caller sees its details (its reviews are about the survivor); else 404."""
    case = operations.get_case(current_user, case_id)
    if not can_see_personal_details(current_user, case):
        raise NotFound("No such case.")
    return case


@api_route("/cases/<int:case_id>/close", "POST", response=CASE, request_body=CASE_CLOSING, tag="cases",
           summary="Close a case of your organisation (caseworkers), recording its closing review in the same "
                   "transaction: support_ended is required (422 if missing); 409 case_closed if already closed.")
@permission_required(Permission.MANAGE_CASES)
def close_case(case_id: int):
    case = operations.get_case(current_user, case_id)
    body = Body()
    support_ended = body.choice("support_ended", SupportEnded, required=False)
    answers = _read_answers(body)
    body.check()
    operations.close_case(case, Closing(support_ended, answers), actor=current_user)
    return jsonify(serialise_case(case, personal=False))


@api_route("/cases/<int:case_id>/reviews", response=REVIEWS, tag="cases", query=PAGE_PARAMS,
           summary="The case's recorded reviews, and its 3- and 6-month reviews still due (for those who see "
                   "the case's details).")
@permission_required(Permission.VIEW_CASES)
def list_reviews(case_id: int):
    case = _case_with_details(case_id)
    page, per_page = page_args()
    result = paginate(reviews.reviews_query(case), page, per_page)
    recorded = {ReviewKind(kind) for kind in reviews.recorded_kinds(case)}
    return jsonify({**result.as_json(serialise_review), "due": [
        {"kind": str(due.kind), "due_on": due.due_on.isoformat()} for due in reviews.reviews_due(case, recorded)]})


@api_route("/cases/<int:case_id>/reviews", "POST", response=REVIEW, status=201, request_body=NEW_REVIEW,
           tag="cases", summary="Record a 3- or 6-month review (caseworkers of the case's organisation, "
                                "coordinators); 409 already_recorded for a kind the case has.")
@permission_required(Permission.RECORD_REVIEWS)
def record_review(case_id: int):
    case = operations.get_case(current_user, case_id)
    body = Body()
    kind, reviewed_on = body.choice("kind", ReviewKind), body.date("reviewed_on")
    support_ended = body.choice("support_ended", SupportEnded, required=False)
    answers = _read_answers(body)
    body.check()
    review = reviews.record_review(case, NewReview(kind, reviewed_on, answers, support_ended), actor=current_user)
    return jsonify(serialise_review(review)), 201
