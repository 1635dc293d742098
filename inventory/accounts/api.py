from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.api import PAGE_PARAMS, api_route, page_of, query_param, schema
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, Role, login_required, permission_required

ROLE_NAMES = sorted(str(r) for r in Role)

ME = schema("Me", {
    "type": "object",
    "required": ["id", "email", "name", "roles", "organisation"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string", "enum": ROLE_NAMES}},
        "organisation": {
            "type": "object",
            "required": ["id", "name", "kind"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                           "kind": {"type": "string", "enum": ["lead", "partner"]}},
        },
    },
})

STAFF = schema("StaffMember", {
    "type": "object",
    "required": ["id", "name", "email", "roles"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string", "enum": ROLE_NAMES}},
    },
})

def serialise_staff(user: User) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email, "roles": user.roles}

@api_route("/me", summary="Who you are signed in as.", response=ME, tag="accounts")
@login_required
def me():
    organisation = current_user.organisation
    return jsonify({
        **serialise_staff(current_user),
        "organisation": {"id": organisation.id, "name": organisation.name, "kind": organisation.kind},
    })

@api_route("/users", summary="Active staff, e.g. fitters to assign (coordinators and admins).",
           response=page_of(STAFF), tag="accounts",
           query=[query_param("role", {"type": "string", "enum": ROLE_NAMES}), *PAGE_PARAMS])
@permission_required(Permission.LIST_STAFF)
def users():
    page, per_page = page_args()
    filters = Fields(request.args, text=True)
    role = filters.choice("role", Role, required=False)
    filters.check()
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if role is not None:
        query = query.where(User.holding(role))
    return jsonify(paginate(query, page, per_page).as_json(serialise_staff))
