"""notifications: what scheduled jobs found, one per condition per person per day

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:00:00

The notification centre shows a person's open notifications (closed_at empty) with an
unread count in the navigation; partial indexes serve those reads and delivery's look-up
of a job's open notifications.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("link LIKE '/%' AND link NOT LIKE '//%'", name=op.f('ck_notifications_link_is_a_path')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'kind', 'subject', 'day', name=op.f('uq_notifications_user_id_kind_subject_day'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_day'), ['day'], unique=False)
        batch_op.create_index('ix_notifications_open_by_kind', ['kind'], unique=False,
                              sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.create_index('ix_notifications_open_by_user', ['user_id', 'created_at'], unique=False,
                              sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_open_by_user', sqlite_where=sa.text('closed_at IS NULL'),
                            postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index('ix_notifications_open_by_kind', sqlite_where=sa.text('closed_at IS NULL'),
                            postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_notifications_day'))
    op.drop_table('notifications')
