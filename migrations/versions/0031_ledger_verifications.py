"""ledger verifications: where the last good check of the ledger's chain ended

Revision ID: 0031
Revises: 0030
Create Date: 2027-03-02 12:00:00

`ledger_verifications` records each passing `verify-ledger` (and nightly check): when, up to
which chain position and with which hash there, how many entries it walked, and whether it
walked the whole chain. The next check starts after the last one instead of at entry 1.
Append-only, like the ledger: a record of a check is never rewritten.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard

# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('up_to_position', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('entries_checked', sa.Integer(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.CheckConstraint('up_to_position >= 0', name=op.f('ck_ledger_verifications_position_not_negative')),
    sa.CheckConstraint('entries_checked >= 0', name=op.f('ck_ledger_verifications_entries_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_verifications')),
    )
    create_append_only_guard(op, 'ledger_verifications')


def downgrade():
    drop_append_only_guard(op, 'ledger_verifications')
    op.drop_table('ledger_verifications')
