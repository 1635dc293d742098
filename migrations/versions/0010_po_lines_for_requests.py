"""purchase order lines for requests: a line may name the request line it is ordered for

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:00:00

Raising an order converts the named request line's commitment (money is never committed
twice), and the goods go to that request first when they arrive.

On SQLite the table is rebuilt (batch mode) from the definition below rather than from
reflection, so that its CHECK constraints come through exactly; migrations/env.py turns
foreign keys off for the rebuild and checks them before commit.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _lines_table(*, with_request_line: bool) -> sa.Table:
    """purchase_order_lines as 0004 made it (with_request_line=False) or as this revision leaves it."""
    extra = []
    if with_request_line:
        extra = [
            sa.Column('request_line_id', sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(['request_line_id'], ['request_lines.id'],
                                    name='fk_purchase_order_lines_request_line_id_request_lines'),
            sa.Index('ix_purchase_order_lines_request_line_id', 'request_line_id'),
        ]
    return sa.Table(
        'purchase_order_lines', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purchase_order_id', sa.Integer(), nullable=False),
        sa.Column('item_type_id', sa.Integer(), nullable=False),
        sa.Column('supplier_product_code', sa.String(length=60), nullable=True),
        sa.Column('quantity_ordered', sa.Integer(), nullable=False),
        sa.Column('quantity_received', sa.Integer(), nullable=False),
        sa.Column('unit_net_pence', sa.Integer(), nullable=False),
        sa.Column('unit_vat_pence', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity_ordered BETWEEN 1 AND 1000', name='ck_purchase_order_lines_quantity_ordered_sane'),
        sa.CheckConstraint('quantity_received BETWEEN 0 AND quantity_ordered',
                           name='ck_purchase_order_lines_received_within_ordered'),
        sa.CheckConstraint('unit_net_pence >= 0 AND unit_vat_pence >= 0',
                           name='ck_purchase_order_lines_prices_not_negative'),
        sa.ForeignKeyConstraint(['item_type_id'], ['item_types.id'],
                                name='fk_purchase_order_lines_item_type_id_item_types'),
        sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'],
                                name='fk_purchase_order_lines_purchase_order_id_purchase_orders', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_purchase_order_lines'),
        sa.Index('ix_purchase_order_lines_item_type_id', 'item_type_id'),
        sa.Index('ix_purchase_order_lines_purchase_order_id', 'purchase_order_id'),
        *extra,
    )


def upgrade():
    with op.batch_alter_table('purchase_order_lines', copy_from=_lines_table(with_request_line=False)) as batch_op:
        batch_op.add_column(sa.Column('request_line_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_purchase_order_lines_request_line_id_request_lines'),
                                    'request_lines', ['request_line_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_purchase_order_lines_request_line_id'), ['request_line_id'],
                              unique=False)


def downgrade():
    """Lines forget which request they were ordered for; the ledger keeps its conversions."""
    with op.batch_alter_table('purchase_order_lines', copy_from=_lines_table(with_request_line=True)) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_order_lines_request_line_id'))
        batch_op.drop_constraint(batch_op.f('fk_purchase_order_lines_request_line_id_request_lines'),
                                 type_='foreignkey')
        batch_op.drop_column('request_line_id')
