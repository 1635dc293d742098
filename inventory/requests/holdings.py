"""What an approved request holds: specific in-stock units reserved to it, and money
committed in the ledger for the shortfall that stock cannot cover (its estimated cost).

Approval reserves first, then commits; if the budget refuses, the use case rolls back
whole, reservations included. Goods arriving later go to requests still awaiting them,
highest priority first, and each unit so reserved hands back its estimated cost from the
request's commitment. Withdrawal hands everything back.

A purchase order line may be ordered for a request line. Raising the order converts the
request's commitment for those units into the order's (money is never committed twice),
so a request line's units awaiting stock are either *covered* (outstanding on an open
order for it, money committed by the order) or *uncovered* (money committed by the
request). The request's open commitment in each category is kept at the standard cost of
its uncovered units: released as units arrive (`settle_commitments`) or an order for them
is raised (`convert_for_order`), committed again if that order is cancelled
(`recommit_after_cancel`).
"""
from sqlalchemy import case, func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.money import format_pence
from inventory.procurement.models import (
    OPEN_FOR_RECEIPT,
    PurchaseOrder,
    PurchaseOrderLine,
)
from inventory.requests.models import EquipmentRequest, RequestLine, RequestState
from inventory.requests.part_that_fits import LineNeed, part_that_fits
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemState

S = RequestState
# Requests whose approved units may still await stock, with money committed for them. (A
# withdrawn request has handed everything back; a fulfilled one awaits nothing.)
HOLDING_STATES = (S.APPROVED, S.PARTLY_APPROVED, S.SCHEDULED, S.PARTLY_FULFILLED)
# Requests that arriving goods are reserved to. A partly fulfilled request is still owed
# the rest and can have another visit booked; a scheduled one waits until its visit is
# over, so that the units on an open job do not change under the fitter.
SERVED_STATES = (S.APPROVED, S.PARTLY_APPROVED, S.PARTLY_FULFILLED)


def reserve_units(request: EquipmentRequest, line: RequestLine, quantity: int, *, actor) -> int:
    """Reserve up to `quantity` in-stock units of the line's type; returns how many.

    Units another transaction is reserving right now are skipped (SKIP LOCKED), so two
    approvals wanting the last unit do not queue behind each other: one gets it, the other
    a shortfall.
    """
    if quantity <= 0:
        return 0
    units = db.session.scalars(
        select(Item).where(Item.item_type_id == line.item_type_id, Item.state == ItemState.IN_STOCK)
        .order_by(Item.id).limit(quantity).with_for_update(skip_locked=True)).all()
    for unit in units:
        stock.reserve_item(unit, for_request_id=request.id, actor=actor)
    line.reserved_quantity += len(units)
    return len(units)


def awaiting_pence(line: RequestLine) -> int:
    return line.awaiting_quantity * line.item_type.standard_cost_pence


def commit_shortfall(request: EquipmentRequest, *, actor) -> None:
    """Commit each line's shortfall at its standard cost; BudgetExceeded becomes an offer to
    approve the part that stock and the budget can cover."""
    committed = 0
    for line in request.lines:
        amount = awaiting_pence(line)
        if amount == 0:
            continue
        try:
            ledger.commit(amount, on=clock.today(), actor=actor, source_type=SourceType.REQUEST, source_id=request.id,
                          category=line.item_type.budget_category.name, case_reference=request.case.reference,
                          memo=f"Request {request.id}: {line.awaiting_quantity} × {line.item_type.name} awaiting stock")
        except ledger.BudgetExceeded as refused:
            # What was available before this request's own lines took any of it.
            raise budget_refusal(request, refused.details["available_pence"] + committed, refused) from None
        committed += amount


def _units(lines_and_quantities) -> str:
    return ", ".join(f"{quantity} × {line.item_type.name}" for line, quantity in lines_and_quantities)


