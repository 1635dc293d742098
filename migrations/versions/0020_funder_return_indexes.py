"""indexes the funder's return reads by: handovers in a period, an item's and a request's
earlier handovers, decisions and referrals in a period, spend in a period

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 04:10:00

A year's return over a national ledger (1,000,000 entries, 100,000 cases) reads each
period's rows through these rather than whole tables. Handovers are item events of kind
`issued`, indexed apart (partial indexes, on both engines).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

ISSUED = sa.text("kind = 'issued'")
# name, table, columns, partial condition
INDEXES = (
    ('ix_item_events_issued', 'item_events', ['occurred_at', 'item_id', 'case_id', 'request_id'], ISSUED),
    ('ix_item_events_issued_item', 'item_events', ['item_id', 'occurred_at'], ISSUED),
    ('ix_item_events_issued_request', 'item_events', ['request_id', 'occurred_at'], ISSUED),
    ('ix_requests_decided_at', 'requests', ['decided_at'], None),
    ('ix_cases_created_at', 'cases', ['created_at'], None),
    ('ix_ledger_entries_date_kind', 'ledger_entries', ['entry_date', 'kind'], None),
)


def upgrade():
    for name, table, columns, where in INDEXES:
        op.create_index(name, table, columns, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade():
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
