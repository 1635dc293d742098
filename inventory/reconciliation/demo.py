"""Demo: a bank statement that pays most of the ledger's demo direct purchases, with a
bank fee, a payment nobody has recorded yet and the grant paid in, so the reconciliation
screens have work."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from inventory.budget.models import DirectPurchase, EntryKind, LedgerEntry, SourceType
from inventory.extensions import db
from inventory.reconciliation import operations, queries
from inventory.reconciliation.models import MatchMethod, Statement, StatementLine
from inventory.reconciliation.statement_csv import ColumnMapping

DEMO_ACCOUNT = "Current account (demo)"


def seed_reconciliation_demo(*, finance) -> Statement | None:
    """Import a statement for the demo purchases already in the ledger (None if there are
    none), accept the best proposal for the first line and mark it reconciled."""
    purchases = list(db.session.execute(
        select(DirectPurchase, LedgerEntry)
        .join(LedgerEntry, (LedgerEntry.source_type == SourceType.DIRECT_PURCHASE)
              & (LedgerEntry.source_id == DirectPurchase.id) & (LedgerEntry.kind == EntryKind.ACTUAL))
        .order_by(DirectPurchase.purchased_on, DirectPurchase.id)
    ))
    if not purchases:
        return None
    paid = purchases[:max(1, len(purchases) * 2 // 3)]  # the rest have not reached the bank yet
    rows = [(purchase.purchased_on + timedelta(days=1), f"CARD PAYMENT {purchase.supplier_name.upper()}",
             -queries.bank_pence(entry), purchase.receipt_reference) for purchase, entry in paid]
    last_day = rows[-1][0]
    rows += [(last_day, "MONTHLY ACCOUNT FEE", -500, ""), (last_day, "CARD PAYMENT HARDWARE STORE", -1899, "")]
    grant = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ALLOCATION,
                                                        ~queries.is_reversed()).order_by(LedgerEntry.id).limit(1))
    if grant is not None:  # the funder's payment, to match to the allocation
        rows.append((grant.entry_date, "PCC GRANT PAYMENT", grant.amount_pence, "GRANT"))
    text = "Date,Description,Money out,Money in,Reference\n" + "".join(
        f"{day:%d/%m/%Y},{description},{_pounds(-pence) if pence < 0 else ''},{_pounds(pence) if pence > 0 else ''},"
        f"{reference}\n" for day, description, pence, reference in rows)
    statement = operations.import_statement(
        data=text.encode(), filename="demo-statement.csv", account=DEMO_ACCOUNT, actor=finance,
        mapping=ColumnMapping(date="Date", description="Description", paid_in="Money in", paid_out="Money out",
                              reference="Reference"),
        max_bytes=current_app.config["STATEMENT_MAX_BYTES"],
    )
    first = db.session.scalar(select(StatementLine).where(StatementLine.statement_id == statement.id)
                              .order_by(StatementLine.line_number).limit(1))
    proposals = queries.proposals_for(first, window_days=current_app.config["MATCH_DATE_WINDOW_DAYS"])
    if proposals:
        operations.create_match(pairs=[operations.Pair(first.id, proposals[0].entry.id)], actor=finance,
                                method=MatchMethod.PROPOSAL)
        operations.mark_reconciled(first.id, actor=finance)
    db.session.commit()
    return statement


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"
