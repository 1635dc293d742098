"""Budget use cases beyond single postings: periods, direct purchases, month close and
overspend alerts. Like the ledger API, they flush and never commit."""
from datetime import date

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import aliased

from inventory import clock
from inventory.audit.models import AuditEventKind
from inventory.audit.operations import record_event
from inventory.budget import categories, ledger
from inventory.budget.year_end import refuse_to_close_with_open_commitments
from inventory.budget.models import (
    BudgetPeriod,
    DirectPurchase,
    EntryKind,
    LedgerEntry,
    MonthClose,
    OverspendAlert,
    PaymentMethod,
    PeriodBalance,
    SourceType,
)
from inventory.errors import Conflict, InvalidInput, NotAllowed
from inventory.extensions import db
from inventory.money import format_pence
from inventory.parsing import Fields
from inventory.permissions import Permission, has_permission

PERIODS_LOCK_KEY = 0x5AFE_0DA7  # pg_advisory_xact_lock key that serialises creating periods
SUPPLIER_NAME_MAX = 120
RECEIPT_REFERENCE_MAX = 80


def financial_year(day: date) -> tuple[date, date, str]:
    """The April-March year containing `day`: (first day, last day, name like "2026-27")."""
    start_year = day.year if day.month >= 4 else day.year - 1
    return date(start_year, 4, 1), date(start_year + 1, 3, 31), f"{start_year}-{str(start_year + 1)[-2:]}"


def create_period(*, starts_on: date | None = None, ends_on: date | None = None,
                  name: str | None = None) -> BudgetPeriod:
    """A budget period; by default the financial year (April-March) containing today."""
    default_start, default_end, default_name = financial_year(starts_on or clock.today())
    starts_on = starts_on or default_start
    ends_on = ends_on or default_end
    if ends_on <= starts_on:
        raise InvalidInput("A period ends after it starts.", fields={"ends_on": "After the start date."})
    given = Fields({"name": name or default_name})
    name = given.text("name", max_length=60)
    given.check()
    _lock_periods()
    overlapping = db.session.scalar(
        select(BudgetPeriod).where(BudgetPeriod.starts_on <= ends_on, BudgetPeriod.ends_on >= starts_on)
    )
    if overlapping is not None:
        raise InvalidInput(f"That overlaps the period {overlapping.name}.",
                           fields={"starts_on": f"Overlaps {overlapping.name}."})
    if db.session.scalar(select(BudgetPeriod.id).where(BudgetPeriod.name == name)):
        raise InvalidInput("A period with that name exists.", fields={"name": "Already in use."})
    period = BudgetPeriod(name=name, starts_on=starts_on, ends_on=ends_on)
    period.balance = PeriodBalance()
    db.session.add(period)
    db.session.flush()
    return period


