"""Purchase orders for what approved requests await: what an order for a request would
carry, drafting one, and what raising or cancelling an order means for the requests it is
for (procurement fires the hooks; requests, built on procurement, react to them)."""
from dataclasses import dataclass

from sqlalchemy import select

from inventory.cases.models import Case
from inventory.catalogue.models import Supplier
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.permissions import Permission, has_permission
from inventory.procurement.models import PurchaseOrder, PurchaseOrderStatus
from inventory.procurement.orders import OrderLine, create_purchase_order
from inventory.requests import holdings
from inventory.requests import operations as requests
from inventory.requests.models import EquipmentRequest, RequestLine


@dataclass(frozen=True)
class ToOrder:
    """A request line's units awaiting stock that no open order is bringing yet."""

    line: RequestLine
    quantity: int

    @property
    def cost_pence(self) -> int:
        return self.quantity * self.line.item_type.standard_cost_pence


def still_to_order(request: EquipmentRequest) -> list[ToOrder]:
    """What an order for this request would carry: each line's uncovered units."""
    covered = holdings.covered_quantities(line.id for line in request.lines)
    wanted = [ToOrder(line, holdings.uncovered_quantity(line, covered)) for line in request.lines]
    return [row for row in wanted if row.quantity]


def draft_order_for_request(request_id: int, supplier_id: int, *, actor) -> PurchaseOrder:
    """A draft order for what an approved request still awaits and no open order brings,
    at standard cost, each line naming the request line it is for. Raising it converts the
    request's commitment."""
    if not has_permission(actor, Permission.MANAGE_PURCHASE_ORDERS):
        raise NotAllowed("Only coordinators and finance raise purchase orders.")
    request = requests.get_request(actor, request_id)
    if request.state_enum not in holdings.HOLDING_STATES:
        raise Conflict(f"This request is {request.state_enum.label.lower()}: it awaits nothing to order.",
                       code="wrong_state", details={"state": request.state})
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        raise InvalidInput("Choose a supplier.", fields={"supplier_id": "Choose an active supplier."})
    wanted = still_to_order(request)
    if not wanted:
        raise Conflict("Everything this request awaits is already on order.", code="nothing_to_order")
    return create_purchase_order(
        supplier=supplier, actor=actor, notes=f"For request {request.id} (case {request.case.reference})",
        lines=[OrderLine(row.line.item_type_id, row.quantity, row.line.item_type.standard_cost_pence,
                         request_line_id=row.line.id) for row in wanted])


def ordered_for_labels(request_line_ids: list[int]) -> dict[int, str]:
    """What each purchase order line is for, by request line: "Request 12 · case NS-2026-0142"."""
    rows = db.session.execute(
        select(RequestLine.id, EquipmentRequest.id, Case.reference)
        .join(EquipmentRequest, EquipmentRequest.id == RequestLine.request_id)
        .join(Case, Case.id == EquipmentRequest.case_id).where(RequestLine.id.in_(request_line_ids)))
    return {line_id: f"Request {request_id} · case {reference}" for line_id, request_id, reference in rows}


def convert_when_raised(order: PurchaseOrder, *, actor) -> None:
    """An order is being raised: the requests it is for hand over the commitment for the
    units it brings (receiver of procurement's `order_raising`)."""
    holdings.convert_for_order(order, holdings.lock_requests_of(order), actor=actor)


def recommit_when_cancelled(order: PurchaseOrder, *, actor):
    """An order is being cancelled (receiver of procurement's `order_cancelling`): lock the
    requests it is for before any ledger row is touched, and note what they would have to
    commit again; the callable returned commits it once the order is cancelled."""
    locked = holdings.lock_requests_of(order) if order.status != PurchaseOrderStatus.DRAFT else []
    need = holdings.need_covered_by(order, locked)
    return lambda: holdings.recommit_after_cancel(order, locked, need, actor=actor)
