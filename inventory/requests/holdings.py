"""What an approved request holds: specific in-stock units reserved to it, and money
committed in the ledger for the shortfall that stock cannot cover (its estimated cost).

Approval reserves first, then commits; if the budget refuses, the use case rolls back
whole, reservations included. Goods arriving later go to approved requests still awaiting
them, highest priority first, and each unit so reserved hands back its estimated cost from
the request's commitment. Withdrawal hands everything back.
"""
from sqlalchemy import select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.money import format_pence
from inventory.requests.models import EquipmentRequest, RequestLine, RequestState
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemState

APPROVED_STATES = (RequestState.APPROVED, RequestState.PARTLY_APPROVED)


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
                          category=line.item_type.category_label, case_reference=request.case.reference,
                          memo=f"Request {request.id}: {line.awaiting_quantity} × {line.item_type.name} awaiting stock")
        except ledger.BudgetExceeded as refused:
            raise budget_refusal(request, refused.details["available_pence"] + committed, refused) from None
        committed += amount


def budget_refusal(request: EquipmentRequest, available_pence: int, refused: Conflict) -> Conflict:
    """The refusal, with available vs needed and the largest part that fits (stock first)."""
    needed = sum(awaiting_pence(line) for line in request.lines)
    if "overspend_alert_id" in refused.details:
        available_pence = 0
    suggestion, left = [], max(available_pence, 0)
    for line in request.lines:
        cost = line.item_type.standard_cost_pence
        affordable = line.awaiting_quantity if cost == 0 else min(line.awaiting_quantity, left // cost)
        left -= affordable * cost
        suggestion.append({"line_id": line.id, "quantity": line.reserved_quantity + affordable})
    message = (f"{refused.message} Stock covers part of this request; you can approve what stock and "
               f"{format_pence(max(available_pence, 0))} of budget cover.")
    return Conflict(message, code="budget_exceeded", details={
        **refused.details, "available_pence": available_pence, "needed_pence": needed,
        "suggested_lines": suggestion})


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


def reserve_arrivals(item_type_id: int, *, actor) -> int:
    """Give in-stock units of a type to approved requests awaiting it, highest priority first;
    returns how many units were reserved."""
    waiting = db.session.execute(
        select(EquipmentRequest, RequestLine).join(RequestLine.request)
        .where(RequestLine.item_type_id == item_type_id, EquipmentRequest.state.in_(APPROVED_STATES),
               RequestLine.reserved_quantity < RequestLine.approved_quantity)
        .order_by(EquipmentRequest.priority_key.desc(), EquipmentRequest.id.desc())
        .with_for_update(of=[EquipmentRequest, RequestLine])).all()
    reserved = 0
    for request, line in waiting:
        wanted = line.awaiting_quantity
        got = reserve_units(request, line, wanted, actor=actor)
        if got:
            _release(request, actor=actor, why=f"{got} × {line.item_type.name} arrived in stock",
                     category=line.item_type.category_label, amount_pence=got * line.item_type.standard_cost_pence)
        reserved += got
        if got < wanted:
            break  # nothing of this type left in stock
    return reserved


def release_holdings(request: EquipmentRequest, *, actor, why: str) -> None:
    """Hand back every unit reserved to the request and whatever of its commitments is open."""
    for unit in db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id,
                                                      Item.state == ItemState.RESERVED).order_by(Item.id)):
        stock.release_reservation(unit, actor=actor, note=why)
    for line in request.lines:
        line.reserved_quantity = 0
    _release(request, actor=actor, why=why)
