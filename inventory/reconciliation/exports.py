"""Exports for the accounts, in recorded batches: Xero manual journals and Sage 50 audit-trail
transactions.

What leaves the ledger for the accounts: actuals (money spent), credits (money back) and the
reversals of either, in ledger order. Commitments, releases, allocations and adjustments
are the budget's own bookkeeping and never reach the accounts.

- A batch takes every such entry, dated up to today, not yet exported in its format, and
  records them: an entry leaves once per format, never in two batches (the database's
  unique (format, entry) says so too). The files are kept as written, so a past batch
  downloads byte for byte.
- History is never rewritten: an exported entry stays exported when it is reversed later;
  its reversal leaves in a later batch as its own journal, the original's lines negated. An
  entry and its reversal that are both still unexported both leave, as the ledger has them.
- VAT: `VAT_RECLAIMED` decides for both formats alike. Reclaimed, an entry with VAT leaves
  as net cost plus reclaimable VAT (Xero "20% (VAT on Expenses)", Sage T1); otherwise the
  whole gross is the cost and no VAT is claimed (Xero "No VAT", Sage T9 with zero tax).
- Sage: bank payments and receipts (BP, BR) through the bank account, credit-card ones (CP,
  CR) through the card account, by how the purchase was paid.
"""
import hashlib
from dataclasses import dataclass
from datetime import date

from flask import Response
from sqlalchemy import Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import aliased, selectinload

from inventory import clock
from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry, PaymentMethod, SourceType
from inventory.csv_files import Column, write_csv
from inventory.errors import Conflict, NotFound
from inventory.extensions import db
from inventory.reconciliation.models import ExportBatch, ExportedEntry, ExportFile, ExportFormat

# Spend and refunds leave for the accounts; the grant (an allocation) is not spend.
EXPORTED_KINDS = (EntryKind.ACTUAL, EntryKind.CREDIT)
EXPORT_LOCK_KEY = 0x5AFE_E8B0  # pg_advisory_xact_lock key that serialises making batches

# Xero's manual-journal import template, its mandatory columns marked as the template marks them.
XERO_COLUMNS = (Column("*Narration"), Column("*Date"), Column("Description"), Column("*AccountCode"),
                Column("*TaxRate"), Column("*Amount", numeric=True), Column("TrackingName1"),
                Column("TrackingOption1"), Column("TrackingName2"), Column("TrackingOption2"))
SAGE_COLUMNS = (Column("Type"), Column("Account Reference"), Column("Nominal A/C Ref"), Column("Department Code"),
                Column("Date"), Column("Reference"), Column("Details"), Column("Net Amount", numeric=True),
                Column("Tax Code"), Column("Tax Amount", numeric=True))
XERO_LINES_PER_JOURNAL = 3  # at most: expense at the VAT rate, expense without VAT, contra
XERO_VAT_PERCENT = 20  # the UK standard rate, XERO_VAT_TAX_RATE's
SAGE_TYPES = {(PaymentMethod.BANK, False): "BP", (PaymentMethod.BANK, True): "BR",
              (PaymentMethod.CARD, False): "CP", (PaymentMethod.CARD, True): "CR"}


class NothingToExport(Conflict):
    code = "nothing_to_export"

    def __init__(self, export_format: ExportFormat):
        super().__init__(f"Nothing to export: every payment and refund up to today is already in a "
                         f"{export_format.label} batch.")


@dataclass(frozen=True)
class Journal:
    """One ledger entry as the accounts see it: money out (spend) or in (a refund, or the
    reversal of spend), through the bank or a card."""

    entry_id: int
    day: date
    money_in: bool
    gross_pence: int  # positive
    net_pence: int
    vat_pence: int
    paid_by: PaymentMethod
    reference: str
    details: str
    reverses_entry_id: int | None = None

    def vat_claimed(self, vat_reclaimed: bool) -> int:
        return self.vat_pence if vat_reclaimed else 0

    def cost_pence(self, vat_reclaimed: bool) -> int:
        """What the expense account carries: the gross, less any VAT reclaimed."""
        return self.gross_pence - self.vat_claimed(vat_reclaimed)


