"""CSV exports of items, requests and ledger entries, for a period and an organisation.

Each export is one query streamed in batches (a server-side cursor on PostgreSQL), written
through the one safe CSV writer while it is read, so 500,000 items never sit in memory at
once. What they hold is chosen for privacy: case references at most, never a survivor's
name, address, phone or notes, and no item codes (a code resolves to a device that may be in
a survivor's home; the item id identifies a unit to staff without being a key to it).

The period is a financial quarter or dates from and to (either may be left open); the
organisation is that of the case a row is about, so a row tied to no case is left out when
one organisation is chosen."""
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session, aliased

from inventory.accounts.models import Organisation, User
from inventory.budget.models import BudgetPeriod, LedgerEntry
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType, Supplier
from inventory.csv_files import Column
from inventory.enums import LabelledEnum
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.parsing import MAX_ID, Fields
from inventory.procurement.models import order_reference
from inventory.reports.periods import parse_quarter
from inventory.requests.models import EquipmentRequest, RequestLine
from inventory.requests.performance import first_installs
from inventory.stock.models import Item

BATCH_ROWS = 1000  # rows fetched from the database at a time


class ExportKind(LabelledEnum):
    ITEMS = "items"
    REQUESTS = "requests", "Requests (one row per line)"
    LEDGER_ENTRIES = "ledger_entries"


@dataclass(frozen=True)
class ExportChoice:
    """What to export, dated from and to (inclusive; None is open), for one organisation's
    cases or (None) all."""

    kind: ExportKind
    starts_on: date | None = None
    ends_on: date | None = None
    organisation_id: int | None = None
    period_key: str | None = None  # the quarter asked for, for the file's name

    @property
    def filename(self) -> str:
        if self.period_key:
            period = self.period_key
        else:
            period = f"{self.starts_on or 'start'}-to-{self.ends_on or 'now'}" if self.starts_on or self.ends_on \
                else "all"
        organisation = f"-organisation-{self.organisation_id}" if self.organisation_id else ""
        return f"{self.kind.value.replace('_', '-')}-{period}{organisation}.csv"


def read_choice(args) -> ExportChoice:
    """The export asked for in a query string (what, quarter or from/to, organisation), or
    InvalidInput naming every field that is wrong."""
    fields = Fields(args, text=True)
    kind = fields.choice("what", ExportKind)
    starts_on, ends_on = fields.date("from", required=False), fields.date("to", required=False)
    quarter_text = fields.text("quarter", required=False, max_length=10)
    organisation_text = (fields.text("organisation", required=False, max_length=30) or "all").lower()
    errors = dict(fields.errors)
    period_key = None
    if quarter_text is not None:
        if fields.present("from") or fields.present("to"):
            errors["quarter"] = "Give a financial quarter or dates from and to, not both."
        else:
            try:
                quarter = parse_quarter(quarter_text)
                starts_on, ends_on, period_key = quarter.starts_on, quarter.ends_on, quarter.key
            except InvalidInput as refused:
                errors.update(refused.fields)
    elif starts_on is not None and ends_on is not None and starts_on > ends_on:
        errors["to"] = "The end date is before the start date."
    organisation_id = None if organisation_text == "all" else _organisation_id(organisation_text)
    if organisation_id is None and organisation_text != "all":
        errors["organisation"] = "No such organisation: choose one from the list, or all."
    if errors:
        raise InvalidInput("The export cannot be made as asked.", fields=errors)
    return ExportChoice(kind, starts_on, ends_on, organisation_id, period_key)


def _organisation_id(text: str) -> int | None:
    """The id of the organisation `text` names, if there is one."""
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        return None
    return db.session.scalar(select(Organisation.id).where(Organisation.id == int(text)))


def _on_or_after(column, day: date):
    """A UTC timestamp on or after the start of `day` (UTC)."""
    return column >= datetime.combine(day, time(), tzinfo=UTC)


