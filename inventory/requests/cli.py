"""`flask --app inventory recompute-priorities`: after changing PRIORITY_WEIGHTS or
REQUEST_TARGETS, bring every waiting request's priority key and targets up to date."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inventory.database import intent_to_write
from inventory.extensions import db
from inventory.requests.models import EDITABLE_STATES, EquipmentRequest
from inventory.requests.priority import rescore

BATCH = 1000


def recompute_priorities() -> int:
    """Rescore every request not yet decided, a batch per transaction; returns how many."""
    done, last_id = 0, 0
    while True:
        with intent_to_write():
            batch = db.session.scalars(
                select(EquipmentRequest).options(joinedload(EquipmentRequest.case))
                .where(EquipmentRequest.state.in_(EDITABLE_STATES), EquipmentRequest.id > last_id)
                .order_by(EquipmentRequest.id).limit(BATCH).with_for_update(of=EquipmentRequest)).all()
            for request in batch:
                rescore(request)
            db.session.commit()
        done += len(batch)
        if len(batch) < BATCH:
            return done
        last_id = batch[-1].id


@click.command("recompute-priorities")
@with_appcontext
def recompute_priorities_command():
    """Recompute the queue's priority keys and targets from the current settings."""
    click.echo(f"Rescored {recompute_priorities()} waiting request(s).")