def budget_refusal(request: EquipmentRequest, available_pence: int, refused: Conflict) -> Conflict:
    """The refusal of a request the budget cannot cover whole: one figure needed (the
    standard cost of every unit stock does not cover) against one available (none while an
    overspend alert is open), and the part that fits chosen by need (`part_that_fits`),
    naming what it leaves out."""
    alert_id = refused.details.get("overspend_alert_id")
    if alert_id is not None:
        available_pence = 0
    available_pence = max(available_pence, 0)
    lines = list(request.lines)
    needed = sum(awaiting_pence(line) for line in lines)
    fits = part_that_fits([LineNeed(line.id, line.item_type.standard_cost_pence, line.reserved_quantity,
                                    line.awaiting_quantity, line.urgent) for line in lines], available_pence)
    offered = list(zip(lines, fits, strict=True))
    left_out = [(line, (line.approved_quantity or 0) - quantity) for line, quantity in offered
                if (line.approved_quantity or 0) > quantity]
    if alert_id is not None:
        message = (f"No new commitments while an overspend alert is open: {format_pence(needed)} needed for what "
                   f"stock does not cover, {format_pence(0)} available until finance resolves it.")
    else:
        message = (f"Not enough budget for this request: {format_pence(needed)} needed for what stock does not "
                   f"cover, {format_pence(available_pence)} available.")
    given = [(line, quantity) for line, quantity in offered if quantity > 0]
    message += f" The part that fits: {_units(given)}." if given else " No part of it fits."
    if left_out:
        message += f" It leaves out {_units(left_out)}."
    details = {"available_pence": available_pence, "needed_pence": needed,
               "shortfall_pence": needed - available_pence,
               "suggested_lines": [{"line_id": line.id, "item_type": line.item_type.name, "quantity": quantity}
                                   for line, quantity in offered],
               "left_out_lines": [{"line_id": line.id, "item_type": line.item_type.name, "quantity": quantity}
                                  for line, quantity in left_out]}
    if alert_id is not None:
        details["overspend_alert_id"] = alert_id
    return Conflict(message, code="budget_exceeded", details=details)


def _commitments(request: EquipmentRequest, category: str | None = None):
    query = select(LedgerEntry).where(LedgerEntry.source_type == SourceType.REQUEST,
                                      LedgerEntry.source_id == request.id, LedgerEntry.kind == EntryKind.COMMITMENT)
    if category is not None:
        query = query.where(LedgerEntry.category == category)
    return db.session.scalars(query.order_by(LedgerEntry.id)).all()


def _release(request: EquipmentRequest, *, actor, why: str, category: str | None = None,
             amount_pence: int | None = None) -> None:
    """Release open commitments of the request (of one category), all or up to an amount."""
    left = amount_pence
    for commitment in _commitments(request, category):
        still_open = ledger.open_amount_pence(commitment)
        if still_open == 0 or left == 0:
            continue
        part = still_open if left is None else min(still_open, left)
        ledger.release(commitment, part, on=clock.today(), actor=actor, memo=f"Request {request.id}: {why}")
        if left is not None:
            left -= part


def reserve_arrivals(item_type_id: int, *, actor, first_line_id: int | None = None) -> int:
    """Give in-stock units of a type to requests awaiting it, the request line
    `first_line_id` first (goods ordered for it), then highest priority first; returns how
    many units were reserved. Each request's commitment comes down to what its still
    uncovered units cost, so units already paid for by a converted order release nothing."""
    waiting = db.session.execute(
        select(EquipmentRequest, RequestLine).join(RequestLine.request)
        .where(RequestLine.item_type_id == item_type_id, EquipmentRequest.state.in_(SERVED_STATES),
               RequestLine.reserved_quantity < RequestLine.approved_quantity)
        .order_by(case((RequestLine.id == first_line_id, 0), else_=1), EquipmentRequest.priority_key.desc(),
                  EquipmentRequest.id.desc())
        .with_for_update(of=[EquipmentRequest, RequestLine])).all()
    reserved = 0
    for request, line in waiting:
        wanted = line.awaiting_quantity
        got = reserve_units(request, line, wanted, actor=actor)
        if got:
            settle_commitments(request, actor=actor, why=f"{got} × {line.item_type.name} arrived in stock",
                               categories={line.item_type.budget_category.name})
        reserved += got
        if got < wanted:
            break  # nothing of this type left in stock
    return reserved


