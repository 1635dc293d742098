"""collection visits: jobs gain a kind and a case; collection items; loans due back

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 07:45:00

A job used to be always an install made from a request. Now it is an install (with a
request) or a collection (a case alone, with the items to take back). Every job names its
case; existing jobs take their request's.

On SQLite the jobs table is rebuilt (batch mode) from the definitions below rather than
from reflection, so that its CHECK constraints and partial indexes come through exactly;
migrations/env.py turns foreign keys off for the rebuild and checks them before commit.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OPEN = "status = 'scheduled'"
OPEN_COLLECTION = "status = 'scheduled' AND kind = 'collection'"


def _jobs_table(*, with_kind: bool) -> sa.Table:
    """The jobs table as 0007 made it (with_kind=False) or as this revision leaves it."""
    extra_columns, extra_constraints, extra_indexes = [], [], []
    if with_kind:
        extra_columns = [sa.Column('kind', sa.String(length=12), nullable=False),
                         sa.Column('case_id', sa.Integer(), nullable=False)]
        extra_constraints = [
            sa.CheckConstraint("kind IN ('install', 'collection')", name='ck_jobs_kind_known'),
            sa.CheckConstraint("(kind = 'install') = (request_id IS NOT NULL)", name='ck_jobs_install_iff_request'),
            sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_jobs_case_id_cases'),
        ]
        extra_indexes = [
            sa.Index('ix_jobs_case_id', 'case_id'),
            sa.Index('uq_jobs_one_open_collection_per_case', 'case_id', unique=True,
                     sqlite_where=sa.text(OPEN_COLLECTION), postgresql_where=sa.text(OPEN_COLLECTION)),
        ]
    return sa.Table(
        'jobs', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=with_kind),
        sa.Column('fitter_id', sa.Integer(), nullable=False),
        sa.Column('scheduled_for', sa.Date(), nullable=False),
        sa.Column('window_starts', sa.Time(), nullable=False),
        sa.Column('window_ends', sa.Time(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('completed_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('completed_by_id', sa.Integer(), nullable=True),
        *extra_columns,
        sa.CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL AND completed_by_id IS NOT NULL)",
                           name='ck_jobs_completed_iff_recorded'),
        sa.CheckConstraint("status IN ('scheduled', 'completed')", name='ck_jobs_status_known'),
        sa.CheckConstraint('window_starts < window_ends', name='ck_jobs_window_in_order'),
        *extra_constraints,
        sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name='fk_jobs_completed_by_id_users'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_jobs_created_by_id_users'),
        sa.ForeignKeyConstraint(['fitter_id'], ['users.id'], name='fk_jobs_fitter_id_users'),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name='fk_jobs_request_id_requests'),
        sa.PrimaryKeyConstraint('id', name='pk_jobs'),
        sa.Index('ix_jobs_fitter_day', 'fitter_id', 'scheduled_for', 'id'),
        sa.Index('ix_jobs_request_id', 'request_id'),
        sa.Index('uq_jobs_one_open_per_request', 'request_id', unique=True,
                 sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)),
        *extra_indexes,
    )


def upgrade():
    with op.batch_alter_table('jobs', copy_from=_jobs_table(with_kind=False)) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), nullable=False, server_default='install'))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
    op.execute("UPDATE jobs SET case_id = (SELECT requests.case_id FROM requests WHERE requests.id = jobs.request_id)")
    before = _jobs_table(with_kind=False)
    before.append_column(sa.Column('kind', sa.String(length=12), nullable=False, server_default='install'))
    before.append_column(sa.Column('case_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('jobs', copy_from=before) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=12), server_default=None)
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_jobs_kind_known'), "kind IN ('install', 'collection')")
        batch_op.create_check_constraint(batch_op.f('ck_jobs_install_iff_request'), "(kind = 'install') = (request_id IS NOT NULL)")
        batch_op.create_foreign_key(batch_op.f('fk_jobs_case_id_cases'), 'cases', ['case_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_jobs_case_id'), ['case_id'], unique=False)
        batch_op.create_index('uq_jobs_one_open_collection_per_case', ['case_id'], unique=True,
                              sqlite_where=sa.text(OPEN_COLLECTION), postgresql_where=sa.text(OPEN_COLLECTION))

    op.create_table('collection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=14), nullable=True),
    sa.Column('reason', sa.String(length=12), nullable=True),
    sa.Column('recorded_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(COALESCE(outcome, '') = 'not_collected') = (reason IS NOT NULL)", name=op.f('ck_collection_items_not_collected_has_reason')),
    sa.CheckConstraint("(outcome IS NULL AND recorded_at IS NULL AND recorded_by_id IS NULL) OR (outcome IS NOT NULL AND recorded_at IS NOT NULL AND recorded_by_id IS NOT NULL)", name=op.f('ck_collection_items_outcome_recorded')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('collected', 'not_collected')", name=op.f('ck_collection_items_outcome_known')),
    sa.CheckConstraint("reason IS NULL OR reason IN ('not_home', 'declined', 'lost')", name=op.f('ck_collection_items_reason_known')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_collection_items_item_id_items')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_collection_items_job_id_jobs')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_collection_items_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_items')),
    sa.UniqueConstraint('job_id', 'item_id', name=op.f('uq_collection_items_job_id_item_id'))
    )
    op.create_index(op.f('ix_collection_items_item_id'), 'collection_items', ['item_id'], unique=False)
    op.create_index(op.f('ix_collection_items_job_id'), 'collection_items', ['job_id'], unique=False)
    op.create_index(op.f('ix_job_items_return_due_on'), 'job_items', ['return_due_on'], unique=False)


def downgrade():
    """Collection visits cannot exist before this revision: they are deleted (their returns
    stay, no longer linked to a visit)."""
    op.drop_index(op.f('ix_job_items_return_due_on'), table_name='job_items')
    op.drop_index(op.f('ix_collection_items_job_id'), table_name='collection_items')
    op.drop_index(op.f('ix_collection_items_item_id'), table_name='collection_items')
    op.drop_table('collection_items')
    op.execute("UPDATE item_returns SET job_id = NULL WHERE job_id IN (SELECT id FROM jobs WHERE kind = 'collection')")
    op.execute("DELETE FROM job_items WHERE job_id IN (SELECT id FROM jobs WHERE kind = 'collection')")
    op.execute("DELETE FROM jobs WHERE kind = 'collection'")
    with op.batch_alter_table('jobs', copy_from=_jobs_table(with_kind=True)) as batch_op:
        batch_op.drop_index('uq_jobs_one_open_collection_per_case', sqlite_where=sa.text(OPEN_COLLECTION),
                            postgresql_where=sa.text(OPEN_COLLECTION))
        batch_op.drop_index(batch_op.f('ix_jobs_case_id'))
        batch_op.drop_constraint(batch_op.f('fk_jobs_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_jobs_install_iff_request'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_jobs_kind_known'), type_='check')
        batch_op.alter_column('request_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('case_id')
        batch_op.drop_column('kind')
