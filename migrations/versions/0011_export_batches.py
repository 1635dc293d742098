"""export batches: what left the ledger for the accounts, and how each direct purchase was paid

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00

Each export is recorded (export_batches) with the ledger entries it carries
(export_batch_entries: an entry leaves at most once per format) and its files as written
(export_files), so a past batch downloads byte for byte. All three are append-only, in the
app and by database triggers.

direct_purchases gains payment_method (bank | card, existing rows: bank), which Sage's
export uses to post through the bank or the card account. On SQLite the table is rebuilt
(batch mode) from the definition below, so its CHECK constraints come through exactly;
the rebuild drops its append-only triggers with the old table, so they are made again
afterwards (on PostgreSQL, which alters the table in place, that is harmless).
"""
import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

NEW_APPEND_ONLY = ('export_batches', 'export_batch_entries', 'export_files')


def _direct_purchases_table(*, with_payment_method: bool) -> sa.Table:
    """direct_purchases as 0002 made it (with_payment_method=False) or as this revision leaves it."""
    extra = []
    if with_payment_method:
        extra = [
            sa.Column('payment_method', sa.String(length=8), server_default='bank', nullable=False),
            sa.CheckConstraint("payment_method IN ('bank', 'card')",
                               name='ck_direct_purchases_payment_method_known'),
        ]
    return sa.Table(
        'direct_purchases', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_name', sa.String(length=120), nullable=False),
        sa.Column('purchased_on', sa.Date(), nullable=False),
        sa.Column('net_pence', sa.Integer(), nullable=False),
        sa.Column('vat_pence', sa.Integer(), nullable=False),
        sa.Column('gross_pence', sa.Integer(), nullable=False),
        sa.Column('receipt_reference', sa.String(length=80), nullable=False),
        sa.Column('category', sa.String(length=60), nullable=False),
        sa.Column('case_reference', sa.String(length=40), nullable=True),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('gross_pence = net_pence + vat_pence', name='ck_direct_purchases_gross_is_net_plus_vat'),
        sa.CheckConstraint('net_pence >= 0 AND vat_pence >= 0 AND gross_pence > 0',
                           name='ck_direct_purchases_amounts_sane'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_direct_purchases_created_by_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_direct_purchases'),
        *extra,
    )


def upgrade():
    op.create_table(
        'export_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('entry_count', sa.Integer(), nullable=False),
        sa.Column('vat_reclaimed', sa.Boolean(), nullable=False),
        sa.CheckConstraint("format IN ('xero', 'sage')", name=op.f('ck_export_batches_format_known')),
        sa.CheckConstraint('entry_count > 0', name=op.f('ck_export_batches_not_empty')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_export_batches_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_batches')),
        sa.UniqueConstraint('id', 'format', name=op.f('uq_export_batches_id_format')),
    )
    op.create_index(op.f('ix_export_batches_created_at'), 'export_batches', ['created_at'], unique=False)

    op.create_table(
        'export_batch_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id', 'format'], ['export_batches.id', 'export_batches.format'],
                                name=op.f('fk_export_batch_entries_batch_id_export_batches')),
        sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                name=op.f('fk_export_batch_entries_ledger_entry_id_ledger_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_batch_entries')),
        sa.UniqueConstraint('format', 'ledger_entry_id', name=op.f('uq_export_batch_entries_format_ledger_entry_id')),
    )
    op.create_index(op.f('ix_export_batch_entries_batch_id'), 'export_batch_entries', ['batch_id'], unique=False)
    op.create_index(op.f('ix_export_batch_entries_ledger_entry_id'), 'export_batch_entries', ['ledger_entry_id'],
                    unique=False)

    op.create_table(
        'export_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.CheckConstraint('number > 0', name=op.f('ck_export_files_number_positive')),
        sa.ForeignKeyConstraint(['batch_id'], ['export_batches.id'], name=op.f('fk_export_files_batch_id_export_batches')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_files')),
        sa.UniqueConstraint('batch_id', 'number', name=op.f('uq_export_files_batch_id_number')),
    )
    for table in NEW_APPEND_ONLY:
        create_append_only_guard(op, table)

    drop_append_only_guard(op, 'direct_purchases')
    with op.batch_alter_table('direct_purchases',
                              copy_from=_direct_purchases_table(with_payment_method=False)) as batch_op:
        batch_op.add_column(sa.Column('payment_method', sa.String(length=8), server_default='bank', nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_direct_purchases_payment_method_known'),
                                         "payment_method IN ('bank', 'card')")
    create_append_only_guard(op, 'direct_purchases')


def downgrade():
    """The batches' record goes (the accounts keep what they imported); purchases forget how they were paid."""
    drop_append_only_guard(op, 'direct_purchases')
    with op.batch_alter_table('direct_purchases',
                              copy_from=_direct_purchases_table(with_payment_method=True)) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_direct_purchases_payment_method_known'), type_='check')
        batch_op.drop_column('payment_method')
    create_append_only_guard(op, 'direct_purchases')

    for table in NEW_APPEND_ONLY:
        drop_append_only_guard(op, table)
    op.drop_table('export_files')
    op.drop_index(op.f('ix_export_batch_entries_ledger_entry_id'), table_name='export_batch_entries')
    op.drop_index(op.f('ix_export_batch_entries_batch_id'), table_name='export_batch_entries')
    op.drop_table('export_batch_entries')
    op.drop_index(op.f('ix_export_batches_created_at'), table_name='export_batches')
    op.drop_table('export_batches')