def _on_or_before(column, day: date):
    return column < datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _within(query: Select, column, choice: ExportChoice, *, timestamp: bool = False) -> Select:
    if choice.starts_on is not None:
        query = query.where(_on_or_after(column, choice.starts_on) if timestamp else column >= choice.starts_on)
    if choice.ends_on is not None:
        query = query.where(_on_or_before(column, choice.ends_on) if timestamp else column <= choice.ends_on)
    return query


def _of_organisation(query: Select, choice: ExportChoice) -> Select:
    return query if choice.organisation_id is None else query.where(Case.organisation_id == choice.organisation_id)


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# Items ---------------------------------------------------------------------------------------

ITEM_COLUMNS = (
    Column("item_id", numeric=True), Column("item_type"), Column("state"), Column("write_off_reason"),
    Column("serial_number"), Column("purchase_cost_pence", numeric=True), Column("supplier"),
    Column("purchase_order"), Column("received_on"), Column("case_reference"), Column("organisation"),
)


def items_query(choice: ExportChoice) -> Select:
    """Items received (entered stock) in the period; with an organisation, those issued now to
    one of its cases."""
    query = (select(Item.id, ItemType.name, Item.state, Item.write_off_reason, Item.serial_number,
                    Item.purchase_cost_pence, Supplier.name.label("supplier"), Item.purchase_order_id,
                    Item.created_at, Case.reference, Organisation.name.label("organisation"))
             .join(ItemType, ItemType.id == Item.item_type_id)
             .outerjoin(Supplier, Supplier.id == Item.supplier_id)
             .outerjoin(Case, Case.id == Item.issued_case_id)
             .outerjoin(Organisation, Organisation.id == Case.organisation_id)
             .order_by(Item.id))
    return _of_organisation(_within(query, Item.created_at, choice, timestamp=True), choice)


def _item_row(row) -> tuple:
    (item_id, item_type, state, write_off_reason, serial, cost, supplier, order_id, created_at, reference,
     organisation) = row
    return (item_id, item_type, state, write_off_reason, serial, cost, supplier,
            order_reference(order_id) if order_id is not None else None, _day(created_at), reference, organisation)


# Requests ------------------------------------------------------------------------------------

REQUEST_COLUMNS = (
    Column("request_id", numeric=True), Column("case_reference"), Column("organisation"), Column("state"),
    Column("risk_level"), Column("submitted_on"), Column("decided_on"), Column("installed_on"),
    Column("declined_as"), Column("line_item_type"), Column("line_quantity", numeric=True),
    Column("line_approved_quantity", numeric=True), Column("line_est_cost_pence", numeric=True),
    Column("request_est_cost_pence", numeric=True),
)


def requests_query(choice: ExportChoice) -> Select:
    """One row per request line, for requests submitted in the period. Installed is the day
    its first item was handed over; estimated cost is at each type's standard cost, as the
    queue shows it."""
    installed = first_installs()
    line_cost = RequestLine.quantity * ItemType.standard_cost_pence
    query = (select(EquipmentRequest.id, Case.reference, Organisation.name, EquipmentRequest.state, Case.risk_level,
                    EquipmentRequest.submitted_on, EquipmentRequest.decided_at, installed.c.installed_at,
                    EquipmentRequest.declined_as, ItemType.name.label("item_type"), RequestLine.quantity,
                    RequestLine.approved_quantity, line_cost,
                    func.sum(line_cost).over(partition_by=EquipmentRequest.id))
             .join(Case, Case.id == EquipmentRequest.case_id)
             .join(Organisation, Organisation.id == Case.organisation_id)
             .join(RequestLine, RequestLine.request_id == EquipmentRequest.id)
             .join(ItemType, ItemType.id == RequestLine.item_type_id)
             .outerjoin(installed, installed.c.request_id == EquipmentRequest.id)
             .order_by(EquipmentRequest.id, RequestLine.id))
    return _of_organisation(_within(query, EquipmentRequest.submitted_on, choice), choice)


