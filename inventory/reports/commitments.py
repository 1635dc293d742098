"""Commitments ageing: the money still committed, by how long ago it was committed and by
what holds it (a purchase order awaiting its invoice, or an approved request awaiting stock).

A commitment's age is the days from its ledger date to today; one brought forward at a year
end is dated the day it was brought forward. Everything is summed in SQL over the ledger's
own definition of what is still open (`budget.queries.open_commitment_amounts`)."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from inventory.budget.models import LedgerEntry, SourceType
from inventory.budget.queries import open_commitment_amounts
from inventory.cases.models import Case
from inventory.csv_files import Column
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.pagination import Page, paginate
from inventory.catalogue.models import Supplier
from inventory.procurement.models import PurchaseOrder, order_reference
from inventory.requests.models import EquipmentRequest


@dataclass(frozen=True)
class AgeBand:
    key: str
    label: str
    oldest_days: int | None  # the band holds ages up to this many days; None: no limit


AGE_BANDS = (
    AgeBand("0-30", "0 to 30 days", 30),
    AgeBand("31-60", "31 to 60 days", 60),
    AgeBand("61-90", "61 to 90 days", 90),
    AgeBand("over-90", "Over 90 days", None),
)
BANDS_BY_KEY = {band.key: band for band in AGE_BANDS}


@dataclass(frozen=True)
class Holder:
    source_type: str | None  # the commitments' ledger source; None: anything else
    label: str


HOLDERS = (
    Holder(SourceType.PURCHASE_ORDER, "Purchase orders"),
    Holder(SourceType.REQUEST, "Requests awaiting stock"),
)
OTHER_HOLDER = Holder(None, "Other")


def band_of(age_days: int) -> AgeBand:
    """The band of a commitment `age_days` old (one dated in the future is 0 to 30 days)."""
    return next(band for band in AGE_BANDS if band.oldest_days is None or age_days <= band.oldest_days)


def parse_band(text: str | None, *, field: str = "band") -> AgeBand | None:
    """`31-60` -> that band; nothing -> every band; anything else is refused naming `field`."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if cleaned not in BANDS_BY_KEY:
        message = f"Choose an age band: {', '.join(BANDS_BY_KEY)}."
        raise InvalidInput(message, fields={field: message})
    return BANDS_BY_KEY[cleaned]


def _band_key(today: date):
    """The band as SQL: a CASE on the commitment's date, so SQLite and PostgreSQL agree
    without date arithmetic in the database."""
    return case(*[(LedgerEntry.entry_date >= today - timedelta(days=band.oldest_days), band.key)
                  for band in AGE_BANDS if band.oldest_days is not None], else_=AGE_BANDS[-1].key)


def _open_commitments(today: date):
    """A subquery of every commitment with money still open: id, position, date, source,
    category, case reference, open pence and age band."""
    amounts = open_commitment_amounts()
    return (select(LedgerEntry.id, LedgerEntry.position, LedgerEntry.entry_date, LedgerEntry.source_type,
                   LedgerEntry.source_id, LedgerEntry.category, LedgerEntry.case_reference,
                   amounts.c.pence.label("open_pence"), _band_key(today).label("band"))
            .join(amounts, amounts.c.commitment_id == LedgerEntry.id).subquery())


@dataclass(frozen=True)
class BandLine:
    band: AgeBand
    by_holder: dict[Holder, tuple[int, int]]  # holder -> (commitments, pence)

    @property
    def count(self) -> int:
        return sum(count for count, _ in self.by_holder.values())

    @property
    def pence(self) -> int:
        return sum(pence for _, pence in self.by_holder.values())


@dataclass(frozen=True)
class Ageing:
    today: date
    holders: tuple[Holder, ...]
    bands: list[BandLine]

    @property
    def count(self) -> int:
        return sum(line.count for line in self.bands)

    @property
    def pence(self) -> int:
        return sum(line.pence for line in self.bands)

    def holder_total(self, holder: Holder) -> tuple[int, int]:
        counts = [line.by_holder[holder] for line in self.bands]
        return sum(count for count, _ in counts), sum(pence for _, pence in counts)


