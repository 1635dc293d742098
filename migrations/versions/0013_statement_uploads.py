"""statement uploads: a statement file kept between choosing it and choosing its columns

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:00:00

The upload page reads the file's own header row (or its first line, for a file without
one) and lets finance pick each column; the file waits here, for its uploader only, until
it is imported or expires.
"""
import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('expires_at > uploaded_at', name=op.f('ck_statement_uploads_expires_after_upload')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_statement_uploads_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_uploads')),
    sa.UniqueConstraint('token', name=op.f('uq_statement_uploads_token'))
    )
    with op.batch_alter_table('statement_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_uploads_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('statement_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_uploads_expires_at'))
    op.drop_table('statement_uploads')
