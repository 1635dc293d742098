"""outcomes: reviews at 3 and 6 months and on closing, where a referral came from, why a
request was declined

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 12:00:00

The funder's quarterly return counts outcomes (feeling safer, still in the home, incidents
since fitting, why support ended), referrals by source and declines by ground. Existing
cases and rejections keep NULL: "not recorded".

The new columns of cases and requests carry their CHECK as a column constraint, which
SQLite accepts in ALTER TABLE ADD COLUMN and drops with the column (SQLite 3.35+), so no
table is rebuilt either way.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    # table, column, SQL type, constraint name, check
    ('cases', 'referral_source', 'VARCHAR(10)', 'ck_cases_referral_source_known',
     "referral_source IS NULL OR referral_source IN ('police', 'self', 'agency', 'other')"),
    ('cases', 'referral_agency', 'VARCHAR(120)', 'ck_cases_referral_agency_only_for_agency',
     "referral_agency IS NULL OR referral_source = 'agency'"),
    ('requests', 'declined_as', 'VARCHAR(12)', 'ck_requests_declined_as_only_when_rejected',
     "declined_as IS NULL OR (declined_as IN ('unsuitable', 'ineligible', 'other') AND state = 'rejected')"),
)


def upgrade():
    for table, column, sql_type, name, check in NEW_COLUMNS:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} {sql_type} CONSTRAINT {name} CHECK ({check})')
        else:
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} {sql_type}')
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check})')

    op.create_table('case_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('feels_safer', sa.SmallInteger(), nullable=True),
    sa.Column('still_at_address', sa.Boolean(), nullable=True),
    sa.Column('incidents_since_fitting', sa.Integer(), nullable=True),
    sa.Column('support_ended', sa.String(length=20), nullable=True),
    sa.CheckConstraint("kind IN ('three_months', 'six_months', 'closing')", name=op.f('ck_case_reviews_kind_known')),
    sa.CheckConstraint('feels_safer IS NULL OR feels_safer BETWEEN 1 AND 5',
                       name=op.f('ck_case_reviews_feels_safer_on_scale')),
    sa.CheckConstraint('incidents_since_fitting IS NULL OR incidents_since_fitting >= 0',
                       name=op.f('ck_case_reviews_incidents_not_negative')),
    sa.CheckConstraint("support_ended IS NULL OR support_ended IN ('no_longer_needed', 'moved', 'declined', "
                       "'lost_contact', 'other')", name=op.f('ck_case_reviews_support_ended_known')),
    sa.CheckConstraint("(kind = 'closing') = (support_ended IS NOT NULL)",
                       name=op.f('ck_case_reviews_support_ended_iff_closing')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reviews_case_id_cases')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_reviews_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_reviews')),
    sa.UniqueConstraint('case_id', 'kind', name=op.f('uq_case_reviews_case_id_kind'))
    )
    with op.batch_alter_table('case_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_reviews_reviewed_on'), ['reviewed_on'], unique=False)

    op.create_table('reviewed_items',
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_reviewed_items_item_id_items')),
    sa.ForeignKeyConstraint(['review_id'], ['case_reviews.id'], name=op.f('fk_reviewed_items_review_id_case_reviews'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_id', 'item_id', name=op.f('pk_reviewed_items'))
    )
    with op.batch_alter_table('reviewed_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviewed_items_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reviewed_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviewed_items_item_id'))
    op.drop_table('reviewed_items')
    with op.batch_alter_table('case_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reviews_reviewed_on'))
        batch_op.drop_index(batch_op.f('ix_case_reviews_case_id'))
    op.drop_table('case_reviews')
    for table, column, _, _, _ in reversed(NEW_COLUMNS):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # drops its CHECK with it
