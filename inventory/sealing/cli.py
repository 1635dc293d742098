"""`flask --app inventory rotate-data-key`: re-seal every sealed value of every table with
the current DATA_ENCRYPTION_KEY. Run it after moving the old key to DATA_ENCRYPTION_OLD_KEYS;
afterwards the old key can be retired."""
import click
from flask.cli import with_appcontext
from sqlalchemy import Text, or_, select, type_coerce, update

from inventory.database import intent_to_write
from inventory.extensions import db
from inventory.sealing.columns import SealedTable, row_context, sealed_tables
from inventory.sealing.keys import keyring

BATCH = 500


def rotate_data_key() -> dict[str, int]:
    """Re-seal values not under the current key, a batch per transaction; returns how many
    rows of each table were re-sealed (tables with none left out)."""
    counts = {}
    for sealed in sealed_tables():
        rotated = _rotate_table(sealed)
        if rotated:
            counts[sealed.table.name] = rotated
    return counts


def _rotate_table(sealed: SealedTable) -> int:
    table = sealed.table
    key = table.primary_key.columns.values()[0]
    columns = sealed.row_bound
    prefix = keyring().current_id + ":"
    stale = or_(*(type_coerce(column, Text).not_like(f"{prefix}%") for column in columns))
    wanted = [key, *sealed.row_bound, table.c.seal_key]
    rotated, after = 0, None
    while True:
        with intent_to_write():
            query = select(*wanted).where(stale).order_by(key).limit(BATCH).with_for_update()
            rows = db.session.execute(query if after is None else query.where(key > after)).all()
            for row in rows:
                values = {column.name: _reseal(row._mapping[column], column, row.seal_key)
                          for column in sealed.row_bound}
                db.session.execute(update(table).where(key == row._mapping[key]).values(values))
            db.session.commit()
        rotated += len(rows)
        if len(rows) < BATCH:
            return rotated
        after = rows[-1]._mapping[key]


def _reseal(stored: str | None, column, seal_key: str) -> str | None:
    if stored is None:
        return None
    context = row_context(column, seal_key)
    return keyring().seal(keyring().open(stored, context), context)


@click.command("rotate-data-key")
@with_appcontext
def rotate_data_key_command():
    """Re-encrypt all personal data with the current data key."""
    counts = rotate_data_key()
    done = ", ".join(f"{count} in {table}" for table, count in counts.items()) or "none needed it"
    click.echo(f"Re-encrypted sealed rows with key {keyring().current_id}: {done}.")
