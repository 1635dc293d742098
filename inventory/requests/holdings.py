"""What an approved request holds: specific in-stock units reserved to it, and money
committed in the ledger for the shortfall that stock cannot cover (its estimated cost).

Approval reserves first, then commits; if the budget refuses, the use case rolls back
whole, reservations included. Withdrawal hands both back.
"""
from dataclasses import dataclass

from sqlalchemy import func, select

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import EntryKind, LedgerEntry, SourceType
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.money import format_pence
from inventory.requests.models import EquipmentRequest, RequestLine
from inventory.stock import operations as stock
from inventory.stock.models import Item, ItemState


@dataclass(frozen=True)
class LineHolding:
    line: RequestLine
    approved: int
    reserved: int

    @property
    def awaiting(self) -> int:
        return self.approved - self.reserved

    @property
    def awaiting_pence(self) -> int:
        return self.awaiting * self.line.item_type.standard_cost_pence


def reserve_units(request: EquipmentRequest, line: RequestLine, quantity: int, *, actor) -> int:
    """Reserve up to `quantity` in-stock units of the line's type; returns how many.

    Units another transaction is reserving right now are skipped (SKIP LOCKED), so two
    approvals wanting the last unit do not queue behind each other: one gets it, the other
    a shortfall.
    """
    if quantity == 0:
        return 0
    units = db.session.scalars(
        select(Item).where(Item.item_type_id == line.item_type_id, Item.state == ItemState.IN_STOCK)
        .order_by(Item.id).limit(quantity).with_for_update(skip_locked=True)).all()
    for unit in units:
        stock.reserve_item(unit, for_request_id=request.id, actor=actor)
    return len(units)


def commit_shortfall(request: EquipmentRequest, holdings: list[LineHolding], *, actor) -> None:
    """Commit each line's shortfall at its standard cost; BudgetExceeded becomes an offer to
    approve the part that stock and the budget can cover."""
    committed = 0
    for holding in holdings:
        if holding.awaiting_pence == 0:
            continue
        try:
            ledger.commit(holding.awaiting_pence, on=clock.today(), actor=actor, source_type=SourceType.REQUEST,
                          source_id=request.id, category=holding.line.item_type.category_label,
                          case_reference=request.case.reference,
                          memo=f"Request {request.id}: {holding.awaiting} × {holding.line.item_type.name} awaiting stock")
        except ledger.BudgetExceeded as refused:
            available = refused.details["available_pence"] + committed
            raise budget_refusal(holdings, available, refused) from None
        committed += holding.awaiting_pence


def budget_refusal(holdings: list[LineHolding], available_pence: int, refused: Conflict) -> Conflict:
    """The refusal, with available vs needed and the largest part that fits (stock first)."""
    needed = sum(h.awaiting_pence for h in holdings)
    if "overspend_alert_id" in refused.details:
        available_pence = 0
    suggestion, left = [], available_pence
    for h in holdings:
        cost = h.line.item_type.standard_cost_pence
        affordable = h.awaiting if cost == 0 else min(h.awaiting, max(left, 0) // cost)
        left -= affordable * cost
        suggestion.append({"line_id": h.line.id, "quantity": h.reserved + affordable})
    message = (f"{refused.message} Stock covers part of this request; you can approve what stock and "
               f"{format_pence(max(available_pence, 0))} of budget cover.")
    return Conflict(message, code="budget_exceeded", details={
        **refused.details, "available_pence": available_pence, "needed_pence": needed,
        "suggested_lines": suggestion})


def holdings_of(request: EquipmentRequest) -> list[LineHolding]:
    """Each approved line with the units reserved to it now (one grouped query)."""
    reserved = dict(db.session.execute(
        select(Item.item_type_id, func.count()).where(Item.reserved_for_request_id == request.id,
                                                      Item.state == ItemState.RESERVED)
        .group_by(Item.item_type_id)).all())
    return [LineHolding(line=line, approved=line.approved_quantity or 0, reserved=reserved.get(line.item_type_id, 0))
            for line in request.lines]


def release_holdings(request: EquipmentRequest, *, actor, why: str) -> None:
    """Hand back every unit reserved to the request and whatever of its commitments is open."""
    for unit in db.session.scalars(select(Item).where(Item.reserved_for_request_id == request.id,
                                                      Item.state == ItemState.RESERVED).order_by(Item.id)):
        stock.release_reservation(unit, actor=actor, note=why)
    commitments = db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.source_type == SourceType.REQUEST, LedgerEntry.source_id == request.id,
        LedgerEntry.kind == EntryKind.COMMITMENT).order_by(LedgerEntry.id))
    for commitment in commitments:
        if ledger.open_amount_pence(commitment) > 0:
            ledger.release(commitment, on=clock.today(), actor=actor, memo=f"Request {request.id}: {why}")
