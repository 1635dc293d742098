"""Exports of money spent and refunded, in files the service's accounting package imports:
Xero manual journals and Sage 50 audit-trail transactions.

Only actuals and credits leave the budget for the bank; an entry that a reversal cancelled
is left out, and so is the reversal (together they are no money at all). Commitments and
releases are the budget's own bookkeeping and never reach the accounts.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from inventory.budget.models import EntryKind, LedgerEntry
from inventory.errors import InvalidInput
from inventory.extensions import db
from inventory.reconciliation.queries import entry_texts, is_reversed

XERO_COLUMNS = ("Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount", "TrackingName1",
                "TrackingOption1")
SAGE_COLUMNS = ("Type", "Account Reference", "Nominal A/C Ref", "Department Code", "Date", "Reference", "Details",
                "Net Amount", "Tax Code", "Tax Amount")
MAX_EXPORT_DAYS = 400
EXPORTED_KINDS = (EntryKind.ACTUAL, EntryKind.CREDIT)  # spend and refunds; the grant (allocation) is not spend


@dataclass(frozen=True)
class SpendRecord:
    """One actual (money out) or credit (money back), as the accounts see it."""

    entry_id: int
    day: date
    is_refund: bool
    gross_pence: int  # positive
    net_pence: int
    vat_pence: int
    reference: str
    details: str


@dataclass(frozen=True)
class AccountCodes:
    xero_expense: str
    xero_contra: str
    xero_tax_rate: str
    xero_tracking_name: str
    xero_tracking_option: str
    sage_bank: str
    sage_expense: str
    sage_department: str
    sage_vat_code: str
    sage_no_vat_code: str

    @classmethod
    def from_config(cls, config) -> "AccountCodes":
        return cls(
            xero_expense=config["XERO_EXPENSE_ACCOUNT"], xero_contra=config["XERO_CONTRA_ACCOUNT"],
            xero_tax_rate=config["XERO_TAX_RATE"], xero_tracking_name=config["XERO_TRACKING_NAME"],
            xero_tracking_option=config["XERO_TRACKING_OPTION"], sage_bank=config["SAGE_BANK_ACCOUNT"],
            sage_expense=config["SAGE_EXPENSE_NOMINAL"], sage_department=config["SAGE_DEPARTMENT"],
            sage_vat_code=config["SAGE_VAT_TAX_CODE"], sage_no_vat_code=config["SAGE_NO_VAT_TAX_CODE"],
        )


def check_range(start: date | None, end: date | None) -> tuple[date, date]:
    fields = {}
    if start is None:
        fields["start"] = "Enter the first day to export."
    if end is None:
        fields["end"] = "Enter the last day to export."
    if not fields and end < start:
        fields["end"] = "The last day is before the first."
    if not fields and (end - start).days > MAX_EXPORT_DAYS:
        fields["end"] = f"Export at most {MAX_EXPORT_DAYS} days at a time."
    if fields:
        raise InvalidInput("Choose the dates to export.", fields=fields)
    return start, end


def spend_records(start: date, end: date) -> list[SpendRecord]:
    start, end = check_range(start, end)
    entries = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind.in_(EXPORTED_KINDS), LedgerEntry.entry_date.between(start, end),
                                  ~is_reversed())
        .order_by(LedgerEntry.entry_date, LedgerEntry.id)
    ))
    texts = entry_texts(entries)
    records = []
    for entry in entries:
        # The invoice's own net, VAT and gross when the entry has them (the budget may be
        # charged net when VAT is reclaimed); otherwise the amount, with no VAT.
        gross = entry.gross_pence if entry.gross_pence is not None else abs(entry.amount_pence)
        vat = entry.vat_pence or 0
        memo, *purchase = texts[entry.id]
        supplier, receipt = purchase if purchase else ("", "")
        details = " - ".join(part for part in (supplier, memo) if part) or entry.kind
        records.append(SpendRecord(
            entry_id=entry.id, day=entry.entry_date, is_refund=entry.kind == EntryKind.CREDIT, gross_pence=gross,
            net_pence=gross - vat, vat_pence=vat, reference=receipt or f"SH{entry.id}", details=details,
        ))
    return records


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def xero_manual_journals(records: list[SpendRecord], codes: AccountCodes) -> str:
    """One balanced journal per record: the expense and the contra account, gross.
    Xero groups lines into a journal by narration and date, so each narration is unique."""
    rows = []
    for record in records:
        narration = _one_line(f"SafeHold {'refund' if record.is_refund else 'spend'} {record.reference} "
                              f"(entry {record.entry_id})", 200)
        expense = -record.gross_pence if record.is_refund else record.gross_pence
        for account, amount in ((codes.xero_expense, expense), (codes.xero_contra, -expense)):
            rows.append((narration, record.day.strftime("%d/%m/%Y"), _one_line(record.details, 200), account,
                         codes.xero_tax_rate, _pounds(amount), codes.xero_tracking_name, codes.xero_tracking_option))
    return _csv(XERO_COLUMNS, rows)


def sage_audit_trail(records: list[SpendRecord], codes: AccountCodes) -> str:
    """Bank payments (BP) for spend and bank receipts (BR) for refunds, net and VAT apart."""
    rows = []
    for record in records:
        rows.append((
            "BR" if record.is_refund else "BP", codes.sage_bank, codes.sage_expense, codes.sage_department,
            record.day.strftime("%d/%m/%Y"), _one_line(record.reference, 30), _one_line(record.details, 60),
            _pounds(record.net_pence), codes.sage_vat_code if record.vat_pence else codes.sage_no_vat_code,
            _pounds(record.vat_pence),
        ))
    return _csv(SAGE_COLUMNS, rows)