def _holder_of(source_type: str | None) -> Holder:
    return next((holder for holder in HOLDERS if holder.source_type == source_type), OTHER_HOLDER)


def ageing(today: date) -> Ageing:
    """Open commitments by age band and by holder, counted and summed in one grouped query."""
    commitments = _open_commitments(today)
    rows = db.session.execute(
        select(commitments.c.band, commitments.c.source_type, func.count(), func.sum(commitments.c.open_pence))
        .group_by(commitments.c.band, commitments.c.source_type)).all()
    holders = HOLDERS + ((OTHER_HOLDER,) if any(_holder_of(source) is OTHER_HOLDER for _, source, _, _ in rows)
                         else ())
    totals = {(band.key, holder): (0, 0) for band in AGE_BANDS for holder in holders}
    for band_key, source_type, count, pence in rows:
        key = (band_key, _holder_of(source_type))
        totals[key] = (totals[key][0] + count, totals[key][1] + int(pence))
    return Ageing(today, holders, [BandLine(band, {holder: totals[band.key, holder] for holder in holders})
                                   for band in AGE_BANDS])


@dataclass(frozen=True)
class OpenCommitment:
    entry_id: int
    position: int
    committed_on: date
    age_days: int
    band: AgeBand
    holder: Holder
    held_by: str  # "PO-00012 (Alarms Ltd)", "Request 7 for NS-2026-0142"
    category: str | None
    open_pence: int


def details_query(today: date, band: AgeBand | None = None) -> Select:
    """Each open commitment, oldest first, with its order (and supplier) or its request's
    case reference, in one query (joins, never a query per row)."""
    commitments = _open_commitments(today)
    query = (select(commitments, PurchaseOrder.id.label("order_id"), Supplier.name.label("supplier"),
                    EquipmentRequest.id.label("request_id"), Case.reference.label("request_case_reference"))
             .outerjoin(PurchaseOrder, and_(commitments.c.source_type == SourceType.PURCHASE_ORDER,
                                            PurchaseOrder.id == commitments.c.source_id))
             .outerjoin(Supplier, Supplier.id == PurchaseOrder.supplier_id)
             .outerjoin(EquipmentRequest, and_(commitments.c.source_type == SourceType.REQUEST,
                                               EquipmentRequest.id == commitments.c.source_id))
             .outerjoin(Case, Case.id == EquipmentRequest.case_id)
             .order_by(commitments.c.entry_date, commitments.c.id))
    if band is not None:
        query = query.where(commitments.c.band == band.key)
    return query


def _held_by(row) -> str:
    if row.order_id is not None:
        return f"{order_reference(row.order_id)} ({row.supplier})"
    if row.request_id is not None:
        return f"Request {row.request_id} for {row.request_case_reference or row.case_reference or 'no case'}"
    return f"{row.source_type or 'No source'} {row.source_id or ''}".strip()


def _open_commitment(row, today: date) -> OpenCommitment:
    return OpenCommitment(entry_id=row.id, position=row.position, committed_on=row.entry_date,
                          age_days=(today - row.entry_date).days, band=BANDS_BY_KEY[row.band],
                          holder=_holder_of(row.source_type), held_by=_held_by(row), category=row.category,
                          open_pence=int(row.open_pence))


def details_page(today: date, band: AgeBand | None, page: int, per_page: int) -> Page:
    found = paginate(details_query(today, band), page, per_page, scalars=False)
    found.items = [_open_commitment(row, today) for row in found.items]
    return found


CSV_COLUMNS = (Column("ledger_entry_id", numeric=True), Column("position", numeric=True), Column("committed_on"),
               Column("age_days", numeric=True), Column("age_band"), Column("held_by_kind"), Column("held_by"),
               Column("category"), Column("open_pence", numeric=True))


def csv_rows(session: Session, today: date, band: AgeBand | None = None):
    """The detail list, every row, as the CSV download has it (read through `session` in
    batches)."""
    for row in session.execute(details_query(today, band).execution_options(yield_per=500)):
        found = _open_commitment(row, today)
        yield (found.entry_id, found.position, found.committed_on.isoformat(), found.age_days, found.band.label,
               found.holder.label, found.held_by, found.category, found.open_pence)
