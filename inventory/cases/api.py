"""GET/POST /api/v1/cases, GET /api/v1/cases/{id}.

Personal fields (name, address, phone, safe_contact_notes) appear only in
GET /cases/{id}, as the API contract fixes it, and only for those who may see them; each
such answer is written to the access log, which the request's unit of work keeps although
it is a read. A browser's read sent from another website (a link followed with the
session cookie) reveals and records nothing. Lists never carry them. Finance sees a case's
reference and status only.
"""
from flask import jsonify, request
from flask_login import current_user

from inventory.api import PAGE_PARAMS, api_route, page_of, query_param, schema
from inventory.api.body import Body
from inventory.cases import operations
from inventory.cases.details import read_new_case
from inventory.cases.models import NEED_FLAG_KEYS, Case, LandlordConsent, RiskLevel, RiskTool, Tenure
from inventory.pagination import page_args, paginate
from inventory.permissions import Permission, can_see_personal_details, permission_required
from inventory.unit_of_work import keep


def _nullable(definition: dict) -> dict:
    return {"anyOf": [definition, {"type": "null"}]}


def _enum(enum) -> dict:
    return {"type": "string", "enum": [str(v) for v in enum]}


DATE = {"type": "string", "format": "date"}
PERSONAL_FIELDS = ("name", "address", "phone", "safe_contact_notes")
DETAIL_FIELDS = ("risk_level", "risk_tool", "risk_assessed_on", "flags", "marac", "consent_on", "tenure",
                 "landlord_consent", "police_reference")

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
    },
})

NEW_CASE = schema("NewCase", {
    "type": "object",
    "required": ["reference", "name", "address", "phone", "consent_given", "consent_on", "tenure",
                 "landlord_consent", "risk_tool", "risk_level", "risk_assessed_on"],
    "properties": {
        "reference": {"type": "string", "examples": ["NS-2026-0142"]},
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
    },
})


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
    })
    body.update({name: getattr(case, name) if personal else None for name in PERSONAL_FIELDS})
    return body


@api_route("/cases", summary="The cases you may see, newest first (no personal fields; search by reference).",
           response=page_of(CASE), tag="cases",
           query=[query_param("reference", {"type": "string"}, "Reference starts with this."), *PAGE_PARAMS])
@permission_required(Permission.VIEW_CASES)
def list_cases():
    page, per_page = page_args()
    query = operations.visible_cases(current_user, reference=request.args.get("reference", ""))
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
def get_case(case_id: int):
    case = operations.get_case(current_user, case_id)
    personal = (request.headers.get("Sec-Fetch-Site") != "cross-site"
                and operations.reveal_personal_details(current_user, case, reason="Fetched through the API"))
    if personal:
        keep()  # the access log row is the record of this read
    return jsonify(serialise_case(case, personal=personal))
