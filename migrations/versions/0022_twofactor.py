"""two-factor sign-in: a sealed TOTP secret per user, the last time step accepted, and
one-time recovery codes

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-10 10:00:00

Existing users have two-factor off (NULLs). The CHECK that an enabled second factor has a
secret is a column constraint of two_factor_enabled_at, which SQLite accepts in ALTER TABLE
ADD COLUMN and drops with the column, so the users table is not rebuilt either way.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

HAS_SECRET = ('ck_users_two_factor_has_secret', 'two_factor_enabled_at IS NULL OR totp_secret IS NOT NULL')


def upgrade():
    # The TOTP secret is sealed to its row (inventory.sealing): users get a seal_key when they
    # are created, or when a secret is first sealed for them.
    op.add_column('users', sa.Column('seal_key', sa.String(length=22), nullable=True))
    op.create_index(op.f('ix_users_seal_key'), 'users', ['seal_key'], unique=True)
    op.add_column('users', sa.Column('totp_secret', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    name, check = HAS_SECRET
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE users ADD COLUMN two_factor_enabled_at DATETIME CONSTRAINT {name} CHECK ({check})')
    else:
        op.add_column('users', sa.Column('two_factor_enabled_at', inventory.database.UTCDateTime(timezone=True),
                                         nullable=True))
        op.create_check_constraint(op.f(name), 'users', check)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', inventory.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('user_id', 'code_hash', name=op.f('uq_recovery_codes_user_id_code_hash'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f(HAS_SECRET[0]), 'users', type_='check')
    for column in ('two_factor_enabled_at', 'totp_last_step', 'totp_secret'):
        op.execute(f'ALTER TABLE users DROP COLUMN {column}')  # on SQLite, the CHECK goes with its column
    op.drop_index(op.f('ix_users_seal_key'), table_name='users')
    op.execute('ALTER TABLE users DROP COLUMN seal_key')
