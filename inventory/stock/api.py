"""Catalogue and stock endpoints of the JSON API (docs/api.md)."""
from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from inventory.api import PAGE_PARAMS, RECORD_ID, api_route, found, page_of, query_param, schema
from inventory.catalogue.models import ItemType
from inventory.pagination import page_args, paginate
from inventory.parsing import Fields
from inventory.permissions import Permission, has_permission, login_required, can_see_item_case, permission_required
from inventory.stock import operations, queries
from inventory.stock.models import Item, ItemState
from inventory.stock.qr import svg_for_item

STATES = [str(s) for s in ItemState]

ITEM_TYPE = schema("ItemType", {
    "type": "object",
    "required": ["id", "name", "category", "loaned", "connected_device", "standard_cost_pence", "reorder_level"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "category": {"type": "string", "description": "the category's label (fixed list, or one an admin named)"},
        "loaned": {"type": "boolean"},
        "connected_device": {"type": "boolean"},
        "standard_cost_pence": {"type": "integer", "minimum": 0},
        "reorder_level": {"type": "integer", "minimum": 0},
        "active": {"type": "boolean"},
    },
})

STOCK_LEVEL = schema("StockLevel", {
    "type": "object",
    "required": ["item_type_id", "item_type", "in_stock", "reserved", "issued", "quarantine", "on_order",
                 "below_reorder"],
    "properties": {
        "item_type_id": {"type": "integer"},
        "item_type": {"type": "string"},
        "in_stock": {"type": "integer", "minimum": 0},
        "reserved": {"type": "integer", "minimum": 0},
        "issued": {"type": "integer", "minimum": 0},
        "quarantine": {"type": "integer", "minimum": 0},
        "on_order": {"type": "integer", "minimum": 0},
        "reorder_level": {"type": "integer", "minimum": 0},
        "below_reorder": {"type": "boolean"},
    },
})

ITEM = schema("Item", {
    "type": "object",
    "required": ["id", "code", "item_type", "state"],
    "description": "Who asks decides what is shown: a fitter sees only the type and state; stock staff "
                   "also see where it is and where it came from; case_id only where your role may see cases.",
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "item_type": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "item_type_id": {"type": "integer"},
        "location": {"type": ["object", "null"], "required": ["id", "name", "kind"],
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                    "kind": {"type": "string", "enum": ["store", "van"]}}},
        "serial_number": {"type": ["string", "null"]},
        "purchase_cost_pence": {"type": ["integer", "null"]},
        "supplier_id": {"type": ["integer", "null"]},
        "purchase_order_id": {"type": ["integer", "null"]},
        "awaiting_wipe": {"type": "boolean"},
        "write_off_reason": {"type": ["string", "null"]},
        "reserved_for_request_id": {"type": ["integer", "null"]},
        "case_id": {"type": ["integer", "null"]},
    },
})


def serialise_item_type(item_type: ItemType) -> dict:
    return {"id": item_type.id, "name": item_type.name, "category": item_type.category_label,
            "loaned": item_type.loaned, "connected_device": item_type.connected_device,
            "standard_cost_pence": item_type.standard_cost_pence, "reorder_level": item_type.reorder_level,
            "active": item_type.active}


def serialise_item(item: Item, viewer) -> dict:
    shown = {"id": item.id, "code": item.code, "item_type": item.item_type.name, "state": item.state}
    if not has_permission(viewer, Permission.VIEW_STOCK):
        return shown
    location = item.location
    shown.update({
        "item_type_id": item.item_type_id,
        "location": {"id": location.id, "name": location.name, "kind": location.kind} if location else None,
        "serial_number": item.serial_number, "purchase_cost_pence": item.purchase_cost_pence,
        "supplier_id": item.supplier_id, "purchase_order_id": item.purchase_order_id,
        "awaiting_wipe": item.awaiting_wipe, "write_off_reason": item.write_off_reason,
    })
    if can_see_item_case(viewer):
        shown["reserved_for_request_id"] = item.reserved_for_request_id
        shown["case_id"] = item.issued_case_id
    return shown


@api_route("/item-types", summary="The catalogue's active item types.", response=page_of(ITEM_TYPE),
           tag="stock", query=PAGE_PARAMS)
@login_required
def item_types():
    page, per_page = page_args()
    query = select(ItemType).where(ItemType.active.is_(True)).order_by(ItemType.name, ItemType.id)
    return jsonify(paginate(query, page, per_page).as_json(serialise_item_type))


@api_route("/stock", summary="Units per state for each item type; below_reorder flags low stock.",
           response=page_of(STOCK_LEVEL), tag="stock", query=PAGE_PARAMS)
@permission_required(Permission.VIEW_STOCK)
def stock():
    page, per_page = page_args()
    result = paginate(queries.stock_levels_query(), page, per_page, scalars=False)
    return jsonify(result.as_json(lambda row: _level_json(queries.StockLevel.from_row(row))))


def _level_json(level: queries.StockLevel) -> dict:
    return {"item_type_id": level.item_type_id, "item_type": level.item_type, "in_stock": level.in_stock,
            "reserved": level.reserved, "issued": level.issued, "quarantine": level.quarantine,
            "on_order": level.on_order, "reorder_level": level.reorder_level, "below_reorder": level.below_reorder}


@api_route("/items/by-code/<code>", summary="Look an item up by its code, as typed or scanned. Stock staff "
           "resolve any code; a fitter only the codes of items on their own open jobs (any other is a 404, "
           "unknown_code).", response=ITEM, tag="stock")
@permission_required(Permission.SCAN_ITEMS, Permission.VIEW_STOCK)
def item_by_code(code: str):
    return jsonify(serialise_item(operations.resolve_code(code, viewer=current_user), current_user))


@api_route("/items", summary="Items, filtered by state and item type.", response=page_of(ITEM), tag="stock",
           query=[query_param("state", {"type": "string", "enum": STATES}),
                  query_param("item_type_id", RECORD_ID),
                  query_param("location_id", RECORD_ID), *PAGE_PARAMS])
@permission_required(Permission.VIEW_STOCK)
def items():
    page, per_page = page_args()
    args = Fields(request.args, text=True)
    filters = queries.ItemFilters.read(args)
    args.check()
    return jsonify(paginate(queries.items_query(filters), page, per_page).as_json(
        lambda item: serialise_item(item, current_user)))


@api_route("/items/<int:item_id>/qr", summary="The item's QR symbol (SVG), exactly as printed on its label.",
           response={"type": "string"}, tag="stock", media_type="image/svg+xml")
@permission_required(Permission.PRINT_LABELS, Permission.VIEW_STOCK)
def item_qr(item_id: int):
    item = found(Item, item_id, "item")
    return Response(svg_for_item(item), mimetype="image/svg+xml")
