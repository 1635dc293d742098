"""`flask --app inventory rotate-data-key`: re-seal every case's personal data with the
current DATA_ENCRYPTION_KEY. Run it after moving the old key to DATA_ENCRYPTION_OLD_KEYS;
afterwards the old key can be retired."""
import click
from flask.cli import with_appcontext
from sqlalchemy import Text, or_, select, type_coerce, update

from inventory.cases.encryption import keyring
from inventory.cases.models import Case
from inventory.database import intent_to_write
from inventory.extensions import db

SEALED_COLUMNS = ("name", "address", "phone", "safe_contact_notes")
BATCH = 500


def rotate_data_key() -> int:
    """Re-seal values not under the current key, a batch per transaction; returns how many cases."""
    prefix = keyring().current_id + ":"
    stale = or_(*(type_coerce(getattr(Case, column), Text).not_like(f"{prefix}%") for column in SEALED_COLUMNS))
    rotated = 0
    while True:
        with intent_to_write():
            rows = db.session.execute(
                select(Case.id, *(getattr(Case, column) for column in SEALED_COLUMNS))
                .where(stale).order_by(Case.id).limit(BATCH).with_for_update()).all()
            for row in rows:
                # Reading opened each value with whichever key sealed it; writing seals with the current key.
                db.session.execute(update(Case).where(Case.id == row.id).values(
                    {column: getattr(row, column) for column in SEALED_COLUMNS}))
            db.session.commit()
        rotated += len(rows)
        if len(rows) < BATCH:
            return rotated


@click.command("rotate-data-key")
@with_appcontext
def rotate_data_key_command():
    """Re-encrypt all personal data with the current data key."""
    count = rotate_data_key()
    click.echo(f"Re-encrypted the personal data of {count} case(s) with key {keyring().current_id}.")