@dataclass(frozen=True)
class ExportSettings:
    """The account codes and rules of the exports (config/settings.py, docs/deployment.md)."""

    vat_reclaimed: bool
    xero_expense: str
    xero_contra: str
    xero_no_vat_rate: str
    xero_vat_rate: str
    xero_tracking_name: str
    xero_tracking_option: str
    xero_max_lines: int
    sage_bank: str
    sage_card: str
    sage_expense: str
    sage_department: str
    sage_vat_code: str
    sage_no_vat_code: str

    def __post_init__(self):
        if self.xero_max_lines < XERO_LINES_PER_JOURNAL:
            raise ValueError(f"XERO_MAX_LINES_PER_FILE must be at least {XERO_LINES_PER_JOURNAL}")

    @classmethod
    def from_config(cls, config) -> "ExportSettings":
        return cls(
            vat_reclaimed=bool(config["VAT_RECLAIMED"]), xero_expense=config["XERO_EXPENSE_ACCOUNT"],
            xero_contra=config["XERO_CONTRA_ACCOUNT"], xero_no_vat_rate=config["XERO_NO_VAT_TAX_RATE"],
            xero_vat_rate=config["XERO_VAT_TAX_RATE"], xero_tracking_name=config["XERO_TRACKING_NAME"],
            xero_tracking_option=config["XERO_TRACKING_OPTION"], xero_max_lines=int(config["XERO_MAX_LINES_PER_FILE"]),
            sage_bank=config["SAGE_BANK_ACCOUNT"], sage_card=config["SAGE_CARD_ACCOUNT"],
            sage_expense=config["SAGE_EXPENSE_NOMINAL"], sage_department=config["SAGE_DEPARTMENT"],
            sage_vat_code=config["SAGE_VAT_TAX_CODE"], sage_no_vat_code=config["SAGE_NO_VAT_TAX_CODE"],
        )


# Making a batch ----------------------------------------------------------------------------

def export_batch(export_format: ExportFormat, *, actor, settings: ExportSettings) -> ExportBatch:
    """Record a batch of every exportable entry dated up to today that has not left in this
    format yet, with its file(s); refused (`nothing_to_export`) when there is none. Batches
    are made one at a time, so two made at once never share an entry."""
    export_format = ExportFormat(export_format)
    _lock_exports()
    entries = list(db.session.scalars(unexported_entries(export_format, up_to=clock.today())))
    if not entries:
        raise NothingToExport(export_format)
    journals = journals_for(entries)
    batch = ExportBatch(format=export_format, created_at=clock.now(), created_by_id=actor.id,
                        entry_count=len(entries), vat_reclaimed=settings.vat_reclaimed)
    db.session.add(batch)
    db.session.flush()
    texts = (xero_files(journals, settings) if export_format == ExportFormat.XERO
             else [sage_audit_trail(journals, settings)])
    for number, written in enumerate(texts, start=1):
        content = written.encode()
        suffix = f"-{number}-of-{len(texts)}" if len(texts) > 1 else ""
        db.session.add(ExportFile(batch_id=batch.id, number=number, content=content,
                                  name=f"safehold-{export_format}-batch-{batch.id}{suffix}.csv",
                                  sha256=hashlib.sha256(content).hexdigest()))
    db.session.add_all(ExportedEntry(batch_id=batch.id, format=export_format, ledger_entry_id=entry.id)
                       for entry in entries)
    db.session.flush()
    return batch


def _lock_exports() -> None:
    """Held until the transaction ends: a second export waits, then sees the first's entries
    as exported. SQLite serialises writers at BEGIN IMMEDIATE already (inventory.database)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EXPORT_LOCK_KEY})


def unexported_entries(export_format: ExportFormat, *, up_to: date) -> Select:
    """Actuals, credits and their reversals dated up to `up_to` and not yet in a batch of
    this format, in ledger order."""
    original = aliased(LedgerEntry)
    exported = exists().where(ExportedEntry.format == str(export_format),
                              ExportedEntry.ledger_entry_id == LedgerEntry.id)
    return (
        select(LedgerEntry)
        .outerjoin(original, LedgerEntry.reverses_id == original.id)
        .where(or_(LedgerEntry.kind.in_(EXPORTED_KINDS),
                   and_(LedgerEntry.kind == EntryKind.REVERSAL, original.kind.in_(EXPORTED_KINDS))),
               LedgerEntry.entry_date <= up_to, ~exported)
        .options(selectinload(LedgerEntry.reverses))
        .order_by(LedgerEntry.position)
    )


def journals_for(entries: list[LedgerEntry]) -> list[Journal]:
    """Each entry as a journal: its own amounts, or for a reversal the original's, the other way."""
    originals = [entry.reverses or entry for entry in entries]
    purchase_ids = {e.source_id for e in originals if e.source_type == SourceType.DIRECT_PURCHASE}
    purchases = {p.id: p for p in db.session.scalars(select(DirectPurchase).where(DirectPurchase.id.in_(purchase_ids)))}
    journals = []
    for entry, original in zip(entries, originals, strict=True):
        purchase = purchases.get(original.source_id) if original.source_type == SourceType.DIRECT_PURCHASE else None
        # The invoice's own net, VAT and gross when the entry has them; otherwise the amount, with no VAT.
        gross = original.gross_pence if original.gross_pence is not None else abs(original.amount_pence)
        vat = original.vat_pence or 0
        details = " - ".join(part for part in (purchase.supplier_name if purchase else "", original.memo) if part)
        reversal = entry is not original
        if reversal:
            details = f"Reversal ({entry.memo}) of: {details}"
        journals.append(Journal(
            entry_id=entry.id, day=entry.entry_date, money_in=(original.kind == EntryKind.CREDIT) != reversal,
            gross_pence=gross, net_pence=gross - vat, vat_pence=vat,
            paid_by=PaymentMethod(purchase.payment_method) if purchase else PaymentMethod.BANK,
            reference=purchase.receipt_reference if purchase else f"SH{original.id}",
            details=details or str(original.kind), reverses_entry_id=original.id if reversal else None,
        ))
    return journals


