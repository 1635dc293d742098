"""The approval trail: who decided what about money and need, when, why and for how much.

Every decision that spends, moves or forgives money or moves a survivor in the queue is
already recorded where it happens; the trail reads them all in one SQL UNION ALL, newest
first, so a page costs the same two statements (a count and a page) however long the
history. Each row names a case by its reference at most, never a name, an address or a
phone number. The written reasons are shown as staff wrote them: they are the point of an
approval trail (docs/domain.md says why that is acceptable). A request's are sealed at rest,
so the union carries each one's row seal key and they are opened as rows are read.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date, Integer, Select, String, Text, case, cast, false, func, null, select, type_coerce, union_all,
)

from inventory.accounts.models import Organisation, User, UserRole
from inventory.budget.models import LedgerEntry, MonthClose, OverspendAlert
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType, Supplier
from inventory.csv_files import Column
from inventory.database import UTCDateTime
from inventory.enums import LabelledEnum
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import Fields
from inventory.permissions import Role
from inventory.procurement.models import InvoiceKind, SupplierInvoice
from inventory.requests.models import DeclinedAs, EquipmentRequest, PriorityAdjustment, RequestEvent, RequestLine
from inventory.requests.transitions import Action
from inventory.sealing.keys import Keyring
from inventory.stock.models import Item, ItemEvent, ItemEventKind

# Days in the filters are days as the pages show times (web.LOCAL_TIME).
LOCAL_TIME = ZoneInfo("Europe/London")


class Decision(LabelledEnum):
    APPROVED = "approved", "Request approved"
    APPROVED_IN_PART = "approved_in_part", "Request approved in part"
    REJECTED = "rejected", "Request rejected"
    PRIORITY_OVERRIDE = "priority_override", "Priority overridden"
    INVOICE_APPROVED = "invoice_approved", "Invoice outside tolerance approved"
    CREDIT_NOTE = "credit_note", "Credit note posted"
    OVERSPEND_RESOLVED = "overspend_resolved", "Overspend alert resolved"
    MONTH_REOPENED = "month_reopened", "Month reopened"
    WRITE_OFF = "write_off", "Item written off"


# A request's decisions are events of its history: the action taken -> the decision it is.
REQUEST_DECISIONS = {Action.APPROVE: Decision.APPROVED, Action.APPROVE_PART: Decision.APPROVED_IN_PART,
                     Action.REJECT: Decision.REJECTED}


@dataclass(frozen=True)
class TrailFilters:
    """Which decisions to list: of one kind, by one person, on days from/to (inclusive, local
    time) and about cases of one organisation; None is any."""

    decision: Decision | None = None
    person_id: int | None = None
    since: date | None = None
    until: date | None = None
    organisation_id: int | None = None

    @classmethod
    def read(cls, args) -> "TrailFilters":
        """From a query string (?kind=&person=&from=&to=&organisation=); InvalidInput names
        each bad filter."""
        fields = Fields(args, text=True)
        filters = cls(decision=fields.choice("kind", Decision, required=False),
                      person_id=fields.record_id("person", required=False),
                      since=fields.date("from", required=False), until=fields.date("to", required=False),
                      organisation_id=fields.record_id("organisation", required=False))
        fields.check()
        if filters.since and filters.until and filters.since > filters.until:
            message = "The first day comes after the last."
            raise InvalidInput(message, fields={"to": message})
        return filters


# The columns every source gives, in this order (a source gives NULL for what it lacks).
COLUMNS = {
    "kind": String(), "at": UTCDateTime(), "actor_id": Integer(), "case_reference": String(),
    "organisation_id": Integer(), "number": Integer(), "order_id": Integer(), "document": String(),
    "label": String(), "points": Integer(), "month": Date(), "reason": Text(), "amount_pence": Integer(),
    "record_id": Integer(), "seal_key": String(),  # the seal key of a sealed reason's row (None: not sealed)
}


def _row(**values) -> Select:
    """One source's SELECT with every column of the trail, typed alike (a missing one is a
    typed NULL: PostgreSQL cannot unite an untyped NULL with a number)."""
    unknown = values.keys() - COLUMNS.keys()
    assert not unknown, unknown
    return select(*[(type_coerce(values[name], type_) if name in values else cast(null(), type_)).label(name)
                    for name, type_ in COLUMNS.items()])


def _value_at_standard_cost(quantity) -> object:
    """A request's lines valued at their item types' standard cost, in SQL (one request)."""
    return (select(func.coalesce(func.sum(quantity * ItemType.standard_cost_pence), 0)).select_from(RequestLine)
            .join(ItemType, ItemType.id == RequestLine.item_type_id)
            .where(RequestLine.request_id == RequestEvent.request_id).scalar_subquery())


def _request_decisions(wanted: set[Decision]) -> Select | None:
    actions = [str(action) for action, decision in REQUEST_DECISIONS.items() if decision in wanted]
    if not actions:
        return None
    asked = _value_at_standard_cost(RequestLine.quantity)
    approved = _value_at_standard_cost(func.coalesce(RequestLine.approved_quantity, 0))
    return (_row(kind=case(*[(RequestEvent.action == str(action), str(decision))
                             for action, decision in REQUEST_DECISIONS.items()]),
                 at=RequestEvent.occurred_at, actor_id=RequestEvent.actor_id, case_reference=Case.reference,
                 organisation_id=Case.organisation_id, number=EquipmentRequest.id,
                 label=case((RequestEvent.action == str(Action.REJECT), EquipmentRequest.declined_as)),
                 reason=RequestEvent.sealed_note, seal_key=RequestEvent.seal_key,
                 amount_pence=case((RequestEvent.action == str(Action.REJECT), asked), else_=approved),
                 record_id=RequestEvent.id)
            .select_from(RequestEvent).join(EquipmentRequest, EquipmentRequest.id == RequestEvent.request_id)
            .join(Case, Case.id == EquipmentRequest.case_id).where(RequestEvent.action.in_(actions)))


def _priority_overrides() -> Select:
    return (_row(kind=str(Decision.PRIORITY_OVERRIDE), at=PriorityAdjustment.occurred_at,
                 actor_id=PriorityAdjustment.actor_id, case_reference=Case.reference,
                 organisation_id=Case.organisation_id, number=EquipmentRequest.id, points=PriorityAdjustment.points,
                 reason=PriorityAdjustment.sealed_reason, seal_key=PriorityAdjustment.seal_key,
                 record_id=PriorityAdjustment.id)
            .select_from(PriorityAdjustment)
            .join(EquipmentRequest, EquipmentRequest.id == PriorityAdjustment.request_id)
            .join(Case, Case.id == EquipmentRequest.case_id))


def _invoices_approved() -> Select:
    return (_row(kind=str(Decision.INVOICE_APPROVED), at=SupplierInvoice.approved_at,
                 actor_id=SupplierInvoice.approved_by_id, order_id=SupplierInvoice.purchase_order_id,
                 document=SupplierInvoice.number, label=Supplier.name, reason=SupplierInvoice.approval_reason,
                 amount_pence=SupplierInvoice.gross_pence, record_id=SupplierInvoice.id)
            .select_from(SupplierInvoice).join(Supplier, Supplier.id == SupplierInvoice.supplier_id)
            .where(SupplierInvoice.kind == InvoiceKind.INVOICE, SupplierInvoice.approved_by_id.is_not(None)))


def _credit_notes() -> Select:
    return (_row(kind=str(Decision.CREDIT_NOTE), at=SupplierInvoice.posted_at, actor_id=SupplierInvoice.recorded_by_id,
                 order_id=SupplierInvoice.purchase_order_id, document=SupplierInvoice.number, label=Supplier.name,
                 reason=SupplierInvoice.reason, amount_pence=SupplierInvoice.gross_pence, record_id=SupplierInvoice.id)
            .select_from(SupplierInvoice).join(Supplier, Supplier.id == SupplierInvoice.supplier_id)
            .where(SupplierInvoice.kind == InvoiceKind.CREDIT_NOTE, SupplierInvoice.posted_at.is_not(None)))


def _overspends_resolved() -> Select:
    return (_row(kind=str(Decision.OVERSPEND_RESOLVED), at=OverspendAlert.resolved_at,
                 actor_id=OverspendAlert.resolved_by_id, case_reference=LedgerEntry.case_reference,
                 organisation_id=Case.organisation_id, number=LedgerEntry.position, reason=OverspendAlert.resolution,
                 amount_pence=OverspendAlert.over_by_pence, record_id=OverspendAlert.id)
            .select_from(OverspendAlert).join(LedgerEntry, LedgerEntry.id == OverspendAlert.entry_id)
            .outerjoin(Case, Case.reference == LedgerEntry.case_reference)
            .where(OverspendAlert.resolved_at.is_not(None)))


def _months_reopened() -> Select:
    return (_row(kind=str(Decision.MONTH_REOPENED), at=MonthClose.reopened_at, actor_id=MonthClose.reopened_by_id,
                 month=MonthClose.month, reason=MonthClose.reopen_reason, record_id=MonthClose.id)
            .where(MonthClose.reopened_at.is_not(None)))


def _write_offs() -> Select:
    return (_row(kind=str(Decision.WRITE_OFF), at=ItemEvent.occurred_at, actor_id=ItemEvent.actor_id,
                 case_reference=Case.reference, organisation_id=Case.organisation_id, number=Item.id,
                 label=ItemType.name, reason=ItemEvent.note, amount_pence=Item.purchase_cost_pence,
                 record_id=ItemEvent.id)
            .select_from(ItemEvent).join(Item, Item.id == ItemEvent.item_id)
            .join(ItemType, ItemType.id == Item.item_type_id).outerjoin(Case, Case.id == ItemEvent.case_id)
            .where(ItemEvent.kind == ItemEventKind.WRITTEN_OFF))


# The sources other than requests' decisions: decision -> (its SELECT, whether it can name a case).
SOURCES = {
    Decision.PRIORITY_OVERRIDE: (_priority_overrides, True),
    Decision.INVOICE_APPROVED: (_invoices_approved, False),
    Decision.CREDIT_NOTE: (_credit_notes, False),
    Decision.OVERSPEND_RESOLVED: (_overspends_resolved, True),
    Decision.MONTH_REOPENED: (_months_reopened, False),
    Decision.WRITE_OFF: (_write_offs, True),
}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME).astimezone(UTC)


def _filtered(source: Select, filters: TrailFilters) -> Select:
    """A source narrowed by the filters on its own columns, before the union (so each can use
    its indexes): the expressions behind the labels, as a WHERE cannot name a label."""
    expressions = {column.name: column.element for column in source.selected_columns}
    conditions = []
    if filters.person_id is not None:
        conditions.append(expressions["actor_id"] == filters.person_id)
    if filters.since is not None:
        conditions.append(expressions["at"] >= _local_midnight(filters.since))
    if filters.until is not None:
        conditions.append(expressions["at"] < _local_midnight(filters.until + timedelta(days=1)))
    if filters.organisation_id is not None:
        conditions.append(expressions["organisation_id"] == filters.organisation_id)
    return source.where(*conditions) if conditions else source


def trail_query(filters: TrailFilters) -> Select:
    """Every decision the filters select, newest first, each row with the name of who made it
    and the organisation of its case: one statement, however many sources."""
    wanted = {filters.decision} if filters.decision else set(Decision)
    sources = [_request_decisions(wanted)]
    for decision, (source, names_a_case) in SOURCES.items():
        if decision in wanted and (names_a_case or filters.organisation_id is None):
            sources.append(source())
    sources = [_filtered(source, filters) for source in sources if source is not None]
    if not sources:  # a kind of decision that names no case, asked for one organisation's cases
        sources = [_row(kind="").where(false())]
    trail = union_all(*sources).subquery("trail")
    return (select(trail, User.name.label("who"), Organisation.name.label("organisation"))
            .outerjoin(User, User.id == trail.c.actor_id)
            .outerjoin(Organisation, Organisation.id == trail.c.organisation_id)
            .order_by(trail.c.at.desc(), trail.c.kind, trail.c.record_id.desc()))


@dataclass(frozen=True)
class TrailRow:
    """One decision as people read it: when, who, what, about which case or document, why,
    and how much (pence; None where no money moved)."""

    decision: Decision
    at: datetime
    who: str
    case_reference: str | None
    organisation: str | None
    document: str | None
    what: str
    reason: str | None
    amount_pence: int | None


def _order_reference(order_id: int) -> str:
    return f"PO-{order_id:05d}"  # as PurchaseOrder.reference writes it


def _what(decision: Decision, row) -> str:
    """The decision in words, from the row's own columns (no query)."""
    match decision:
        case Decision.APPROVED:
            return f"Approved request {row.number} in full"
        case Decision.APPROVED_IN_PART:
            return f"Approved part of request {row.number}"
        case Decision.REJECTED:
            declined = f", declined as {DeclinedAs(row.label).label.lower()}" if row.label else ""
            return f"Rejected request {row.number}{declined}"
        case Decision.PRIORITY_OVERRIDE:
            direction = "up" if row.points > 0 else "down"
            return f"Moved request {row.number} {direction} the queue by {abs(row.points)} points"
        case Decision.INVOICE_APPROVED:
            return f"Approved {row.label}'s invoice for {_order_reference(row.order_id)}, outside tolerance"
        case Decision.CREDIT_NOTE:
            return f"Posted {row.label}'s credit note against {_order_reference(row.order_id)}"
        case Decision.OVERSPEND_RESOLVED:
            return f"Resolved the overspend raised by ledger entry {row.number}"
        case Decision.MONTH_REOPENED:
            return f"Reopened {row.month:%B %Y}"
        case Decision.WRITE_OFF:
            return f"Wrote off item {row.number} ({row.label})"
    raise ValueError(decision)


