"""items and item events refer to their request and case by foreign key

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 08:00:00

0004 made items.reserved_for_request_id, items.issued_case_id, item_events.request_id and
item_events.case_id plain integers, because the requests and cases tables did not exist
yet (0005 made them). Now they are foreign keys, so an item cannot be reserved for a
request, or issued to a case, that is not there.

Existing rows that already name a missing request or case make the upgrade refuse, saying
how many there are: nulling them would silently lose which survivor holds an item (and an
issued or reserved item must name its case or request: ck_items_issued_has_case,
ck_items_reserved_has_request), and item events are append-only, so cannot be changed. Such
rows need a person to decide what they should say before migrating.

On SQLite both tables are rebuilt (batch mode) from the definitions below rather than from
reflection, so that their CHECK constraints, unique constraints and indexes come through
exactly; migrations/env.py turns foreign keys off for the rebuild and checks them before
commit. Rebuilding item_events drops its append-only triggers with the old table, so they
are made again afterwards (on PostgreSQL, which alters the table in place, dropping and
remaking them is harmless).
"""
import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# (table, column, referred table, constraint name)
REFERENCES = (
    ('items', 'reserved_for_request_id', 'requests', 'fk_items_reserved_for_request_id_requests'),
    ('items', 'issued_case_id', 'cases', 'fk_items_issued_case_id_cases'),
    ('item_events', 'request_id', 'requests', 'fk_item_events_request_id_requests'),
    ('item_events', 'case_id', 'cases', 'fk_item_events_case_id_cases'),
)


def _new_foreign_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [sa.ForeignKeyConstraint([column], [f'{referred}.id'], name=name)
            for on, column, referred, name in REFERENCES if on == table]


def _items_table(*, with_new_keys: bool) -> sa.Table:
    """The items table as 0004 made it (with_new_keys=False) or as this revision leaves it."""
    return sa.Table(
        'items', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('item_type_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('serial_number', sa.String(length=80), nullable=True),
        sa.Column('purchase_cost_pence', sa.Integer(), nullable=True),
        sa.Column('supplier_id', sa.Integer(), nullable=True),
        sa.Column('purchase_order_id', sa.Integer(), nullable=True),
        sa.Column('goods_receipt_id', sa.Integer(), nullable=True),
        sa.Column('reserved_for_request_id', sa.Integer(), nullable=True),
        sa.Column('issued_case_id', sa.Integer(), nullable=True),
        sa.Column('awaiting_wipe', sa.Boolean(), nullable=False),
        sa.Column('write_off_reason', sa.String(length=20), nullable=True),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(state = 'issued') = (issued_case_id IS NOT NULL)", name='ck_items_issued_has_case'),
        sa.CheckConstraint("(state = 'reserved') = (reserved_for_request_id IS NOT NULL)", name='ck_items_reserved_has_request'),
        sa.CheckConstraint("(state = 'written_off') = (write_off_reason IS NOT NULL)", name='ck_items_written_off_has_reason'),
        sa.CheckConstraint("NOT (awaiting_wipe AND state IN ('in_stock', 'reserved', 'issued'))", name='ck_items_wiped_before_reuse'),
        sa.CheckConstraint("location_id IS NOT NULL OR NOT state IN ('in_stock', 'reserved', 'quarantine')", name='ck_items_held_has_location'),
        sa.CheckConstraint("state IN ('on_order', 'in_stock', 'reserved', 'issued', 'returned', 'quarantine', 'written_off')", name='ck_items_state_known'),
        sa.CheckConstraint("write_off_reason IS NULL OR write_off_reason IN ('faulty', 'damaged', 'lost', 'end_of_life', 'not_recovered')", name='ck_items_write_off_reason_known'),
        sa.CheckConstraint('purchase_cost_pence IS NULL OR purchase_cost_pence >= 0', name='ck_items_cost_not_negative'),
        sa.ForeignKeyConstraint(['goods_receipt_id'], ['goods_receipts.id'], name='fk_items_goods_receipt_id_goods_receipts'),
        sa.ForeignKeyConstraint(['item_type_id'], ['item_types.id'], name='fk_items_item_type_id_item_types'),
        sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name='fk_items_location_id_stock_locations'),
        sa.ForeignKeyConstraint(['purchase_order_id'], ['purchase_orders.id'], name='fk_items_purchase_order_id_purchase_orders'),
        sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name='fk_items_supplier_id_suppliers'),
        *(_new_foreign_keys('items') if with_new_keys else ()),
        sa.PrimaryKeyConstraint('id', name='pk_items'),
        sa.UniqueConstraint('code', name='uq_items_code'),
        sa.UniqueConstraint('item_type_id', 'serial_number', name='uq_items_item_type_id_serial_number'),
        sa.Index('ix_items_goods_receipt_id', 'goods_receipt_id'),
        sa.Index('ix_items_issued_case_id', 'issued_case_id'),
        sa.Index('ix_items_location_state', 'location_id', 'state'),
        sa.Index('ix_items_purchase_order_id', 'purchase_order_id'),
        sa.Index('ix_items_reserved_for_request_id', 'reserved_for_request_id'),
        sa.Index('ix_items_state', 'state'),
        sa.Index('ix_items_supplier_id', 'supplier_id'),
        sa.Index('ix_items_type_state', 'item_type_id', 'state'),
    )


