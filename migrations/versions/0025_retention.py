"""retention: when a case's personal data was anonymised and why; its history's free text
may then be erased

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-10 12:00:00

Cases gain `anonymised_at` and `anonymised_reason` (both empty until the retention job or
"anonymise now" erases the case's personal data). Request events, priority adjustments and
item events stay append-only, with one exception: once their case is anonymised, the free
text in them (a note, a reason) may be overwritten, and nothing else. The reason's CHECK is
a column constraint, which SQLite accepts in ALTER TABLE ADD COLUMN and drops with the
column, so no table is rebuilt either way.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

REASON_CHECK = ("(anonymised_reason IS NULL AND anonymised_at IS NULL) OR (anonymised_reason IN "
                "('referral_not_taken_up', 'retention_ended', 'survivor_asked', 'safety', 'recorded_in_error') "
                "AND anonymised_at IS NOT NULL)")
OF_REQUEST = ("EXISTS (SELECT 1 FROM requests JOIN cases ON cases.id = requests.case_id "
              "WHERE requests.id = OLD.request_id AND cases.anonymised_at IS NOT NULL)")
# An item event names its case, or the request it was reserved for (whose case it is).
OF_CASE_OR_REQUEST = ("EXISTS (SELECT 1 FROM cases WHERE cases.anonymised_at IS NOT NULL AND (cases.id = OLD.case_id "
                      "OR cases.id = (SELECT requests.case_id FROM requests WHERE requests.id = OLD.request_id)))")
# table, its free-text column, SQL true when the row's case is anonymised
REDACTABLE = (
    ('request_events', 'note', OF_REQUEST),
    ('priority_adjustments', 'reason', OF_REQUEST),
    ('item_events', 'note', OF_CASE_OR_REQUEST),
)


def upgrade():
    op.add_column('cases', sa.Column('anonymised_at', inventory.database.UTCDateTime(timezone=True), nullable=True))
    name = 'ck_cases_anonymised_reason_known'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE cases ADD COLUMN anonymised_reason VARCHAR(24) CONSTRAINT {name} CHECK ({REASON_CHECK})')
    else:
        op.execute('ALTER TABLE cases ADD COLUMN anonymised_reason VARCHAR(24)')
        op.execute(f'ALTER TABLE cases ADD CONSTRAINT {name} CHECK ({REASON_CHECK})')
    for table, column, anonymised_case in REDACTABLE:
        drop_append_only_guard(op, table)
        create_append_only_guard(op, table, redactable=(column, anonymised_case))


def downgrade():
    for table, _, _ in REDACTABLE:
        drop_append_only_guard(op, table)
        create_append_only_guard(op, table)
    op.execute('ALTER TABLE cases DROP COLUMN anonymised_reason')  # drops its CHECK with it
    op.drop_column('cases', 'anonymised_at')
