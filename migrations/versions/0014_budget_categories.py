"""budget categories: a managed list that item types, order lines, entries and purchases name

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00

Until now a budget category was free text, so "PIR light" and "PIR lights" were two lines
of spend. This revision makes the list (budget_categories) and seeds it with one category
per item-type kind label in use ("Personal alarm", "Camera doorbell", "PIR light", "Window
alarm", "Lock", "CCTV camera", and each "other" name the catalogue uses) plus "Bank charges".

- Each item type is charged to the category named as its kind; each purchase order line
  to its item type's. Both columns are NOT NULL afterwards.
- Ledger entries and direct purchases keep their text (an entry's text is part of its hash)
  and gain category_id: every distinct text is mapped to the category whose name it matches
  by `category_key` (case-folded, spaces collapsed, a trailing "s" ignored: "PIR lights" ->
  "PIR light"). Both tables are append-only, so their triggers are lifted for the update and
  made again. A text that matches no category is left unmapped (category_id NULL: reported
  as Uncategorised) and named in a warning with how many rows carry it; finance can add the
  category later, but such old rows stay as they are.

On SQLite the tables are rebuilt (batch mode) from reflection, which keeps their named
CHECK constraints; rebuilding drops the append-only triggers with the old table, so they are
made again afterwards whatever the engine.
"""
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.budget.models import category_key
from inventory.database import create_append_only_guard, drop_append_only_guard

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')

# The item-type kinds' labels as the catalogue names them (catalogue.models.CATEGORY_LABELS).
KIND_LABELS = {
    'personal_alarm': 'Personal alarm',
    'camera_doorbell': 'Camera doorbell',
    'pir_light': 'PIR light',
    'window_alarm': 'Window alarm',
    'lock': 'Lock',
    'cctv_camera': 'CCTV camera',
}
BANK_CHARGES = 'Bank charges'
APPEND_ONLY = ('ledger_entries', 'direct_purchases')
# (table, column, nullable at the end, indexed)
COLUMNS = (
    ('ledger_entries', 'category_id', True, True),
    ('direct_purchases', 'category_id', True, False),
    ('item_types', 'budget_category_id', False, True),
    ('purchase_order_lines', 'budget_category_id', False, True),
)


def upgrade():
    categories = op.create_table(
        'budget_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_categories')),
        sa.UniqueConstraint('key', name=op.f('uq_budget_categories_key')),
        sa.UniqueConstraint('name', name=op.f('uq_budget_categories_name')),
    )
    ids = _seed(categories)
    for table in APPEND_ONLY:
        drop_append_only_guard(op, table)
    for table, column, _nullable, indexed in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_{column}_budget_categories'), 'budget_categories',
                                        [column], ['id'])
            if indexed:
                batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
    _charge_item_types_and_order_lines(ids)
    for table, column, nullable, _indexed in COLUMNS:
        if not nullable:
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column(column, existing_type=sa.Integer(), nullable=False)
    _map_free_text(ids)
    for table in APPEND_ONLY:
        create_append_only_guard(op, table)


def downgrade():
    """The columns and the list go; every entry and purchase keeps its category text."""
    for table in APPEND_ONLY:
        drop_append_only_guard(op, table)
    for table, column, _nullable, indexed in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            if indexed:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_{column}_budget_categories'), type_='foreignkey')
            batch_op.drop_column(column)
    for table in APPEND_ONLY:
        create_append_only_guard(op, table)
    op.drop_table('budget_categories')


def _seed(categories: sa.Table) -> dict[str, int]:
    """One category per kind label, each "other" name the catalogue uses, and bank charges;
    returns {category_key(name): id}."""
    bind = op.get_bind()
    others = bind.execute(sa.text(
        "SELECT DISTINCT other_category FROM item_types WHERE category = 'other' AND other_category IS NOT NULL "
        "ORDER BY other_category")).scalars().all()
    names = {}
    for name in (*KIND_LABELS.values(), *others, BANK_CHARGES):
        name = ' '.join(name.split())
        names.setdefault(category_key(name), name)
    now = datetime.now(UTC)
    op.bulk_insert(categories, [{'name': name, 'key': key, 'active': True, 'created_at': now}
                                for key, name in names.items()])
    return dict(bind.execute(sa.text('SELECT key, id FROM budget_categories')).all())


def _charge_item_types_and_order_lines(ids: dict[str, int]) -> None:
    bind = op.get_bind()
    for type_id, kind, other in bind.execute(sa.text('SELECT id, category, other_category FROM item_types')).all():
        label = other if kind == 'other' else KIND_LABELS[kind]
        bind.execute(sa.text('UPDATE item_types SET budget_category_id = :category WHERE id = :id'),
                     {'category': ids[category_key(label)], 'id': type_id})
    bind.execute(sa.text(
        'UPDATE purchase_order_lines SET budget_category_id = '
        '(SELECT budget_category_id FROM item_types WHERE item_types.id = purchase_order_lines.item_type_id)'))


def _map_free_text(ids: dict[str, int]) -> None:
    """Give each entry and purchase the category its text names; warn about each text that
    names none, with how many rows carry it."""
    bind = op.get_bind()
    unmapped: dict[str, dict[str, int]] = {}
    for table in APPEND_ONLY:
        counts = bind.execute(sa.text(
            f'SELECT category, count(*) FROM {table} WHERE category IS NOT NULL GROUP BY category ORDER BY category'
        )).all()
        for text, count in counts:
            category_id = ids.get(category_key(text))
            if category_id is None:
                unmapped.setdefault(text, {})[table] = count
                continue
            bind.execute(sa.text(f'UPDATE {table} SET category_id = :category WHERE category = :text'),
                         {'category': category_id, 'text': text})
    for text, tables in unmapped.items():
        log.warning('Budget category %r matches no category on the list: %d ledger entries and %d direct purchases '
                    'keep it as text only and are reported as Uncategorised.',
                    text, tables.get('ledger_entries', 0), tables.get('direct_purchases', 0))