# Reading batches ---------------------------------------------------------------------------

def batches() -> Select:
    """Every batch, newest first."""
    return select(ExportBatch).options(selectinload(ExportBatch.created_by)).order_by(ExportBatch.id.desc())


def export_file(batch_id: int, number: int) -> ExportFile:
    found = db.session.scalar(select(ExportFile).where(ExportFile.batch_id == batch_id, ExportFile.number == number))
    if found is None:
        raise NotFound("No such export file.")
    return found


def file_response(export: ExportFile) -> Response:
    """The file exactly as it was written when its batch was made."""
    return Response(export.content, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{export.name}"'})


# The files ---------------------------------------------------------------------------------

def _pounds(pence: int) -> str:
    """Pounds as accounting packages read them: 12.50, -12.50."""
    pounds, rest = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{pounds}.{rest:02d}"


def _one_line(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]


def _narration(journal: Journal) -> str:
    if journal.reverses_entry_id is not None:
        what = f"reversal of entry {journal.reverses_entry_id}"
    else:
        what = "refund" if journal.money_in else "spend"
    return _one_line(f"SafeHold {what} {journal.reference} (entry {journal.entry_id})", 200)


def xero_journal_lines(journal: Journal, settings: ExportSettings) -> list[tuple]:
    """The expense line(s) and the contra line (gross, no VAT); positive is a debit.

    Xero takes an imported journal's amounts as tax exclusive and adds the rate's VAT itself.
    Without VAT reclaimed the expense is the gross with no VAT. With it, the expense is split
    so that Xero's 20% comes to exactly the invoice's VAT: VAT x 5 at the reclaimable rate,
    and the rest of the net (zero-rated parts, a penny of rounding) with no VAT."""
    sign = -1 if journal.money_in else 1
    claimed = journal.vat_claimed(settings.vat_reclaimed)
    standard_rated = claimed * 100 // XERO_VAT_PERCENT
    expense = [(settings.xero_vat_rate, standard_rated)] if claimed else []
    rest = journal.cost_pence(settings.vat_reclaimed) - standard_rated
    if rest or not claimed:
        expense.append((settings.xero_no_vat_rate, rest))
    common = (_narration(journal), journal.day.strftime("%d/%m/%Y"), _one_line(journal.details, 200))
    tracking = ((settings.xero_tracking_name, settings.xero_tracking_option, "", "") if settings.xero_tracking_name
                else ("", "", "", ""))
    return [*((*common, settings.xero_expense, rate, _pounds(sign * amount), *tracking) for rate, amount in expense),
            (*common, settings.xero_contra, settings.xero_no_vat_rate, _pounds(-sign * journal.gross_pence), *tracking)]


def xero_files(journals: list[Journal], settings: ExportSettings) -> list[str]:
    """Xero manual journals, one per entry (Xero groups lines by narration and date, so each
    narration is unique), in as many files as Xero's per-file line limit needs; a journal
    is never split between files."""
    files, lines = [], []
    for journal in journals:
        journal_lines = xero_journal_lines(journal, settings)
        if len(lines) + len(journal_lines) > settings.xero_max_lines:
            files.append(lines)
            lines = []
        lines += journal_lines
    if lines or not files:
        files.append(lines)
    return [write_csv(XERO_COLUMNS, rows) for rows in files]


def sage_audit_trail(journals: list[Journal], settings: ExportSettings) -> str:
    """Sage 50 audit-trail transactions: bank or card payments for money out, receipts for
    money in, through the account the money went by; net and VAT apart."""
    rows = []
    for journal in journals:
        claimed = journal.vat_claimed(settings.vat_reclaimed)
        rows.append((
            SAGE_TYPES[journal.paid_by, journal.money_in],
            settings.sage_card if journal.paid_by == PaymentMethod.CARD else settings.sage_bank,
            settings.sage_expense, settings.sage_department, journal.day.strftime("%d/%m/%Y"),
            _one_line(journal.reference, 30), _one_line(journal.details, 60),
            _pounds(journal.cost_pence(settings.vat_reclaimed)),
            settings.sage_vat_code if claimed else settings.sage_no_vat_code, _pounds(claimed),
        ))
    return write_csv(SAGE_COLUMNS, rows)


# At a glance (finance's home page) ---------------------------------------------------------

def unexported_counts(*, up_to: date) -> dict[ExportFormat, int]:
    """How many entries each format's next batch would take (`unexported_entries`), counted
    for every format in one statement."""
    counts = db.session.execute(select(*(
        select(func.count()).select_from(unexported_entries(export_format, up_to=up_to).order_by(None).subquery())
        .scalar_subquery() for export_format in ExportFormat))).one()
    return dict(zip(ExportFormat, counts, strict=True))