def _request_row(row) -> tuple:
    (request_id, reference, organisation, state, risk, submitted_on, decided_at, installed_at, declined_as,
     item_type, quantity, approved, line_cost, request_cost) = row
    return (request_id, reference, organisation, state, risk, _iso(submitted_on), _day(decided_at),
            _day(installed_at), declined_as, item_type, quantity, approved, line_cost, int(request_cost))


# Ledger entries ------------------------------------------------------------------------------

LEDGER_COLUMNS = (
    Column("entry_id", numeric=True), Column("position", numeric=True), Column("entry_date"),
    Column("budget_period"), Column("kind"), Column("reverses_entry_id", numeric=True),
    Column("reversed_kind"), Column("amount_pence", numeric=True), Column("net_pence", numeric=True),
    Column("vat_pence", numeric=True), Column("gross_pence", numeric=True), Column("category"),
    Column("case_reference"), Column("organisation"), Column("memo"), Column("source_type"),
    Column("source_id", numeric=True), Column("commitment_id", numeric=True), Column("settled_by_id", numeric=True),
    Column("posted_at"), Column("posted_by"), Column("hash"),
)


def ledger_query(choice: ExportChoice) -> Select:
    """Entries dated in the period, in ledger order; the organisation is that of the case
    the entry names (a reference that matches no case has none). Columns, not entities: a
    million entries stream without building an object for each."""
    original = aliased(LedgerEntry)
    entry = LedgerEntry
    query = (select(entry.id, entry.position, entry.entry_date, BudgetPeriod.name.label("period"), entry.kind,
                    entry.reverses_id, original.kind.label("reversed_kind"), entry.amount_pence, entry.net_pence,
                    entry.vat_pence, entry.gross_pence, entry.category, entry.case_reference,
                    Organisation.name.label("organisation"), entry.memo, entry.source_type, entry.source_id,
                    entry.commitment_id, entry.settled_by_id, entry.posted_at, User.name.label("posted_by"),
                    entry.hash)
             .join(BudgetPeriod, BudgetPeriod.id == entry.period_id)
             .join(User, User.id == entry.posted_by_id)
             .outerjoin(original, original.id == entry.reverses_id)
             .outerjoin(Case, Case.reference == entry.case_reference)
             .outerjoin(Organisation, Organisation.id == Case.organisation_id)
             .order_by(entry.position))
    return _of_organisation(_within(query, entry.entry_date, choice), choice)


def _ledger_row(row) -> tuple:
    return (row.id, row.position, _iso(row.entry_date), row.period, row.kind, row.reverses_id, row.reversed_kind,
            row.amount_pence, row.net_pence, row.vat_pence, row.gross_pence, row.category, row.case_reference,
            row.organisation, row.memo, row.source_type, row.source_id, row.commitment_id, row.settled_by_id,
            row.posted_at.isoformat(timespec="seconds"), row.posted_by, row.hash)


@dataclass(frozen=True)
class _Export:
    columns: tuple[Column, ...]
    query: Callable[[ExportChoice], Select]
    row: Callable[[Row], tuple]  # a database row as the CSV writes it


EXPORTS = {
    ExportKind.ITEMS: _Export(ITEM_COLUMNS, items_query, _item_row),
    ExportKind.REQUESTS: _Export(REQUEST_COLUMNS, requests_query, _request_row),
    ExportKind.LEDGER_ENTRIES: _Export(LEDGER_COLUMNS, ledger_query, _ledger_row),
}


def columns_of(choice: ExportChoice) -> tuple[Column, ...]:
    return EXPORTS[choice.kind].columns


def rows_of(session: Session, choice: ExportChoice) -> Iterator[tuple]:
    """The export's rows, read through `session` `BATCH_ROWS` at a time."""
    export = EXPORTS[choice.kind]
    result = session.execute(export.query(choice).execution_options(yield_per=BATCH_ROWS))
    for row in result:
        yield export.row(row)
