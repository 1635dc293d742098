"""case search by an index, and My jobs read in index order

Revision ID: 0030
Revises: 0029
Create Date: 2027-03-01 12:00:00

`case_reference_suffixes` holds every tail (3 characters or more) of each case reference's
key (upper case, no hyphens or spaces), so a search for any part of a reference is a range
on its primary key instead of a LIKE '%part%' over every case. The suffix compares byte by
byte (collation "C" on PostgreSQL; SQLite's default), so the range is a prefix search under
any database collation. Existing cases are indexed here, in batches.

Two partial indexes on jobs serve My jobs: open jobs by fitter in the order Today and
Upcoming list them, completed jobs by fitter in the order Done lists them.
"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

BATCH = 5_000
SUFFIX_MIN_LENGTH = 3  # as inventory.cases.models (copied: a migration never imports the app)


def _suffixes(reference):
    key = re.sub(r"[-\s]+", "", reference).upper()
    return [key[start:] for start in range(len(key) - SUFFIX_MIN_LENGTH + 1)]


def upgrade():
    op.create_table('case_reference_suffixes',
    sa.Column('suffix', sa.String(length=20).with_variant(sa.String(length=20, collation='C'), 'postgresql'),
              nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reference_suffixes_case_id_cases')),
    sa.PrimaryKeyConstraint('suffix', 'case_id', name=op.f('pk_case_reference_suffixes')),
    )
    op.create_index(op.f('ix_case_reference_suffixes_case_id'), 'case_reference_suffixes', ['case_id'])
    _index_existing_references()
    for name, columns, status in (('ix_jobs_fitter_open', ['fitter_id', 'scheduled_for', 'window_starts', 'id'],
                                   'scheduled'),
                                  ('ix_jobs_fitter_done', ['fitter_id', 'completed_at', 'id'], 'completed')):
        where = sa.text(f"status = '{status}'")
        op.create_index(name, 'jobs', columns, sqlite_where=where, postgresql_where=where)


def _index_existing_references():
    connection = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('reference', sa.String))
    suffixes = sa.table('case_reference_suffixes', sa.column('suffix', sa.String), sa.column('case_id', sa.Integer))
    last = 0
    while True:
        rows = connection.execute(sa.select(cases.c.id, cases.c.reference).where(cases.c.id > last)
                                  .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [{'suffix': suffix, 'case_id': case_id} for case_id, reference in rows for suffix in _suffixes(reference)]
        if values:
            connection.execute(sa.insert(suffixes), values)
        last = rows[-1].id


def downgrade():
    op.drop_index('ix_jobs_fitter_done', table_name='jobs')
    op.drop_index('ix_jobs_fitter_open', table_name='jobs')
    op.drop_index(op.f('ix_case_reference_suffixes_case_id'), table_name='case_reference_suffixes')
    op.drop_table('case_reference_suffixes')