def covered_quantities(line_ids) -> dict[int, int]:
    """{request line id: units still to come on open purchase orders for it}."""
    outstanding = PurchaseOrderLine.quantity_ordered - PurchaseOrderLine.quantity_received
    return dict(db.session.execute(
        select(PurchaseOrderLine.request_line_id, func.sum(outstanding)).join(PurchaseOrderLine.purchase_order)
        .where(PurchaseOrderLine.request_line_id.in_(list(line_ids)), PurchaseOrder.status.in_(OPEN_FOR_RECEIPT))
        .group_by(PurchaseOrderLine.request_line_id)).all())


def uncovered_quantity(line: RequestLine, covered: dict[int, int]) -> int:
    """Units of the line awaiting stock that no open order is bringing."""
    if line.request.state_enum not in HOLDING_STATES:
        return 0
    return max(line.awaiting_quantity - covered.get(line.id, 0), 0)


def target_pence(request: EquipmentRequest, category: str, covered: dict[int, int]) -> int:
    """What the request should have committed in a category: its uncovered units at standard cost."""
    return sum(uncovered_quantity(line, covered) * line.item_type.standard_cost_pence
               for line in request.lines if line.item_type.budget_category.name == category)


def open_pence(request: EquipmentRequest, category: str) -> int:
    return sum(ledger.open_amount_pence(commitment) for commitment in _commitments(request, category))


def settle_commitments(request: EquipmentRequest, *, actor, why: str, categories: set[str]) -> None:
    """Release whatever the request has committed in these categories beyond the standard
    cost of its uncovered units."""
    covered = covered_quantities(line.id for line in request.lines)
    for category in sorted(categories):
        excess = open_pence(request, category) - target_pence(request, category, covered)
        if excess > 0:
            _release(request, actor=actor, why=why, category=category, amount_pence=excess)


def lock_requests_of(order: PurchaseOrder) -> list[EquipmentRequest]:
    """Lock the requests that an order's lines are for, in id order, and read their lines
    afresh. Done before any ledger row is touched, as withdrawing a request does, so the two
    cannot deadlock; whoever locks second sees what the first did."""
    ids = sorted({line.request_line.request_id for line in order.lines if line.request_line_id is not None})
    if not ids:
        return []
    requests = list(db.session.scalars(
        select(EquipmentRequest).where(EquipmentRequest.id.in_(ids)).order_by(EquipmentRequest.id)
        .with_for_update(of=EquipmentRequest).execution_options(populate_existing=True)))
    db.session.scalars(select(RequestLine).where(RequestLine.request_id.in_(ids))
                       .execution_options(populate_existing=True)).all()
    return requests


def _ordered_for(order: PurchaseOrder) -> dict[int, int]:
    """{request line id: units this order brings for it}."""
    ordered: dict[int, int] = {}
    for line in order.lines:
        if line.request_line_id is not None:
            ordered[line.request_line_id] = ordered.get(line.request_line_id, 0) + line.outstanding
    return ordered


def _categories_for(request: EquipmentRequest, line_ids) -> set[str]:
    return {line.item_type.budget_category.name for line in request.lines if line.id in line_ids}


def convert_for_order(order: PurchaseOrder, requests: list[EquipmentRequest], *, actor) -> None:
    """Raising `order`: release from each request it is for the standard cost of the units it
    now brings, capped at what the request line still awaits that no other open order is
    bringing and at what is still open. Call before the order's own commitment, so the
    budget check sees the money freed."""
    ordered = _ordered_for(order)
    for request in requests:
        before = covered_quantities(line.id for line in request.lines)
        for category in sorted(_categories_for(request, ordered)):
            drop = target_pence(request, category, before) - target_pence(request, category, {
                **before, **{i: before.get(i, 0) + q for i, q in ordered.items()}})
            amount = min(drop, open_pence(request, category))
            if amount > 0:
                _release(request, actor=actor, why=f"converted to {order.reference}", category=category,
                         amount_pence=amount)


def need_covered_by(order: PurchaseOrder, requests: list[EquipmentRequest]) -> dict[tuple[int, str], int]:
    """{(request id, category): what the requests would have to commit again if `order` (open,
    about to be cancelled) stopped bringing its outstanding units}."""
    ordered = _ordered_for(order)
    need = {}
    for request in requests:
        with_order = covered_quantities(line.id for line in request.lines)
        without = {i: q - ordered.get(i, 0) for i, q in with_order.items()}
        for category in _categories_for(request, ordered):
            need[(request.id, category)] = (target_pence(request, category, without)
                                            - target_pence(request, category, with_order))
    return need


