"""sealed values bound to their rows; free text that can hold personal data sealed

Revision ID: 0026
Revises: 0020
Create Date: 2026-12-10 12:00:00

Until now a case's name, address, phone and safe-contact notes were sealed with only their
column as associated data, so one case's address copied into another case's row opened
there. Every table with sealed fields now has a `seal_key` (22 random url-safe characters,
unique in its table) and each value's associated data is "<table>.<column>/<seal_key>".

The same upgrade seals what people write that can say something about a survivor, which
was plain text: a case's police crime reference and referring agency, a request's reason
and decision reason, its history notes, comments and priority-move reasons.

The data key comes from the app's configuration (`flask db upgrade` runs in its context):
values sealed under a key listed in DATA_ENCRYPTION_OLD_KEYS open too and come out under
the current key. Going down opens them again: case fields go back to being sealed to their
column only, free text back to plain text.

Request history and priority moves are append-only (database triggers): their guard now
lets a sealed column be re-sealed, by `rotate-data-key`, and nothing else change.

On SQLite the two widened columns (VARCHAR to TEXT) and `seal_key`'s NOT NULL are changed
by rewriting the stored CREATE TABLE, as 0007 does, since the rows' storage is the same
either way and rebuilding `cases` would mean restating the whole table here.
"""
import re
import secrets

import sqlalchemy as sa
from alembic import op

from inventory.database import create_append_only_guard, drop_append_only_guard
from inventory.sealing.keys import keyring

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

# table -> its fields sealed to the row from now on, and of those the ones that were sealed
# to their column before
SEALED = {
    'cases': (('name', 'address', 'phone', 'safe_contact_notes', 'police_reference', 'referral_agency'),
              ('name', 'address', 'phone', 'safe_contact_notes')),
    'requests': (('reason', 'decision_reason'), ()),
    'request_events': (('note',), ()),
    'request_comments': (('body',), ()),
    'priority_adjustments': (('reason',), ()),
}
# Append-only history (0005): its sealed columns may be re-sealed by rotate-data-key from now on,
# and (as since 0025) its free text overwritten once its case is anonymised.
OF_REQUEST = ("EXISTS (SELECT 1 FROM requests JOIN cases ON cases.id = requests.case_id "
              "WHERE requests.id = OLD.request_id AND cases.anonymised_at IS NOT NULL)")
APPEND_ONLY = {'request_events': ('note', OF_REQUEST), 'priority_adjustments': ('reason', OF_REQUEST)}
# Columns of cases that were short strings and now hold sealed text: column -> old length.
WIDENED = {'police_reference': 40, 'referral_agency': 120}
SEAL_KEY = 'VARCHAR(22)'
BATCH = 1000


def _row_context(table: str, column: str, seal_key: str) -> str:
    # As inventory.sealing.columns.row_context writes it at this revision.
    return f'{table}.{column}/{seal_key}'


def _rewrite_sqlite_table(table: str, changes: dict[str, str]) -> None:
    """Swap column definitions in SQLite's stored CREATE TABLE (each must appear once)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'").scalar()
    for old, new in changes.items():
        pattern = re.compile(rf'\b{re.escape(old)}(?=\s*(,|\n|\)| CONSTRAINT))')
        if len(pattern.findall(sql)) != 1:
            raise RuntimeError(f'{table}: the column definition {old!r} is not what this migration expects')
        sql = pattern.sub(new, sql)
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
    bind.exec_driver_sql('PRAGMA writable_schema = ON')
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    bind.exec_driver_sql(f'PRAGMA schema_version = {version + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema = OFF')


def _widen(wide: bool) -> None:
    """The police reference and referring agency as TEXT (wide) or as their old VARCHARs."""
    if op.get_bind().dialect.name == 'sqlite':
        narrow = {f'{column} VARCHAR({length})': f'{column} TEXT' for column, length in WIDENED.items()}
        _rewrite_sqlite_table('cases', narrow if wide else {wide_definition: old for old, wide_definition in narrow.items()})
        return
    for column, length in WIDENED.items():
        op.alter_column('cases', column, type_=sa.Text() if wide else sa.String(length), existing_nullable=True)


def _convert(table: str, convert) -> None:
    """Rewrite every row's sealed columns (and seal_key, if `convert` gives one), a batch at a time:
    `convert(table, row) -> new values`."""
    bind = op.get_bind()
    read = sa.text(f"SELECT id, seal_key, {', '.join(SEALED[table][0])} FROM {table} "
                   f"WHERE id > :after ORDER BY id LIMIT {BATCH}")
    after = 0
    while rows := bind.execute(read, {'after': after}).mappings().all():
        values = [{'id': row['id'], **convert(table, row)} for row in rows]
        changed = ', '.join(f'{column} = :{column}' for column in values[0] if column != 'id')
        bind.execute(sa.text(f'UPDATE {table} SET {changed} WHERE id = :id'), values)
        after = rows[-1]['id']


def _seal_to_row(table: str, row) -> dict:
    """A new seal key for the row; each field sealed to it (opened first if it was sealed to its column)."""
    columns, column_bound = SEALED[table]
    seal_key = secrets.token_urlsafe(16)
    values = {'seal_key': seal_key}
    for column in columns:
        value = row[column]
        if value is not None and column in column_bound:
            value = keyring().open(value, f'{table}.{column}')
        values[column] = None if value is None else keyring().seal(value, _row_context(table, column, seal_key))
    return values


def _unseal_from_row(table: str, row) -> dict:
    """Each field opened; those sealed to their column before, sealed to it again."""
    columns, column_bound = SEALED[table]
    values = {}
    for column in columns:
        value = row[column]
        if value is not None:
            value = keyring().open(value, _row_context(table, column, row['seal_key']))
            if column in column_bound:
                value = keyring().seal(value, f'{table}.{column}')
        values[column] = value
    return values


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in APPEND_ONLY:
        drop_append_only_guard(op, table)
    for table in SEALED:
        op.execute(f'ALTER TABLE {table} ADD COLUMN seal_key {SEAL_KEY}')
    _widen(True)
    for table in SEALED:
        _convert(table, _seal_to_row)
    for table in SEALED:
        if sqlite:
            _rewrite_sqlite_table(table, {f'seal_key {SEAL_KEY}': f'seal_key {SEAL_KEY} NOT NULL'})
        else:
            op.alter_column(table, 'seal_key', existing_type=sa.String(22), nullable=False)
        op.create_index(f'ix_{table}_seal_key', table, ['seal_key'], unique=True)
    for table in APPEND_ONLY:
        create_append_only_guard(op, table, resealable=SEALED[table][0], redactable=APPEND_ONLY[table])


def downgrade():
    for table in APPEND_ONLY:
        drop_append_only_guard(op, table)
    for table in SEALED:
        op.drop_index(f'ix_{table}_seal_key', table_name=table)
        _convert(table, _unseal_from_row)
    _widen(False)
    for table in SEALED:
        op.execute(f'ALTER TABLE {table} DROP COLUMN seal_key')
    for table in APPEND_ONLY:
        create_append_only_guard(op, table, redactable=APPEND_ONLY[table])
