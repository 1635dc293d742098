"""The JSON API under /api/v1 (docs/api.md), and its OpenAPI document.

Feature modules declare endpoints with `api_route`, which registers the view on this
blueprint and describes it in the OpenAPI document in the same breath, so the document
cannot fall behind the routes.
"""
import re
from dataclasses import dataclass, field

from flask import Blueprint, abort, request
from flask_login import current_user

from inventory.errors import NotFound
from inventory.extensions import csrf, db
from inventory.money import MAX_PENCE
from inventory.pagination import MAX_PAGE
from inventory.parsing import DEFAULT_TEXT_LIMIT, MAX_ID, MAX_WHOLE_NUMBER
from inventory.permissions import public as declare_public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token clients carry no ambient cookie; cookie clients are checked below


@dataclass
class Operation:
    path: str
    method: str
    endpoint: str
    summary: str
    response: dict | None
    status: int
    request_body: dict | None = None
    request_content_type: str = "application/json"
    parameters: list = field(default_factory=list)
    public: bool = False
    tag: str = "general"
    media_type: str = "application/json"  # of the success response (an image, for a QR)
    # Other media types the success response may come in (a ?format=csv), with their schemas.
    other_media_types: dict = field(default_factory=dict)


OPERATIONS: dict[str, Operation] = {}  # by endpoint name
SCHEMAS: dict[str, dict] = {}


def schema(name: str, definition: dict) -> dict:
    """Name a JSON Schema in components/schemas; returns a $ref to it."""
    SCHEMAS[name] = definition
    return ref(name)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# Request-side schemas that state the bounds inventory.parsing enforces, so the document
# refuses what the app refuses (Schemathesis checks both ways in `make api-fuzz`).
RECORD_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# A query-string flag, as inventory.parsing.boolean reads one.
FLAG = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on"]}


def whole_number(minimum: int = 0, maximum: int = MAX_WHOLE_NUMBER, **extra) -> dict:
    """An integer from `minimum` to `maximum`, as `Fields.whole_number` reads one."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def pence(*, allow_zero: bool = False, allow_negative: bool = False, **extra) -> dict:
    """An amount in pence as `Fields.pence` reads one: never over £1,000,000 either way."""
    bounds = {"minimum": -MAX_PENCE if allow_negative else 0 if allow_zero else 1, "maximum": MAX_PENCE}
    if allow_negative and not allow_zero:
        bounds["not"] = {"const": 0}
    return {"type": "integer", **bounds, **extra}


def text(max_length: int = DEFAULT_TEXT_LIMIT, *, required: bool = False, **extra) -> dict:
    """Text as `Fields.text` reads it: at most `max_length` characters; `required` text is
    more than spaces."""
    return {"type": "string", "maxLength": max_length, **({"pattern": r"\S"} if required else {}), **extra}


def page_of(item_ref: dict) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": item_ref},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
            "total": {"type": "integer", "minimum": 0,
                      "description": "How many match; a lower bound when total_exact is false."},
            "total_exact": {"type": "boolean",
                            "description": "False when counting stopped past 1,000 matches (or past the page asked for)."},
        },
    }


def _openapi_path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def replace(match):
        converter, name = match.group(1), match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": dict(RECORD_ID) if converter == "int" else {"type": "string"}})
        return "{" + name + "}"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", replace, rule)
    return path, params


def api_route(rule: str, method: str = "GET", *, summary: str, response: dict | None = None, status: int = 200,
              request_body: dict | None = None, query: list[dict] | None = None, public: bool = False,
              tag: str = "general", request_content_type: str = "application/json",
              media_type: str = "application/json", idempotent: bool = False,
              other_media_types: dict[str, dict] | None = None):
    """Register an API view and its OpenAPI description together.

    A request body is JSON unless `request_content_type` says otherwise (e.g.
    multipart/form-data for uploads); a response is JSON unless `media_type` says otherwise
    (e.g. image/svg+xml), or one of `other_media_types` where the view offers a choice (e.g.
    `?format=csv`). `idempotent=True` honours the Idempotency-Key header; such a view
    must not commit (inventory.api.idempotency commits it together with the stored answer).
    """

    def decorator(view):
        endpoint = view.__name__
        if idempotent:
            from inventory.api.idempotency import HEADER, idempotent as make_idempotent

            view = make_idempotent(view)
            query_params = [*(query or []), {"name": HEADER, "in": "header", "required": False,
                                             "schema": {"type": "string", "maxLength": 200},
                                             "description": "Makes a retry safe: the same key and body "
                                                            "return the first answer."}]
        else:
            query_params = list(query or [])
        if public:
            view = declare_public(view)
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        path, path_params = _openapi_path(rule)
        OPERATIONS[endpoint] = Operation(
            path=path, method=method.lower(), endpoint=f"api.{endpoint}", summary=summary, response=response,
            status=status, request_body=request_body, request_content_type=request_content_type,
            parameters=path_params + query_params, public=public, tag=tag, media_type=media_type,
            other_media_types=dict(other_media_types or {}),
        )
        return view

    return decorator



def found(model, record_id: int, what: str):
    """The record of `model` with this id, or the API's 404 naming what was looked for."""
    record = db.session.get(model, record_id)
    if record is None:
        raise NotFound(f"No such {what}.")
    return record


def query_param(name: str, schema_: dict, description: str = "") -> dict:
    """An optional query-string parameter; sent empty (`?page=`) it counts as left out."""
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True, "schema": schema_,
            "description": description}


PAGE_PARAMS = [
    query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 200},
                "At most 200 (the PER_PAGE_MAX setting)."),
]


@bp.before_request
def require_authentication():
    operation = OPERATIONS.get((request.endpoint or "").split(".", 1)[-1])
    if operation is not None and operation.public:
        return None
    if not current_user.is_authenticated:
        abort(401)
    # A browser calling with its session cookie must show the CSRF token, as forms do.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get("Authorization"):
        csrf.protect()
    return None


def register_api_modules() -> None:
    """Import each feature's API module once, so its routes are on the blueprint."""
    from inventory.accounts import api as _accounts  # noqa: F401
    from inventory.api import openapi as _openapi  # noqa: F401
    from inventory.procurement import api as _procurement  # noqa: F401
    from inventory.stock import api as _stock  # noqa: F401
    from inventory.budget import api as _budget  # noqa: F401
    from inventory.reconciliation import api as _reconciliation  # noqa: F401
    from inventory.cases import api as _cases  # noqa: F401
    from inventory.requests import api as _requests  # noqa: F401
    from inventory.jobs import api as _jobs  # noqa: F401
    from inventory.reports import api as _reports  # noqa: F401