def recommit_after_cancel(order: PurchaseOrder, requests: list[EquipmentRequest],
                          need: dict[tuple[int, str], int], *, actor) -> None:
    """The cancelled order no longer brings what its requests await: commit their standard
    cost again (what `need_covered_by` found, less anything still open beyond the target).
    Refused with `budget_exceeded` if the budget cannot hold it."""
    for request in requests:
        covered = covered_quantities(line.id for line in request.lines)
        for category in sorted(_categories_for(request, _ordered_for(order))):
            short = target_pence(request, category, covered) - open_pence(request, category)
            amount = min(need.get((request.id, category), 0), short)
            if amount <= 0:
                continue
            try:
                ledger.commit(amount, on=clock.today(), actor=actor, source_type=SourceType.REQUEST,
                              source_id=request.id, category=category, case_reference=request.case.reference,
                              memo=f"Request {request.id}: awaiting stock again, {order.reference} cancelled")
            except ledger.BudgetExceeded as refused:
                raise Conflict(
                    f"{order.reference} was bringing items that request {request.id} still awaits; cancelling "
                    f"it commits their estimated cost to the request again, and the budget cannot hold it. "
                    f"{refused.message}", code="budget_exceeded",
                    details={**refused.details, "request_id": request.id}) from None


def requests_owning_commitments(sources: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Of these (source_type, source_id) with money committed, the requests still holding:
    approved, with a line still awaiting stock (receiver of the ledger verification's
    `open_commitment_owners`)."""
    ids = [source_id for source_type, source_id in sources if source_type == SourceType.REQUEST]
    if not ids:
        return set()
    return {(str(SourceType.REQUEST), request_id) for request_id in db.session.scalars(
        select(EquipmentRequest.id).join(RequestLine, RequestLine.request_id == EquipmentRequest.id)
        .where(EquipmentRequest.id.in_(ids), EquipmentRequest.state.in_([str(s) for s in HOLDING_STATES]),
               func.coalesce(RequestLine.approved_quantity, 0) > RequestLine.reserved_quantity).distinct())}


def after_visit(request: EquipmentRequest, not_handed_over: list[tuple[int, bool]], *, actor) -> None:
    """A visit has closed; `not_handed_over` is (item type id, still wanted) for each unit it
    did not hand over, each now back in stock or written off, so the request's lines no
    longer hold them. One no longer wanted (declined, or the wrong item) comes off the
    line's approved quantity. So that another visit can be booked straight away, whatever
    the request still awaits is reserved from stock where there is some (stock that arrived
    while the visit was booked included), and its commitment comes down by what that
    covers. What stock cannot cover waits for arrivals."""
    # The request first, then its lines: the order in which arriving goods lock them.
    db.session.execute(select(EquipmentRequest.id).where(EquipmentRequest.id == request.id)
                       .with_for_update(of=EquipmentRequest))
    lines = list(db.session.scalars(
        select(RequestLine).where(RequestLine.request_id == request.id).order_by(RequestLine.id)
        .with_for_update(of=RequestLine).execution_options(populate_existing=True)))
    by_type = {line.item_type_id: line for line in lines}
    for item_type_id, still_wanted in not_handed_over:
        line = by_type[item_type_id]
        line.reserved_quantity -= 1
        if not still_wanted:
            line.approved_quantity -= 1
    db.session.flush()
    covered = set()
    for line in lines:
        if line.awaiting_quantity > 0 and reserve_units(request, line, line.awaiting_quantity, actor=actor):
            covered.add(line.item_type.budget_category.name)
    if covered:
        settle_commitments(request, actor=actor, why="units in stock reserved when a visit closed",
                           categories=covered)


def release_holdings(request: EquipmentRequest, *, actor, why: str) -> None:
    """Hand back every unit reserved to the request and whatever of its commitments is open."""
    for unit in db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id,
                                                      Item.state == ItemState.RESERVED).order_by(Item.id)):
        stock.release_reservation(unit, actor=actor, note=why)
    for line in request.lines:
        line.reserved_quantity = 0
    _release(request, actor=actor, why=why)
