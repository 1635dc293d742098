"""Money in 64 bits: every *_pence column becomes BIGINT on PostgreSQL (32-bit sums and
balances overflow above £21.47M). SQLite's INTEGER already stores 64 bits, so its tables
(some guarded by append-only triggers) are not rebuilt for a name.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

COLUMNS = {
    "budget_period_balances": ("allocated_pence", "committed_pence", "actual_pence", "credits_pence",
                               "adjustments_pence"),
    "item_types": ("standard_cost_pence",),
    "direct_purchases": ("net_pence", "vat_pence", "gross_pence"),
    "ledger_entries": ("amount_pence", "net_pence", "vat_pence", "gross_pence"),
    "overspend_alerts": ("over_by_pence",),
    "statement_lines": ("amount_pence", "allocated_pence"),
    "supplier_invoices": ("net_pence", "vat_pence", "gross_pence"),
    "items": ("purchase_cost_pence",),
    "reconciliation_allocations": ("amount_pence",),
    "item_returns": ("value_reused_pence",),
    "purchase_order_lines": ("unit_net_pence", "unit_vat_pence"),
    "supplier_invoice_lines": ("unit_net_pence", "unit_vat_pence"),
}


def _alter(type_) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=type_)


def upgrade():
    _alter(sa.BigInteger())


def downgrade():
    _alter(sa.Integer())
