"""GET /api/v1/openapi.json: the OpenAPI 3.1 document for every endpoint."""
from flask import jsonify

from inventory.api import OPERATIONS, SCHEMAS, api_route, schema

ERROR = schema("Error", {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
})

ERROR_RESPONSES = {
    "401": "Not signed in, or the API token is missing, wrong or revoked.",
    "403": "Signed in, but your role may not do this.",
    "404": "Not found, or not visible to you.",
    "409": "The record's state does not allow this.",
    "413": "The body is too large.",
    "422": "Invalid input; error.details.fields names each bad field.",
    "429": "Too many requests.",
}


def build_document() -> dict:
    paths: dict[str, dict] = {}
    for operation in OPERATIONS.values():
        responses = {
            str(operation.status): {
                "description": "Success",
                "content": {operation.media_type: {"schema": operation.response or {"type": "object"}},
                            **{media: {"schema": schema_} for media, schema_ in operation.other_media_types.items()}},
            }
        }
        for status, description in ERROR_RESPONSES.items():
            if operation.public and status in ("401", "403"):
                continue
            responses[status] = {"description": description, "content": {"application/json": {"schema": ERROR}}}
        entry = {
            "operationId": operation.endpoint.split(".", 1)[-1],
            "summary": operation.summary,
            "tags": [operation.tag],
            "parameters": operation.parameters,
            "responses": responses,
        }
        if operation.public:
            entry["security"] = []
        if operation.request_body is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {operation.request_content_type: {"schema": operation.request_body}}}
        paths.setdefault(operation.path, {})[operation.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SafeHold API",
            "version": "1",
            "description": "Money is integer pence in fields ending _pence; dates are ISO 8601.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(SCHEMAS.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A personal API token (create one under API tokens, or "
                                          "`flask --app inventory create-token EMAIL`)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "safehold_session",
                            "description": "The web session; writes also need the X-CSRFToken header."},
            },
        },
    }


@api_route("/openapi.json", summary="This document.", public=True, tag="meta",
           response={"type": "object", "required": ["openapi", "paths"]})
def openapi_document():
    return jsonify(build_document())

