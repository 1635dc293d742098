"""reconciliation: statements, lines, matches, rejections, events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:56:45.534919

"""
import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard

FROZEN_COLUMNS = ("statement_id", "value_date", "amount_pence", "fingerprint", "description", "reference")


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reconciliation_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("method IN ('proposal', 'manual')", name=op.f('ck_reconciliation_matches_method_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reconciliation_matches_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_matches'))
    )
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('imported_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('line_count = new_count + duplicate_count', name=op.f('ck_statements_counts_add_up')),
    sa.CheckConstraint('new_count >= 0 AND duplicate_count >= 0', name=op.f('ck_statements_counts_not_negative')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_statements_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_imported_at'), ['imported_at'], unique=False)

    op.create_table('statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('allocated_pence', sa.Integer(), nullable=False),
    sa.Column('reconciled_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reconciled_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(reconciled_at IS NULL) = (reconciled_by_id IS NULL)', name=op.f('ck_statement_lines_reconciled_by_whom')),
    sa.CheckConstraint('allocated_pence >= 0 AND allocated_pence <= abs(amount_pence)', name=op.f('ck_statement_lines_allocated_within_amount')),
    sa.CheckConstraint('amount_pence <> 0', name=op.f('ck_statement_lines_amount_not_zero')),
    sa.CheckConstraint('reconciled_at IS NULL OR allocated_pence = abs(amount_pence)', name=op.f('ck_statement_lines_reconciled_only_when_fully_matched')),
    sa.ForeignKeyConstraint(['reconciled_by_id'], ['users.id'], name=op.f('fk_statement_lines_reconciled_by_id_users')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_statement_lines_fingerprint'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('ix_statement_lines_unreconciled_date', ['value_date'], unique=False, sqlite_where=sa.text('reconciled_at IS NULL'), postgresql_where=sa.text('reconciled_at IS NULL'))

    op.create_table('reconciliation_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('statement_line_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_reconciliation_allocations_amount_positive')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_reconciliation_allocations_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['match_id'], ['reconciliation_matches.id'], name=op.f('fk_reconciliation_allocations_match_id_reconciliation_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_lines.id'], name=op.f('fk_reconciliation_allocations_statement_line_id_statement_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_allocations')),
    sa.UniqueConstraint('match_id', 'statement_line_id', 'ledger_entry_id', name=op.f('uq_reconciliation_allocations_match_id_statement_line_id_ledger_entry_id'))
    )
    with op.batch_alter_table('reconciliation_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_allocations_ledger_entry_id'), ['ledger_entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_allocations_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_allocations_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('reconciliation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('statement_line_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('statement_imported', 'matched', 'unmatched', 'proposal_rejected', 'line_reconciled')", name=op.f('ck_reconciliation_events_kind_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_reconciliation_events_actor_id_users')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_lines.id'], name=op.f('fk_reconciliation_events_statement_line_id_statement_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_events'))
    )
    with op.batch_alter_table('reconciliation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_events_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_events_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('reconciliation_rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_line_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('rejected_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rejected_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_reconciliation_rejections_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['rejected_by_id'], ['users.id'], name=op.f('fk_reconciliation_rejections_rejected_by_id_users')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_lines.id'], name=op.f('fk_reconciliation_rejections_statement_line_id_statement_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_rejections')),
    sa.UniqueConstraint('statement_line_id', 'ledger_entry_id', name=op.f('uq_reconciliation_rejections_statement_line_id_ledger_entry_id'))
    )
    create_append_only_guard(op, "reconciliation_events")
    _freeze_statement_lines()


def _freeze_statement_lines() -> None:
    """A statement line is what the bank said: never deleted, its money fields never changed."""
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FROZEN_COLUMNS)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION safehold_statement_line_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'statement lines are never deleted'; END IF; "
            f"IF {changed} THEN RAISE EXCEPTION 'statement line fields are frozen'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute("CREATE TRIGGER statement_lines_frozen BEFORE UPDATE OR DELETE ON statement_lines "
                   "FOR EACH ROW EXECUTE FUNCTION safehold_statement_line_frozen()")
    else:
        op.execute("CREATE TRIGGER statement_lines_no_delete BEFORE DELETE ON statement_lines "
                   "BEGIN SELECT RAISE(ABORT, 'statement lines are never deleted'); END")
        op.execute(f"CREATE TRIGGER statement_lines_frozen BEFORE UPDATE ON statement_lines "
                   f"WHEN {changed.replace('IS DISTINCT FROM', 'IS NOT')} "
                   "BEGIN SELECT RAISE(ABORT, 'statement line fields are frozen'); END")


def _unfreeze_statement_lines() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS statement_lines_frozen ON statement_lines")
        op.execute("DROP FUNCTION IF EXISTS safehold_statement_line_frozen()")
    else:
        op.execute("DROP TRIGGER IF EXISTS statement_lines_no_delete")
        op.execute("DROP TRIGGER IF EXISTS statement_lines_frozen")


def downgrade():
    _unfreeze_statement_lines()
    drop_append_only_guard(op, "reconciliation_events")
    op.drop_table('reconciliation_rejections')
    with op.batch_alter_table('reconciliation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_events_statement_line_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_events_match_id'))

    op.drop_table('reconciliation_events')
    with op.batch_alter_table('reconciliation_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_allocations_statement_line_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_allocations_match_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_allocations_ledger_entry_id'))

    op.drop_table('reconciliation_allocations')
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_statement_lines_unreconciled_date', sqlite_where=sa.text('reconciled_at IS NULL'), postgresql_where=sa.text('reconciled_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_statement_lines_statement_id'))

    op.drop_table('statement_lines')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_imported_at'))

    op.drop_table('statements')
    op.drop_table('reconciliation_matches')