def _lock_periods() -> None:
    """Hold the overlap and name checks until this transaction ends, so that of two periods
    created at once that clash, the second is checked against the first and refused.
    SQLite serialises writers at BEGIN IMMEDIATE already (see inventory.database)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PERIODS_LOCK_KEY})


def record_direct_purchase(*, supplier_name: str, purchased_on: date, net_pence: int, vat_pence: int,
                           gross_pence: int, receipt_reference: str, category: str, actor,
                           case_reference: str | None = None, payment_method: PaymentMethod = PaymentMethod.BANK):
    """A purchase without a PO (a shop, a card), in an active budget category (named as
    `categories.chosen_category` reads a name): kept as a record and posted as an actual."""
    given = Fields({"supplier_name": supplier_name, "receipt_reference": receipt_reference,
                    "case_reference": case_reference})
    supplier_name = given.text("supplier_name", max_length=SUPPLIER_NAME_MAX)
    receipt_reference = given.text("receipt_reference", max_length=RECEIPT_REFERENCE_MAX)
    case_reference = given.text("case_reference", required=False, max_length=ledger.CASE_REFERENCE_MAX)
    problems = given.errors
    try:
        chosen = categories.chosen_category(name=category)
    except InvalidInput as error:
        problems.update(error.fields)
    if not isinstance(purchased_on, date):
        problems["purchased_on"] = "Enter the date of purchase."
    try:
        ledger.invoice_amounts(gross_pence, net_pence, vat_pence)
    except InvalidInput as error:
        problems.update(error.fields)
    if problems:
        raise InvalidInput("Check the purchase details.", fields=problems)
    purchase = DirectPurchase(
        supplier_name=supplier_name, purchased_on=purchased_on, net_pence=net_pence, vat_pence=vat_pence,
        gross_pence=gross_pence, receipt_reference=receipt_reference, category=chosen.name,
        category_id=chosen.id, case_reference=case_reference, created_by_id=actor.id,
        payment_method=PaymentMethod(payment_method),
    )
    db.session.add(purchase)
    db.session.flush()
    entry = ledger.post_actual(
        gross_pence, on=purchased_on, actor=actor, memo=f"{supplier_name}, receipt {receipt_reference}",
        source_type=SourceType.DIRECT_PURCHASE, source_id=purchase.id, net_pence=net_pence,
        vat_pence=vat_pence, category=chosen.name, case_reference=case_reference, date_field="purchased_on",
    )
    return purchase, entry


class RefundExceedsPurchase(Conflict):
    code = "refund_exceeds_purchase"


def _purchase_entries(purchase: DirectPurchase, kind: EntryKind, *, standing: bool):
    """The purchase's entries of a kind (its actual, its refunds), only those not reversed if `standing`."""
    query = select(LedgerEntry).where(LedgerEntry.source_type == SourceType.DIRECT_PURCHASE,
                                      LedgerEntry.source_id == purchase.id, LedgerEntry.kind == kind)
    if standing:
        reversal = aliased(LedgerEntry)
        query = query.where(~exists().where(reversal.reverses_id == LedgerEntry.id))
    return query


def refunded(purchase: DirectPurchase) -> tuple[int, int]:
    """(net, VAT) that standing (not reversed) refunds gave back for the purchase."""
    entries = _purchase_entries(purchase, EntryKind.CREDIT, standing=True).subquery()
    net, vat = db.session.execute(select(func.coalesce(func.sum(entries.c.net_pence), 0),
                                         func.coalesce(func.sum(entries.c.vat_pence), 0))).one()
    return net, vat


def refund_direct_purchase(purchase: DirectPurchase, *, on: date, net_pence: int, vat_pence: int, reason: str,
                           actor) -> LedgerEntry:
    """Money back for a direct purchase, posted as a ledger credit in its category: never
    more net or VAT than the purchase less standing refunds (`refund_exceeds_purchase`), and
    only while the purchase itself stands. The purchase row is locked, so two refunds at
    once cannot both take the last of it."""
    given = Fields({"reason": reason, "on": on, "net_pence": net_pence, "vat_pence": vat_pence})
    reason = given.text("reason", max_length=ledger.MEMO_MAX)
    on = given.date("on")
    net = given.pence("net_pence", allow_zero=True)
    vat = given.pence("vat_pence", allow_zero=True)
    problems = given.errors
    if on is not None and on > clock.today():
        problems["on"] = "A refund cannot be dated in the future."
    if net is not None and vat is not None and net + vat == 0:
        problems["net_pence"] = "A refund gives something back."
    if problems:
        raise InvalidInput("Check the refund.", fields=problems)
    purchase = db.session.execute(select(DirectPurchase).where(DirectPurchase.id == purchase.id).with_for_update()
                                  .execution_options(populate_existing=True)).scalar_one()
    if db.session.scalar(_purchase_entries(purchase, EntryKind.ACTUAL, standing=True).limit(1)) is None:
        raise Conflict("This purchase was reversed: there is nothing to refund.", code="purchase_reversed",
                       details={"direct_purchase_id": purchase.id})
    net_back, vat_back = refunded(purchase)
    net_left, vat_left = purchase.net_pence - net_back, purchase.vat_pence - vat_back
    if net > net_left or vat > vat_left:
        raise RefundExceedsPurchase(
            f"The purchase cost {format_pence(purchase.gross_pence)} and {format_pence(net_back + vat_back)} is "
            f"already refunded: at most {format_pence(net_left + vat_left)} more (net {format_pence(net_left)}, "
            f"VAT {format_pence(vat_left)}) can be refunded, not {format_pence(net + vat)}.",
            details={"direct_purchase_id": purchase.id, "purchase_pence": purchase.gross_pence,
                     "refunded_pence": net_back + vat_back, "refundable_pence": net_left + vat_left,
                     "refundable_net_pence": net_left, "refundable_vat_pence": vat_left,
                     "requested_pence": net + vat})
    return ledger.credit(
        net + vat, on=on, actor=actor, memo=f"Refund from {purchase.supplier_name}: {reason}"[:ledger.MEMO_MAX],
        source_type=SourceType.DIRECT_PURCHASE, source_id=purchase.id, net_pence=net, vat_pence=vat,
        category=purchase.category, case_reference=purchase.case_reference)


