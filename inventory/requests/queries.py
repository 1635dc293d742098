"""Read-side questions about requests after the queue: what approved requests still await
(stock, a visit, their install target), and where a caseworker's requests stand.

Each answers in a fixed number of statements, counting in SQL, and reads a case's
reference only, never its personal details.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from inventory.cases.models import Case
from inventory.extensions import db
from inventory.permissions import personal_cases_clause
from inventory.requests.holdings import HOLDING_STATES
from inventory.requests.models import EquipmentRequest, RequestLine, RequestState

S = RequestState
# Requests still on their way to the survivor: waiting for a decision, for an answer, for
# stock or a visit. (Fulfilled, closed, rejected and withdrawn ones need nobody.)
UNDER_WAY = (S.SUBMITTED, S.INFO_REQUESTED, S.APPROVED, S.PARTLY_APPROVED, S.SCHEDULED, S.PARTLY_FULFILLED)
# Decided and not yet installed in full: the install target still applies.
TO_INSTALL = HOLDING_STATES


def _states(states) -> list[str]:
    return [str(state) for state in states]


def _awaiting_units():
    """Units approved on a line but not yet reserved from stock."""
    return func.coalesce(RequestLine.approved_quantity, 0) - RequestLine.reserved_quantity


@dataclass(frozen=True)
class Waiting:
    """One request that something is waiting on, by its case reference."""

    request_id: int
    case_reference: str
    state: RequestState
    since: date  # decided on (awaiting stock) or the install target (past it)
    units: int = 0


@dataclass(frozen=True)
class WaitingList:
    requests: int  # how many requests in all
    units: int  # how many units in all (awaiting stock), else 0
    first: list[Waiting]  # the longest waiting, up to the limit


def awaiting_stock(*, limit: int = 5) -> WaitingList:
    """Approved requests with units still awaiting stock: how many requests and units (one
    statement), and the `limit` decided longest ago (one statement)."""
    awaiting = (select(RequestLine.request_id, func.sum(_awaiting_units()).label("units"))
                .join(EquipmentRequest, EquipmentRequest.id == RequestLine.request_id)
                .where(EquipmentRequest.state.in_(_states(HOLDING_STATES)), _awaiting_units() > 0)
                .group_by(RequestLine.request_id).subquery())
    requests, units = db.session.execute(
        select(func.count(), func.coalesce(func.sum(awaiting.c.units), 0))).one()
    rows = db.session.execute(
        select(EquipmentRequest.id, Case.reference, EquipmentRequest.state, EquipmentRequest.decided_at,
               awaiting.c.units)
        .join(awaiting, awaiting.c.request_id == EquipmentRequest.id).join(Case, Case.id == EquipmentRequest.case_id)
        .order_by(EquipmentRequest.decided_at, EquipmentRequest.id).limit(limit))
    return WaitingList(requests, int(units), [
        Waiting(request_id, reference, RequestState(state), decided_at.date(), int(count))
        for request_id, reference, state, decided_at, count in rows])


def past_install_target(today: date, *, limit: int = 5) -> WaitingList:
    """Decided requests not yet installed in full whose install target has passed: how many
    (one statement), and the `limit` furthest past it (one statement)."""
    late = (EquipmentRequest.state.in_(_states(TO_INSTALL)), EquipmentRequest.install_by < today)
    count = db.session.scalar(select(func.count()).select_from(EquipmentRequest).where(*late))
    rows = db.session.execute(
        select(EquipmentRequest.id, Case.reference, EquipmentRequest.state, EquipmentRequest.install_by)
        .join(Case, Case.id == EquipmentRequest.case_id).where(*late)
        .order_by(EquipmentRequest.install_by, EquipmentRequest.id).limit(limit))
    return WaitingList(count, 0, [Waiting(request_id, reference, RequestState(state), install_by)
                                  for request_id, reference, state, install_by in rows])


# Where a caseworker's requests stand ------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """One request under way as its caseworker sees it."""

    request_id: int
    case_id: int
    case_reference: str
    state: RequestState
    submitted_on: date
    decide_by: date
    awaiting_units: int  # approved units not yet in stock

    def waiting_days(self, today: date) -> int:
        return (today - self.submitted_on).days


def next_step(request: Standing, *, visit_on: date | None = None) -> str:
    """What happens next to a request under way, and who moves it, in words (`visit_on`:
    the day of the visit booked for it, if one is)."""
    if request.state == S.SUBMITTED:
        return f"A coordinator decides (target {request.decide_by:%d %b %Y})"
    if request.state == S.INFO_REQUESTED:
        return "You answer the coordinator's question"
    if visit_on is not None:
        return f"Visit booked for {visit_on:%d %b %Y}"
    if request.state == S.SCHEDULED:
        return "Visit booked"
    if request.awaiting_units:
        units = request.awaiting_units
        return f"Waiting for stock ({units} item{'s' if units != 1 else ''})"
    if request.state == S.PARTLY_FULFILLED:
        return "A coordinator books a visit for the rest"
    return "A coordinator books the visit"


def _requests_of(user, *, raised_by_me: bool):
    """The conditions selecting the requests under way that `user` sees on their home page:
    those they raised, or every one of their organisation's cases (theirs to see)."""
    conditions = [personal_cases_clause(user, Case.organisation_id), EquipmentRequest.state.in_(_states(UNDER_WAY))]
    if raised_by_me:
        conditions.append(EquipmentRequest.raised_by_id == user.id)
    return conditions


def standing_counts(user, *, raised_by_me: bool) -> dict[RequestState, int]:
    """The user's requests under way, counted per state (one grouped statement)."""
    rows = db.session.execute(
        select(EquipmentRequest.state, func.count()).join(Case, Case.id == EquipmentRequest.case_id)
        .where(*_requests_of(user, raised_by_me=raised_by_me)).group_by(EquipmentRequest.state))
    found = {RequestState(state): count for state, count in rows}
    return {state: found.get(state, 0) for state in UNDER_WAY}


def standing(user, *, raised_by_me: bool, limit: int = 5) -> list[Standing]:
    """The user's requests under way, those waiting on them first (information asked for),
    then the longest waiting, each with its units still awaiting stock (one statement)."""
    awaiting = (select(func.coalesce(func.sum(_awaiting_units()), 0))
                .where(RequestLine.request_id == EquipmentRequest.id).scalar_subquery())
    rows = db.session.execute(
        select(EquipmentRequest.id, Case.id, Case.reference, EquipmentRequest.state, EquipmentRequest.submitted_on,
               EquipmentRequest.decide_by, awaiting)
        .join(Case, Case.id == EquipmentRequest.case_id).where(*_requests_of(user, raised_by_me=raised_by_me))
        .order_by(case((EquipmentRequest.state == S.INFO_REQUESTED, 0), else_=1), EquipmentRequest.submitted_on,
                  EquipmentRequest.id)
        .limit(limit))
    return [Standing(request_id, case_id, reference, RequestState(state), submitted_on, decide_by, int(units))
            for request_id, case_id, reference, state, submitted_on, decide_by, units in rows]
