"""The queue: requests awaiting a decision, highest priority first, ordered by the database
on the indexed priority_key (see priority.py), never by loading every request."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, selectinload

from inventory.cases.models import Case, RiskLevel
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.requests.models import EquipmentRequest, RequestLine, RequestState
from inventory.requests.priority import ScorePart, need_parts, per_day_weight, score_on
from inventory.stock.models import Item, ItemState


@dataclass(frozen=True)
class QueueFilters:
    organisation_id: int | None = None
    risk_level: RiskLevel | None = None
    overdue: bool = False
    item_type_id: int | None = None

    @classmethod
    def from_args(cls, args) -> "QueueFilters":
        """The filters in a query string, or InvalidInput naming each that cannot be read."""
        fields = Fields(args, text=True)
        filters = cls(organisation_id=fields.record_id("organisation_id", required=False),
                      risk_level=fields.choice("risk_level", RiskLevel, required=False),
                      overdue=bool(fields.boolean("overdue", required=False)),
                      item_type_id=fields.record_id("item_type_id", required=False))
        fields.check()
        return filters


def past_decision_target(today: date):
    """The queue's `overdue`: a waiting request whose decision target date has passed."""
    return EquipmentRequest.decide_by < today


def queue_query(filters: QueueFilters, today: date) -> Select:
    query = (select(EquipmentRequest).join(EquipmentRequest.case)
             .where(EquipmentRequest.state == RequestState.SUBMITTED)
             .options(contains_eager(EquipmentRequest.case).selectinload(Case.organisation),
                      selectinload(EquipmentRequest.lines).selectinload(RequestLine.item_type))
             # Backwards along ix_requests_queue (state, priority_key, id).
             .order_by(EquipmentRequest.priority_key.desc(), EquipmentRequest.id.desc()))
    if filters.organisation_id is not None:
        query = query.where(Case.organisation_id == filters.organisation_id)
    if filters.risk_level is not None:
        query = query.where(Case.risk_level == filters.risk_level)
    if filters.overdue:
        query = query.where(past_decision_target(today))
    if filters.item_type_id is not None:
        query = query.where(EquipmentRequest.id.in_(
            select(RequestLine.request_id).where(RequestLine.item_type_id == filters.item_type_id)))
    return query


@dataclass(frozen=True)
class LineCover:
    """One line of a request beside the units of its item type in stock now."""
    line: RequestLine
    in_stock: int

    @property
    def covered(self) -> bool:
        return self.in_stock >= self.line.quantity

    @property
    def short_by(self) -> int:
        return max(self.line.quantity - self.in_stock, 0)


@dataclass(frozen=True)
class QueueRow:
    request: EquipmentRequest
    score: int
    parts: list[ScorePart]
    waiting_days: int
    overdue: bool
    est_cost_pence: int
    cover: list[LineCover]

    @property
    def stock_covers(self) -> bool:
        return all(line.covered for line in self.cover)


def estimated_cost_pence(request: EquipmentRequest) -> int:
    return sum(line.quantity * line.item_type.standard_cost_pence for line in request.lines)


def score_parts(request: EquipmentRequest, today: date) -> list[ScorePart]:
    """The score, part by part: risk, each need flag, any coordinator's move, days waiting."""
    waiting = (today - request.submitted_on).days
    parts = need_parts(request.case)
    if request.manual_adjustment:
        direction = "up" if request.manual_adjustment > 0 else "down"
        parts.append(ScorePart(f"Moved {direction} by a coordinator", request.manual_adjustment))
    parts.append(ScorePart(f"Waiting {waiting} day{'s' if waiting != 1 else ''}", per_day_weight() * waiting))
    return parts


def in_stock_counts(item_type_ids) -> dict[int, int]:
    """Units in stock now, by item type (one grouped query for a whole page)."""
    rows = db.session.execute(
        select(Item.item_type_id, func.count()).where(Item.state == ItemState.IN_STOCK,
                                                      Item.item_type_id.in_(set(item_type_ids)))
        .group_by(Item.item_type_id))
    return dict(rows.all())


def queue_rows(requests: list[EquipmentRequest], today: date) -> list[QueueRow]:
    in_stock = in_stock_counts(line.item_type_id for request in requests for line in request.lines)
    return [QueueRow(
        request=request, score=score_on(request.priority_key, today), parts=score_parts(request, today),
        waiting_days=(today - request.submitted_on).days, overdue=request.decide_by < today,
        est_cost_pence=estimated_cost_pence(request),
        cover=[LineCover(line, in_stock.get(line.item_type_id, 0)) for line in request.lines],
    ) for request in requests]


def queue_row(request: EquipmentRequest, today: date) -> QueueRow:
    """The request as the queue shows it (score and its parts, cost, stock cover), for the
    request page where the decision is made."""
    return queue_rows([request], today)[0]


@dataclass(frozen=True)
class RiskCount:
    risk_level: RiskLevel
    waiting: int  # awaiting a decision
    overdue: int  # of those, past their decision target


def counts_by_risk(today: date) -> list[RiskCount]:
    """The queue counted per risk level, high first: requests awaiting a decision and those
    past their decision target (the queue's `overdue`), in one grouped statement."""
    found = {RiskLevel(level): (waiting, overdue) for level, waiting, overdue in db.session.execute(
        select(Case.risk_level, func.count(), func.count().filter(past_decision_target(today)))
        .select_from(EquipmentRequest).join(EquipmentRequest.case)
        .where(EquipmentRequest.state == RequestState.SUBMITTED).group_by(Case.risk_level))}
    return [RiskCount(level, *found.get(level, (0, 0))) for level in reversed(list(RiskLevel))]