def refuse_to_reverse_refunded(entry: LedgerEntry) -> None:
    """Receiver of the ledger's `entry_reversing`: a direct purchase with standing refunds
    cannot be reversed (the money would come back twice); reverse the refunds first."""
    if entry.kind != EntryKind.ACTUAL or entry.source_type != SourceType.DIRECT_PURCHASE:
        return
    purchase = db.session.get(DirectPurchase, entry.source_id)
    if purchase is not None and any(refunded(purchase)):
        raise Conflict("This purchase has refunds standing: reverse them first, or the money would come back twice.",
                       code="purchase_refunded", details={"direct_purchase_id": purchase.id})


def close_month(month: date, *, actor) -> MonthClose:
    """Lock a finished month: nothing may be dated inside it afterwards."""
    month = month.replace(day=1)
    if month >= clock.today().replace(day=1):
        raise Conflict(f"{month:%B %Y} has not ended yet.", code="month_not_ended")
    ledger.lock_chain()  # a posting in flight finishes first, or sees the close
    if ledger.is_month_closed(month):
        raise Conflict(f"{month:%B %Y} is already closed.", code="already_closed")
    period = db.session.scalar(select(BudgetPeriod).where(BudgetPeriod.starts_on <= month,
                                                          BudgetPeriod.ends_on >= month))
    if period is not None and period.ends_on.replace(day=1) == month:
        refuse_to_close_with_open_commitments(period)
    closing = MonthClose(month=month, closed_by_id=actor.id)
    db.session.add(closing)
    record_event(AuditEventKind.MONTH_CLOSED, actor=actor, month=month.isoformat())
    db.session.flush()
    return closing


def reopen_month(month: date, *, actor, reason: str) -> MonthClose:
    """Reopen a closed month: admins only, with a written reason, recorded."""
    if not has_permission(actor, Permission.REOPEN_MONTH):
        raise NotAllowed("Only an admin may reopen a closed month.")
    given = Fields({"reason": reason})
    reason = given.text("reason", max_length=500)
    given.check()
    closing = db.session.scalar(
        select(MonthClose).where(MonthClose.month == month.replace(day=1), MonthClose.reopened_at.is_(None))
        .with_for_update()
    )
    if closing is None:
        raise Conflict(f"{month:%B %Y} is not closed.", code="not_closed")
    closing.reopened_by_id, closing.reopened_at, closing.reopen_reason = actor.id, clock.now(), reason
    record_event(AuditEventKind.MONTH_REOPENED, actor=actor, month=closing.month.isoformat(), reason=reason)
    db.session.flush()
    return closing


def resolve_overspend(alert: OverspendAlert, *, actor, resolution: str) -> OverspendAlert:
    """Finance has dealt with an overspend (say how); commitments may be made again. The
    resolution is recorded in the audit log."""
    given = Fields({"resolution": resolution})
    resolution = given.text("resolution", max_length=500)
    given.check()
    # Locked and read afresh, so that of two resolutions at once the second finds it resolved.
    alert = db.session.scalars(select(OverspendAlert).where(OverspendAlert.id == alert.id).with_for_update()
                               .execution_options(populate_existing=True)).one()
    if alert.resolved_at is not None:
        raise Conflict("That alert is already resolved.", code="already_resolved")
    alert.resolved_by_id, alert.resolved_at, alert.resolution = actor.id, clock.now(), resolution
    record_event(AuditEventKind.OVERSPEND_RESOLVED, actor=actor, alert_id=alert.id, entry_id=alert.entry_id,
                 over_by_pence=alert.over_by_pence, resolution=resolution)
    db.session.flush()
    return alert
