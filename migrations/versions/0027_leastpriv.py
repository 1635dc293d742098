"""case references per organisation: each organisation's own prefix

Revision ID: 0027
Revises: 0020
Create Date: 2027-01-20 12:00:00

A partner agency's case references start with its own prefix (2 to 6 letters), which no
other organisation holds, so a partner creating a case can never meet another
organisation's reference ("already exists" would tell it that the case exists). The lead
provider may go without one and keeps the format from before (any 2 to 4 letters not
held by a partner).

Existing partners are given a prefix here: the letters most of their own cases already
start with, when no other organisation's case starts so; else their name's initials, or
the first letters of their name, or P and two letters, whichever is free first. Existing
references stay exactly as they are (the ledger and the reports are keyed by them). The
lead keeps no prefix. Admins can change any of them on the organisation page.

The column is added plain, the partners' prefixes written, and only then the CHECK that a
partner has one (on SQLite by rebuilding the small organisations table from its definition).
"""
import re
from collections import Counter
from itertools import product
from string import ascii_uppercase

import sqlalchemy as sa
from alembic import op

import inventory.database

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

CHECK_NAME = 'ck_organisations_partner_has_reference_prefix'
CHECK = "case_reference_prefix IS NOT NULL OR kind = 'lead'"


def _candidates(name, own_prefixes):
    """Prefixes to try for a partner, best first."""
    yield from (prefix for prefix, _ in own_prefixes.most_common())
    words = re.findall(r'[A-Z]+', name.upper())
    initials, letters = ''.join(word[0] for word in words), ''.join(words)
    if len(initials) >= 2:
        yield initials[:6]
    yield from (letters[:n] for n in (2, 3, 4) if len(letters) >= n)
    yield from ('P' + a + b for a, b in product(ascii_uppercase, repeat=2))


def _assign_partner_prefixes(bind):
    prefix_of = re.compile(r'^([A-Z]{2,6})-')
    uses = Counter()  # (prefix, organisation id) -> how many of its cases start with it
    for organisation_id, reference in bind.execute(sa.text('SELECT organisation_id, reference FROM cases')):
        match = prefix_of.match(reference)
        if match:
            uses[match[1], organisation_id] += 1
    holders = {}
    for prefix, organisation_id in uses:
        holders.setdefault(prefix, set()).add(organisation_id)
    taken = set()
    partners = bind.execute(sa.text("SELECT id, name FROM organisations WHERE kind = 'partner' ORDER BY id")).all()
    for organisation_id, name in partners:
        own = Counter({prefix: uses[prefix, organisation_id] for prefix, who in holders.items()
                       if who == {organisation_id}})
        prefix = next(candidate for candidate in _candidates(name, own) if candidate not in taken
                      and holders.get(candidate, set()) <= {organisation_id})
        taken.add(prefix)
        bind.execute(sa.text('UPDATE organisations SET case_reference_prefix = :prefix WHERE id = :id'),
                     {'prefix': prefix, 'id': organisation_id})


def _organisations_table(*, with_check):
    """The table as it stands with the column in, with or without its CHECK (SQLite rebuilds
    it from this)."""
    checked = [sa.CheckConstraint(CHECK, name=op.f(CHECK_NAME))] if with_check else []
    return sa.Table(
        'organisations', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', inventory.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('case_reference_prefix', sa.String(length=6), nullable=True),
        sa.CheckConstraint("kind IN ('lead', 'partner')", name='ck_organisations_kind_known'),
        sa.PrimaryKeyConstraint('id', name='pk_organisations'),
        sa.UniqueConstraint('name', name='uq_organisations_name'),
        sa.Index('uq_organisations_one_lead', 'kind', unique=True, sqlite_where=sa.text("kind = 'lead'")),
        *checked,
    )


def upgrade():
    op.add_column('organisations', sa.Column('case_reference_prefix', sa.String(length=6), nullable=True))
    _assign_partner_prefixes(op.get_bind())
    with op.batch_alter_table('organisations', copy_from=_organisations_table(with_check=False)) as batch_op:
        batch_op.create_check_constraint(batch_op.f(CHECK_NAME), CHECK)
    op.create_index('uq_organisations_case_reference_prefix', 'organisations', ['case_reference_prefix'], unique=True)


def downgrade():
    op.drop_index('uq_organisations_case_reference_prefix', table_name='organisations')
    with op.batch_alter_table('organisations', copy_from=_organisations_table(with_check=True)) as batch_op:
        batch_op.drop_constraint(batch_op.f(CHECK_NAME), type_='check')
        batch_op.drop_column('case_reference_prefix')
