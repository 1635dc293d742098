"""sign-in throttle: counters of recent failures, and the devices each user signed in from

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-01 14:00:00

Failed sign-ins slow further attempts progressively (per sign-in name, per client address,
per known device) instead of locking an account. One counter row per (scope, key), raised
by a single upsert. A browser that has signed in as a user gets a device cookie; its
SHA-256 is kept here, so that its owner is not slowed by someone else's failures.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_counters',
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scope IN ('account', 'address', 'device')", name=op.f('ck_sign_in_counters_scope_known')),
    sa.CheckConstraint('failures > 0', name=op.f('ck_sign_in_counters_failures_positive')),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_sign_in_counters'))
    )
    with op.batch_alter_table('sign_in_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_counters_last_failed_at'), ['last_failed_at'], unique=False)

    op.create_table('known_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('first_seen_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_known_devices_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_devices')),
    sa.UniqueConstraint('user_id', 'token_hash', name=op.f('uq_known_devices_user_id_token_hash'))
    )
    with op.batch_alter_table('known_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_devices_last_seen_at'), ['last_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('known_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_devices_last_seen_at'))
    op.drop_table('known_devices')
    with op.batch_alter_table('sign_in_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_counters_last_failed_at'))
    op.drop_table('sign_in_counters')