# Decisions whose reason is sealed: decision -> its field.
SEALED_REASONS = {**{decision: RequestEvent.note for decision in REQUEST_DECISIONS.values()},
                  Decision.PRIORITY_OVERRIDE: PriorityAdjustment.reason}


def trail_row(row, keys: Keyring | None = None) -> TrailRow:
    """`keys`: the app's data keys, when no app context is current (a streamed file)."""
    decision = Decision(row.kind)
    reason = SEALED_REASONS[decision].open(row.reason, row.seal_key, keys) if decision in SEALED_REASONS else row.reason
    return TrailRow(decision=decision, at=row.at, who=row.who or "SafeHold (no person)",
                    case_reference=row.case_reference, organisation=row.organisation, document=row.document,
                    what=_what(decision, row), reason=reason, amount_pence=row.amount_pence)


CSV_COLUMNS = (Column("When (UTC)"), Column("Decision"), Column("Who"), Column("Case reference"),
               Column("Organisation"), Column("Document"), Column("What"), Column("Why"),
               Column("Amount (GBP)", numeric=True))


def _pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else Decimal(pence).scaleb(-2)


def csv_rows(session, filters: TrailFilters, keys: Keyring | None = None) -> Iterator[list]:
    """The whole trail the filters select, a CSV row at a time (one streamed statement);
    `keys` opens the sealed reasons where no app context is current."""
    for found in session.execute(trail_query(filters).execution_options(yield_per=1000)):
        row = trail_row(found, keys)
        yield [row.at.isoformat(timespec="seconds"), row.decision.label, row.who, row.case_reference,
               row.organisation, row.document, row.what, row.reason, _pounds(row.amount_pence)]


# Who can appear in the trail: those whose roles make these decisions (a fitter writes off a
# unit not recovered). Caseworkers and auditors decide none of them.
DECIDING_ROLES = (Role.COORDINATOR, Role.FINANCE, Role.ADMIN, Role.FITTER)


def deciders() -> list:
    """(id, name) of everyone who may make a decision of the trail, by name: the person filter."""
    return db.session.execute(
        select(User.id, User.name).where(User.id.in_(select(UserRole.user_id).where(
            UserRole.role.in_([str(role) for role in DECIDING_ROLES])))).order_by(User.name, User.id)).all()


def organisations() -> list:
    """(id, name) of every organisation: the filter by the organisation of the case."""
    return db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name)).all()
