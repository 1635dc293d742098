"""scheduled work: run history, job leases and scheduler heartbeats

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 01:55:23

job_runs records each run of a scheduled job (a partial unique index lets a trigger's time
be done once); job_leases holds who is running a job, until when; scheduler_heartbeats says
which schedulers are alive, for /healthz.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

DONE = sa.text("outcome = 'ok'")


def upgrade():
    op.create_table(
        'job_leases',
        sa.Column('job_name', sa.String(length=80), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=False),
        sa.Column('acquired_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('expires_at > acquired_at', name=op.f('ck_job_leases_expires_after_acquired')),
        sa.PrimaryKeyConstraint('job_name', name=op.f('pk_job_leases')),
    )
    op.create_table(
        'scheduler_heartbeats',
        sa.Column('holder', sa.String(length=200), nullable=False),
        sa.Column('started_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('beat_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('holder', name=op.f('pk_scheduler_heartbeats')),
    )
    op.create_index(op.f('ix_scheduler_heartbeats_beat_at'), 'scheduler_heartbeats', ['beat_at'], unique=False)
    op.create_table(
        'job_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_name', sa.String(length=80), nullable=False),
        sa.Column('scheduled_for', inventory.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('started_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=8), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("(outcome = 'ok') = (detail IS NULL)", name=op.f('ck_job_runs_detail_unless_ok')),
        sa.CheckConstraint("outcome IN ('ok', 'failed', 'skipped')", name=op.f('ck_job_runs_outcome_known')),
        sa.CheckConstraint('finished_at >= started_at', name=op.f('ck_job_runs_finished_after_start')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_job_runs_requested_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    )
    op.create_index('ix_job_runs_job_name_started_at', 'job_runs', ['job_name', 'started_at'], unique=False)
    op.create_index(op.f('ix_job_runs_started_at'), 'job_runs', ['started_at'], unique=False)
    op.create_index('uq_job_runs_done_once_per_trigger', 'job_runs', ['job_name', 'scheduled_for'], unique=True,
                    sqlite_where=DONE, postgresql_where=DONE)


def downgrade():
    op.drop_index('uq_job_runs_done_once_per_trigger', table_name='job_runs')
    op.drop_index(op.f('ix_job_runs_started_at'), table_name='job_runs')
    op.drop_index('ix_job_runs_job_name_started_at', table_name='job_runs')
    op.drop_table('job_runs')
    op.drop_index(op.f('ix_scheduler_heartbeats_beat_at'), table_name='scheduler_heartbeats')
    op.drop_table('scheduler_heartbeats')
    op.drop_table('job_leases')
