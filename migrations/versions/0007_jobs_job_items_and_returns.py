"""jobs, job items and returns; requests may be partly fulfilled

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:25:10.122469

"""
import sqlalchemy as sa
from alembic import op

import inventory.database


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The requests table's state checks, before and after the new state `partly_fulfilled`.
REQUEST_CHECKS = {
    "ck_requests_state_known": (
        "state IN ('submitted', 'info_requested', 'approved', 'partly_approved', 'rejected', 'withdrawn', "
        "'scheduled', 'fulfilled', 'closed')",
        "state IN ('submitted', 'info_requested', 'approved', 'partly_approved', 'rejected', 'withdrawn', "
        "'scheduled', 'fulfilled', 'partly_fulfilled', 'closed')",
    ),
    "ck_requests_decision_recorded_when_decided": (
        "(state IN ('info_requested', 'submitted') AND decided_at IS NULL AND decided_by_id IS NULL) OR "
        "(state IN ('approved', 'closed', 'fulfilled', 'partly_approved', 'rejected', 'scheduled') "
        "AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL) OR state = 'withdrawn'",
        "(state IN ('info_requested', 'submitted') AND decided_at IS NULL AND decided_by_id IS NULL) OR "
        "(state IN ('approved', 'closed', 'fulfilled', 'partly_approved', 'partly_fulfilled', 'rejected', "
        "'scheduled') AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL) OR state = 'withdrawn'",
    ),
}


def _change_request_checks(before: int, after: int) -> None:
    """Swap the requests table's state checks (index 0 = old text, 1 = new text)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, texts in REQUEST_CHECKS.items():
            op.drop_constraint(op.f(name), "requests", type_="check")
            op.create_check_constraint(op.f(name), "requests", texts[after])
        return
    # SQLite cannot alter a CHECK in place. Rebuilding the table (batch mode) would drop the
    # old one, and with foreign keys on that cascades to its request lines; so this follows
    # SQLite's documented procedure for changing a CHECK constraint instead
    # (sqlite.org/lang_altertable.html, "making other kinds of table schema changes"):
    # rewrite the stored CREATE TABLE text and bump the schema version.
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'requests'").scalar()
    for name, texts in REQUEST_CHECKS.items():
        old, new = f"CONSTRAINT {name} CHECK ({texts[before]})", f"CONSTRAINT {name} CHECK ({texts[after]})"
        if old not in sql:
            raise RuntimeError(f"requests.{name} is not what this migration expects")
        sql = sql.replace(old, new)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'requests'", (sql,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    _change_request_checks(0, 1)
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('fitter_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.Date(), nullable=False),
    sa.Column('window_starts', sa.Time(), nullable=False),
    sa.Column('window_ends', sa.Time(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL AND completed_by_id IS NOT NULL)", name=op.f('ck_jobs_completed_iff_recorded')),
    sa.CheckConstraint("status IN ('scheduled', 'completed')", name=op.f('ck_jobs_status_known')),
    sa.CheckConstraint('window_starts < window_ends', name=op.f('ck_jobs_window_in_order')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_jobs_completed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users')),
    sa.ForeignKeyConstraint(['fitter_id'], ['users.id'], name=op.f('fk_jobs_fitter_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_jobs_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_fitter_day', ['fitter_id', 'scheduled_for', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_jobs_one_open_per_request', ['request_id'], unique=True, sqlite_where=sa.text("status = 'scheduled'"), postgresql_where=sa.text("status = 'scheduled'"))

    op.create_table('item_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('condition', sa.String(length=12), nullable=False),
    sa.Column('value_reused_pence', sa.Integer(), nullable=False),
    sa.Column('returned_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("condition IN ('good', 'needs_wipe', 'faulty', 'damaged', 'lost')", name=op.f('ck_item_returns_condition_known')),
    sa.CheckConstraint("value_reused_pence = 0 OR condition = 'good'", name=op.f('ck_item_returns_only_good_items_reused')),
    sa.CheckConstraint('value_reused_pence >= 0', name=op.f('ck_item_returns_value_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_item_returns_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_item_returns_case_id_cases')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_returns_item_id_items')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_item_returns_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_returns'))
    )
    with op.batch_alter_table('item_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_returns_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_returns_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_returns_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_returns_returned_at'), ['returned_at'], unique=False)

    op.create_table('job_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=True),
    sa.Column('loaned', sa.Boolean(), nullable=False),
    sa.Column('return_due_on', sa.Date(), nullable=True),
    sa.Column('first_review_on', sa.Date(), nullable=True),
    sa.Column('second_review_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('account_in_own_name', sa.Boolean(), nullable=False),
    sa.Column('default_passwords_changed', sa.Boolean(), nullable=False),
    sa.Column('shared_users_removed', sa.Boolean(), nullable=False),
    sa.Column('two_factor_enabled', sa.Boolean(), nullable=False),
    sa.Column('survivor_shown_how', sa.Boolean(), nullable=False),
    sa.Column('checklist_done_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(outcome = 'issued') = (first_review_on IS NOT NULL AND second_review_on IS NOT NULL)", name=op.f('ck_job_items_issued_has_reviews')),
    sa.CheckConstraint("(outcome = 'not_issued') = (reason IS NOT NULL)", name=op.f('ck_job_items_not_issued_has_reason')),
    sa.CheckConstraint("outcome IN ('issued', 'not_issued')", name=op.f('ck_job_items_outcome_known')),
    sa.CheckConstraint("reason IS NULL OR reason IN ('not_home', 'declined', 'faulty', 'wrong_item')", name=op.f('ck_job_items_reason_known')),
    sa.CheckConstraint("return_due_on IS NULL OR (outcome = 'issued' AND loaned)", name=op.f('ck_job_items_only_loans_come_back')),
    sa.CheckConstraint('checklist_done_at IS NULL OR (account_in_own_name AND default_passwords_changed AND shared_users_removed AND two_factor_enabled AND survivor_shown_how)', name=op.f('ck_job_items_checklist_done_means_all_ticked')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_job_items_item_id_items')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_items_job_id_jobs')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_job_items_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_items')),
    sa.UniqueConstraint('job_id', 'item_id', name=op.f('uq_job_items_job_id_item_id'))
    )
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_items_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_items_job_id'), ['job_id'], unique=False)



def downgrade():
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_items_job_id'))
        batch_op.drop_index(batch_op.f('ix_job_items_item_id'))

    op.drop_table('job_items')
    with op.batch_alter_table('item_returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_returns_returned_at'))
        batch_op.drop_index(batch_op.f('ix_item_returns_job_id'))
        batch_op.drop_index(batch_op.f('ix_item_returns_item_id'))
        batch_op.drop_index(batch_op.f('ix_item_returns_case_id'))

    op.drop_table('item_returns')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_jobs_one_open_per_request', sqlite_where=sa.text("status = 'scheduled'"), postgresql_where=sa.text("status = 'scheduled'"))
        batch_op.drop_index(batch_op.f('ix_jobs_request_id'))
        batch_op.drop_index('ix_jobs_fitter_day')

    op.drop_table('jobs')
    _change_request_checks(1, 0)
