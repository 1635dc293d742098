"""procurement money you can account for: credit notes name their invoice, invoices can be
reversed, orders hold one commitment per budget category

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 09:00:00

- supplier_invoices: a credit note names the invoice it credits (`credited_invoice_id`),
  and each of its lines the invoice line (`supplier_invoice_lines.credited_line_id`), so
  credits are bounded by what was invoiced. A new status `reversed` (with `reversed_at`)
  for an invoice or credit note whose ledger entries were reversed. An invoice posts one
  actual per budget category, so the single `ledger_entry_id` gives way to the ledger's
  (source_type, source_id) index, and `posted_at` says when it posted.
- purchase_orders: raising commits one commitment per budget category, found through the
  same index, so `commitment_id` goes. Cancelling an order with goods received leaves it
  received with its cancellation reason, so a reason no longer implies the cancelled state.

Existing rows: posted invoices get `posted_at` from their approval or recording time.
Credit notes recorded before this revision name no invoice (the constraint allows that;
the application requires it from now on).

Going down is lossy where the new facts have no old home: a reversed invoice becomes
posted again, an order cancelled after receiving goods forgets the reason, and the single
links are taken from the first matching ledger entry.

On SQLite the tables are rebuilt (batch mode) from the definitions below rather than from
reflection, so that their CHECK constraints come through exactly.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

UTC_DATETIME = inventory.database.UTCDateTime(timezone=True)


def _orders_table() -> sa.Table:
    """purchase_orders as 0004 made it."""
    return sa.Table(
        'purchase_orders', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('notes', sa.String(length=500), nullable=True),
        sa.Column('created_at', UTC_DATETIME, nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('raised_at', UTC_DATETIME, nullable=True),
        sa.Column('raised_by_id', sa.Integer(), nullable=True),
        sa.Column('commitment_id', sa.Integer(), nullable=True),
        sa.Column('cancelled_at', UTC_DATETIME, nullable=True),
        sa.Column('cancel_reason', sa.String(length=500), nullable=True),
        sa.Column('closed_at', UTC_DATETIME, nullable=True),
        sa.CheckConstraint("(status = 'cancelled') = (cancel_reason IS NOT NULL)",
                           name='ck_purchase_orders_cancelled_has_reason'),
        sa.CheckConstraint("status IN ('draft', 'cancelled') OR (raised_at IS NOT NULL AND commitment_id IS NOT NULL)",
                           name='ck_purchase_orders_raised_is_committed'),
        sa.CheckConstraint("status IN ('draft', 'raised', 'partly_received', 'received', 'closed', 'cancelled')",
                           name='ck_purchase_orders_status_known'),
        sa.ForeignKeyConstraint(['commitment_id'], ['ledger_entries.id'],
                                name='fk_purchase_orders_commitment_id_ledger_entries'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_purchase_orders_created_by_id_users'),
        sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name='fk_purchase_orders_raised_by_id_users'),
        sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name='fk_purchase_orders_supplier_id_suppliers'),
        sa.PrimaryKeyConstraint('id', name='pk_purchase_orders'),
        sa.Index('ix_purchase_orders_status', 'status'),
        sa.Index('ix_purchase_orders_supplier_id', 'supplier_id'),
    )


def _invoices_table() -> sa.Table:
    """supplier_invoices as 0004 made it."""
    return sa.Table(
        'supplier_invoices', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purchase_order_id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('invoice_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('net_pence', sa.Integer(), nullable=False),
        sa.Column('vat_pence', sa.Integer(), nullable=False),
        sa.Column('gross_pence', sa.Integer(), nullable=False),
        sa.Column('mismatches', sa.JSON(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('recorded_at', UTC_DATETIME, nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approval_reason', sa.String(length=500), nullable=True),
        sa.Column('approved_at', UTC_DATETIME, nullable=True),
        sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("(status = 'posted') = (ledger_entry_id IS NOT NULL)",
                           name='ck_supplier_invoices_posted_has_entry'),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name='ck_supplier_invoices_kind_known'),
        sa.CheckConstraint("status IN ('posted', 'awaiting_approval')", name='ck_supplier_invoices_status_known'),
        sa.CheckConstraint('approved_by_id IS NULL OR approval_reason IS NOT NULL',
                           name='ck_supplier_invoices_approval_has_reason'),
        sa.CheckConstraint('net_pence >= 0 AND vat_pence >= 0 AND gross_pence = net_pence + vat_pence '
                           'AND gross_pence > 0', name='ck_supplier_invoices_amounts_add_up'),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name='fk_supplier_invoices_approved_by_id_users'),
        sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                name='fk_supplier_invoices_ledger_entry_id_ledger_entries'),
        sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'],
                                name='fk_supplier_invoices_purchase_order_id_purchase_orders'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name='fk_supplier_invoices_recorded_by_id_users'),
        sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name='fk_supplier_invoices_supplier_id_suppliers'),
        sa.PrimaryKeyConstraint('id', name='pk_supplier_invoices'),
        sa.UniqueConstraint('supplier_id', 'kind', 'number', name='uq_supplier_invoices_supplier_id_kind_number'),
        sa.Index('ix_supplier_invoices_purchase_order_id', 'purchase_order_id'),
        sa.Index('ix_supplier_invoices_status', 'status'),
    )


def _invoice_lines_table() -> sa.Table:
    """supplier_invoice_lines as 0004 made it."""
    return sa.Table(
        'supplier_invoice_lines', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('purchase_order_line_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_net_pence', sa.Integer(), nullable=False),
        sa.Column('unit_vat_pence', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity > 0', name='ck_supplier_invoice_lines_quantity_positive'),
        sa.CheckConstraint('unit_net_pence >= 0 AND unit_vat_pence >= 0',
                           name='ck_supplier_invoice_lines_prices_not_negative'),
        sa.ForeignKeyConstraint(['invoice_id'], ['supplier_invoices.id'],
                                name='fk_supplier_invoice_lines_invoice_id_supplier_invoices', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_lines.id'],
                                name='fk_supplier_invoice_lines_purchase_order_line_id_purchase_order_lines'),
        sa.PrimaryKeyConstraint('id', name='pk_supplier_invoice_lines'),
        sa.Index('ix_supplier_invoice_lines_invoice_id', 'invoice_id'),
        sa.Index('ix_supplier_invoice_lines_purchase_order_line_id', 'purchase_order_line_id'),
    )


def _invoices_table_between() -> sa.Table:
    """supplier_invoices after the first step of the upgrade: new columns, no posted_has_entry."""
    table = _invoices_table()
    table.append_column(sa.Column('posted_at', UTC_DATETIME, nullable=True))
    table.append_column(sa.Column('reversed_at', UTC_DATETIME, nullable=True))
    table.append_column(sa.Column('credited_invoice_id', sa.Integer(), nullable=True))
    for constraint in list(table.constraints):
        if constraint.name == 'ck_supplier_invoices_posted_has_entry':
            table.constraints.remove(constraint)
    return table


def upgrade():
    with op.batch_alter_table('supplier_invoice_lines', copy_from=_invoice_lines_table()) as batch_op:
        batch_op.add_column(sa.Column('credited_line_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_supplier_invoice_lines_credited_line_id_supplier_invoice_lines'),
                                    'supplier_invoice_lines', ['credited_line_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_supplier_invoice_lines_credited_line_id'), ['credited_line_id'],
                              unique=False)

    with op.batch_alter_table('supplier_invoices', copy_from=_invoices_table()) as batch_op:
        batch_op.add_column(sa.Column('posted_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('reversed_at', UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column('credited_invoice_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_supplier_invoices_posted_has_entry'), type_='check')
    op.execute("UPDATE supplier_invoices SET posted_at = COALESCE(approved_at, recorded_at) WHERE status = 'posted'")
    with op.batch_alter_table('supplier_invoices', copy_from=_invoices_table_between()) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_supplier_invoices_ledger_entry_id_ledger_entries'), type_='foreignkey')
        batch_op.drop_column('ledger_entry_id')
        batch_op.drop_constraint(batch_op.f('ck_supplier_invoices_status_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_status_known'),
                                         "status IN ('posted', 'awaiting_approval', 'reversed')")
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_posted_has_date'),
                                         "(status = 'awaiting_approval') = (posted_at IS NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_reversed_has_date'),
                                         "(status = 'reversed') = (reversed_at IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_only_credit_notes_credit'),
                                         "credited_invoice_id IS NULL OR kind = 'credit_note'")
        batch_op.create_foreign_key(batch_op.f('fk_supplier_invoices_credited_invoice_id_supplier_invoices'),
                                    'supplier_invoices', ['credited_invoice_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_supplier_invoices_credited_invoice_id'), ['credited_invoice_id'],
                              unique=False)

    with op.batch_alter_table('purchase_orders', copy_from=_orders_table()) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_raised_is_committed'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_purchase_orders_commitment_id_ledger_entries'), type_='foreignkey')
        batch_op.drop_column('commitment_id')
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_cancelled_has_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_raised_has_date'),
                                         "status IN ('draft', 'cancelled') OR raised_at IS NOT NULL")
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_cancelled_has_reason'),
                                         "status <> 'cancelled' OR cancel_reason IS NOT NULL")
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_cancel_reason_with_date'),
                                         "(cancelled_at IS NULL) = (cancel_reason IS NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_closed_has_date'),
                                         "status <> 'closed' OR closed_at IS NOT NULL")


def downgrade():
    """Back to single links, taken from the first matching ledger entry (see the module's note)."""
    op.execute("UPDATE purchase_orders SET cancelled_at = NULL, cancel_reason = NULL WHERE status <> 'cancelled'")
    with op.batch_alter_table('purchase_orders') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_raised_has_date'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_cancelled_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_cancel_reason_with_date'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_purchase_orders_closed_has_date'), type_='check')
        batch_op.add_column(sa.Column('commitment_id', sa.Integer(), nullable=True))
    op.execute("UPDATE purchase_orders SET commitment_id = (SELECT MIN(e.id) FROM ledger_entries e "
               "WHERE e.source_type = 'purchase_order' AND e.source_id = purchase_orders.id "
               "AND e.kind = 'commitment')")
    with op.batch_alter_table('purchase_orders') as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_purchase_orders_commitment_id_ledger_entries'), 'ledger_entries',
                                    ['commitment_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_cancelled_has_reason'),
                                         "(status = 'cancelled') = (cancel_reason IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_purchase_orders_raised_is_committed'),
            "status IN ('draft', 'cancelled') OR (raised_at IS NOT NULL AND commitment_id IS NOT NULL)")

    op.execute("UPDATE supplier_invoices SET status = 'posted' WHERE status = 'reversed'")
    with op.batch_alter_table('supplier_invoices') as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_invoices_credited_invoice_id'))
        batch_op.drop_constraint(batch_op.f('fk_supplier_invoices_credited_invoice_id_supplier_invoices'),
                                 type_='foreignkey')
        for name in ('status_known', 'posted_has_date', 'reversed_has_date', 'only_credit_notes_credit'):
            batch_op.drop_constraint(batch_op.f(f'ck_supplier_invoices_{name}'), type_='check')
        batch_op.add_column(sa.Column('ledger_entry_id', sa.Integer(), nullable=True))
    op.execute("UPDATE supplier_invoices SET ledger_entry_id = (SELECT MIN(e.id) FROM ledger_entries e "
               "WHERE e.source_type = 'invoice' AND e.source_id = supplier_invoices.id "
               "AND e.kind IN ('actual', 'credit')) WHERE status = 'posted'")
    with op.batch_alter_table('supplier_invoices') as batch_op:
        batch_op.drop_column('credited_invoice_id')
        batch_op.drop_column('reversed_at')
        batch_op.drop_column('posted_at')
        batch_op.create_foreign_key(batch_op.f('fk_supplier_invoices_ledger_entry_id_ledger_entries'), 'ledger_entries',
                                    ['ledger_entry_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_status_known'),
                                         "status IN ('posted', 'awaiting_approval')")
        batch_op.create_check_constraint(batch_op.f('ck_supplier_invoices_posted_has_entry'),
                                         "(status = 'posted') = (ledger_entry_id IS NOT NULL)")

    with op.batch_alter_table('supplier_invoice_lines') as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_invoice_lines_credited_line_id'))
        batch_op.drop_constraint(batch_op.f('fk_supplier_invoice_lines_credited_line_id_supplier_invoice_lines'),
                                 type_='foreignkey')
        batch_op.drop_column('credited_line_id')
