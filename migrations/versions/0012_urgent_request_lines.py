"""request lines marked urgent by the caseworker

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00

When the budget cannot cover a whole request, the part that fits funds the lines the
caseworker marked urgent first. Existing lines are not urgent.

Adding a column with a default is done in place on both engines; going down rebuilds the
table on SQLite (batch mode) from the definition below, so that its CHECK constraints come
through exactly, as 0010 does.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _lines_table() -> sa.Table:
    """request_lines as this revision leaves it."""
    return sa.Table(
        'request_lines', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('item_type_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('approved_quantity', sa.Integer(), nullable=True),
        sa.Column('reserved_quantity', sa.Integer(), nullable=False),
        sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint('approved_quantity IS NULL OR approved_quantity BETWEEN 0 AND quantity',
                           name='ck_request_lines_approved_within_asked'),
        sa.CheckConstraint('quantity BETWEEN 1 AND 20', name='ck_request_lines_quantity_sensible'),
        sa.CheckConstraint('reserved_quantity BETWEEN 0 AND COALESCE(approved_quantity, 0)',
                           name='ck_request_lines_reserved_within_approved'),
        sa.ForeignKeyConstraint(['item_type_id'], ['item_types.id'], name='fk_request_lines_item_type_id_item_types'),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name='fk_request_lines_request_id_requests',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_request_lines'),
        sa.UniqueConstraint('request_id', 'item_type_id', name='uq_request_lines_request_id_item_type_id'),
        sa.Index('ix_request_lines_item_type_id', 'item_type_id'),
        sa.Index('ix_request_lines_request_id', 'request_id'),
    )


def upgrade():
    op.add_column('request_lines', sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    """Lines forget which were urgent."""
    with op.batch_alter_table('request_lines', copy_from=_lines_table()) as batch_op:
        batch_op.drop_column('urgent')
