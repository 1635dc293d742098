"""item events by case: a case's first handover is found without reading every event

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 09:00:00

A 3- or 6-month review may not be dated before the first item was issued to the case; the
case's issue events are found through this index (item_events is append-only and grows with
every scan, so a scan of it per review would slow down with the years).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_item_events_case_kind', 'item_events', ['case_id', 'kind'], unique=False)


def downgrade():
    op.drop_index('ix_item_events_case_kind', table_name='item_events')
