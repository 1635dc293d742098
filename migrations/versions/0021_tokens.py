"""api tokens expire, and a revoked token says why

Revision ID: 0021
Revises: 0020
Create Date: 2027-01-10 09:00:00

Every token gets an expiry: those made before this change expire 90 days after they were
made (some at once, which is the point). A revoked token keeps why it was revoked; tokens
revoked before this change were revoked by their owner (the only way there was).
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

REASONS = "('owner', 'admin', 'password_reset', 'password_changed', 'deactivated', 'roles_changed')"
CHECKS = (
    ('revoked_reason_known', f'revoked_reason IS NULL OR revoked_reason IN {REASONS}'),
    ('revoked_with_reason', '(revoked_at IS NULL) = (revoked_reason IS NULL)'),
    ('expires_after_creation', 'expires_at > created_at'),
)


def upgrade():
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('expires_at', inventory.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=20), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff'; datetime() drops the fraction, so put it back.
        op.execute("UPDATE api_tokens SET expires_at = datetime(created_at, '+90 days') || substr(created_at, 20)")
    else:
        op.execute("UPDATE api_tokens SET expires_at = created_at + interval '90 days'")
    op.execute("UPDATE api_tokens SET revoked_reason = 'owner' WHERE revoked_at IS NOT NULL")
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.alter_column('expires_at', existing_type=inventory.database.UTCDateTime(timezone=True),
                              nullable=False)
        for name, check in CHECKS:
            batch_op.create_check_constraint(batch_op.f(f'ck_api_tokens_{name}'), check)


def downgrade():
    with op.batch_alter_table('api_tokens') as batch_op:
        for name, _check in reversed(CHECKS):
            batch_op.drop_constraint(batch_op.f(f'ck_api_tokens_{name}'), type_='check')
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('expires_at')
