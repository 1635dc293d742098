"""insider misuse: four-eyes admin approvals; the access log hash-chained, with the case's
reference, the fitter's job, and an index on user and time for the reveal rate

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-10 10:00:00

Existing access log rows are chained in id order (the order they were written), each
given its case's reference where the case still exists; the append-only triggers are lifted
for that and put back. The hash is computed here as `AccessLogEntry.compute_hash` computes
it (the same fields, in the same order), frozen so that this migration always writes what it
wrote the day it was made.
"""
import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import inventory.database
from inventory.database import create_append_only_guard, drop_append_only_guard

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

GENESIS_HASH = '0' * 64
PENDING = sa.text('outcome IS NULL')

access_log = sa.table(
    'access_log',
    sa.column('id', sa.Integer()), sa.column('occurred_at', inventory.database.UTCDateTime(timezone=True)),
    sa.column('user_id', sa.Integer()), sa.column('case_id', sa.Integer()),
    sa.column('case_reference', sa.String()), sa.column('job_id', sa.Integer()), sa.column('what', sa.String()),
    sa.column('reason', sa.String()), sa.column('remote_addr', sa.String()), sa.column('position', sa.Integer()),
    sa.column('previous_hash', sa.String()), sa.column('hash', sa.String()),
)


def _hash(row, position: int, previous_hash: str) -> str:
    content = [previous_hash, position, row.occurred_at.astimezone(UTC).isoformat(timespec='microseconds'),
               row.user_id, row.case_id, row.case_reference, row.job_id, row.what, row.reason, row.remote_addr]
    return hashlib.sha256(json.dumps(content, separators=(',', ':'), ensure_ascii=False).encode()).hexdigest()


def _chain_existing_rows() -> None:
    connection = op.get_bind()
    connection.execute(sa.text(
        'UPDATE access_log SET case_reference = (SELECT cases.reference FROM cases WHERE cases.id = access_log.case_id)'))
    rows = connection.execute(sa.select(access_log).order_by(access_log.c.id)).all()
    previous_hash = GENESIS_HASH
    for position, row in enumerate(rows, start=1):
        digest = _hash(row, position, previous_hash)
        connection.execute(access_log.update().where(access_log.c.id == row.id)
                           .values(position=position, previous_hash=previous_hash, hash=digest))
        previous_hash = digest


def upgrade():
    op.create_table('admin_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject_user_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.String(length=500), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'refused', 'withdrawn', 'expired')",
                       name=op.f('ck_admin_approvals_outcome_known')),
    sa.CheckConstraint('(outcome IS NULL) = (decided_at IS NULL)', name=op.f('ck_admin_approvals_decided_when_outcome')),
    sa.CheckConstraint("outcome NOT IN ('approved', 'refused') OR decided_by_id IS NULL "
                       "OR (decided_by_id <> requested_by_id AND decided_by_id <> subject_user_id)",
                       name=op.f('ck_admin_approvals_four_eyes')),
    sa.CheckConstraint("requested_by_id IS NOT NULL OR (outcome = 'approved' AND decided_by_id IS NULL)",
                       name=op.f('ck_admin_approvals_only_the_operator_asks_unnamed')),
    sa.CheckConstraint("outcome NOT IN ('approved', 'refused') OR length(reason) > 0",
                       name=op.f('ck_admin_approvals_decision_has_reason')),
    sa.ForeignKeyConstraint(['subject_user_id'], ['users.id'], name=op.f('fk_admin_approvals_subject_user_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_admin_approvals_requested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_admin_approvals_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_approvals'))
    )
    with op.batch_alter_table('admin_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_approvals_subject_user_id'), ['subject_user_id'], unique=False)
        batch_op.create_index('uq_admin_approvals_one_pending', ['kind', 'subject_user_id', 'payload'], unique=True,
                              sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.create_index('ix_admin_approvals_pending', ['requested_at'], unique=False,
                              sqlite_where=PENDING, postgresql_where=PENDING)

    drop_append_only_guard(op, 'access_log')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_reference', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('previous_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.alter_column('position', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('previous_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_access_log_position'), ['position'])
        batch_op.create_unique_constraint(batch_op.f('uq_access_log_hash'), ['hash'])
        batch_op.create_index(batch_op.f('ix_access_log_case_reference'), ['case_reference'], unique=False)
        batch_op.drop_index(batch_op.f('ix_access_log_user_id'))
        batch_op.create_index('ix_access_log_user_time', ['user_id', 'occurred_at'], unique=False)
    create_append_only_guard(op, 'access_log')


def downgrade():
    drop_append_only_guard(op, 'access_log')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_user_time')
        batch_op.create_index(batch_op.f('ix_access_log_user_id'), ['user_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_access_log_case_reference'))
        batch_op.drop_constraint(batch_op.f('uq_access_log_hash'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_access_log_position'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('previous_hash')
        batch_op.drop_column('position')
        batch_op.drop_column('job_id')
        batch_op.drop_column('case_reference')
    create_append_only_guard(op, 'access_log')

    with op.batch_alter_table('admin_approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_approvals_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index('uq_admin_approvals_one_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index(batch_op.f('ix_admin_approvals_subject_user_id'))
    op.drop_table('admin_approvals')