def _item_events_table(*, with_new_keys: bool) -> sa.Table:
    """The item_events table as 0004 made it (with_new_keys=False) or as this revision leaves it."""
    return sa.Table(
        'item_events', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('from_state', sa.String(length=20), nullable=True),
        sa.Column('to_state', sa.String(length=20), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.CheckConstraint("from_state IS NULL OR from_state IN ('on_order', 'in_stock', 'reserved', 'issued', 'returned', 'quarantine', 'written_off')", name='ck_item_events_from_state_known'),
        sa.CheckConstraint("kind IN ('received', 'reserved', 'reservation_released', 'issued', 'returned', 'quarantined', 'released_from_quarantine', 'wipe_confirmed', 'written_off', 'found', 'moved', 'code_replaced')", name='ck_item_events_kind_known'),
        sa.CheckConstraint("to_state IN ('on_order', 'in_stock', 'reserved', 'issued', 'returned', 'quarantine', 'written_off')", name='ck_item_events_to_state_known'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name='fk_item_events_actor_id_users'),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name='fk_item_events_item_id_items'),
        sa.ForeignKeyConstraint(['location_id'], ['stock_locations.id'], name='fk_item_events_location_id_stock_locations'),
        *(_new_foreign_keys('item_events') if with_new_keys else ()),
        sa.PrimaryKeyConstraint('id', name='pk_item_events'),
        sa.Index('ix_item_events_actor_id', 'actor_id'),
        sa.Index('ix_item_events_item_time', 'item_id', 'occurred_at'),
    )


TABLES = {'items': _items_table, 'item_events': _item_events_table}


def _refuse_references_to_nothing():
    bind = op.get_bind()
    broken = []
    for table, column, referred, _name in REFERENCES:
        count = bind.execute(sa.text(
            f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {referred} WHERE {referred}.id = {table}.{column})"
        )).scalar_one()
        if count:
            broken.append(f"{count} in {table}.{column} (no such {referred}.id)")
    if broken:
        raise RuntimeError(
            "Cannot add the foreign keys: some rows name a request or case that does not exist: "
            + "; ".join(broken) + ". Decide what each should say and correct it by hand (item_events is "
            "append-only: lift its triggers to do so), then upgrade again."
        )


def upgrade():
    _refuse_references_to_nothing()
    drop_append_only_guard(op, 'item_events')
    for table, definition in TABLES.items():
        with op.batch_alter_table(table, copy_from=definition(with_new_keys=False)) as batch_op:
            for on, column, referred, name in REFERENCES:
                if on == table:
                    batch_op.create_foreign_key(batch_op.f(name), referred, [column], ['id'])
    create_append_only_guard(op, 'item_events')


def downgrade():
    drop_append_only_guard(op, 'item_events')
    for table, definition in TABLES.items():
        with op.batch_alter_table(table, copy_from=definition(with_new_keys=True)) as batch_op:
            for on, _column, _referred, name in REFERENCES:
                if on == table:
                    batch_op.drop_constraint(batch_op.f(name), type_='foreignkey')
    create_append_only_guard(op, 'item_events')
