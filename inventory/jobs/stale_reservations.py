"""The job that finds stock held too long: units reserved to a request for more than
`RESERVATION_STALE_DAYS` with no visit booked to hand them over (no open job for the
request). Those units could serve someone else; coordinators get one notice per request,
linking to it, to book the visit or release the units."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select

from inventory.extensions import db
from inventory.jobs.models import Job, JobStatus
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role
from inventory.stock.models import Item, ItemEvent, ItemEventKind, ItemState


def stale_reservations(now: datetime) -> JobOutcome:
    """Requests holding units reserved before `now` − RESERVATION_STALE_DAYS, none of them
    with an open visit, counted in one statement."""
    days = current_app.config["RESERVATION_STALE_DAYS"]
    reserved_at = (select(func.max(ItemEvent.occurred_at))  # the unit's latest reservation
                   .where(ItemEvent.item_id == Item.id, ItemEvent.kind == ItemEventKind.RESERVED)
                   .correlate(Item).scalar_subquery())
    held = (select(Item.reserved_for_request_id.label("request_id"), reserved_at.label("reserved_at"))
            .where(Item.state == ItemState.RESERVED,
                   ~exists().where(Job.request_id == Item.reserved_for_request_id,
                                   Job.status == JobStatus.SCHEDULED))
            .subquery())
    rows = db.session.execute(
        select(held.c.request_id, func.count())
        .where(held.c.reserved_at < now - timedelta(days=days))
        .group_by(held.c.request_id).order_by(held.c.request_id)).all()
    return JobOutcome(
        counts={"requests": len(rows), "units": sum(units for _, units in rows)},
        notices=[Notice(
            kind="reservation_stale", subject=f"request:{request_id}",
            message=(f"Request {request_id} has held {units} reserved unit{'' if units == 1 else 's'} for more than "
                     f"{days} days with no visit booked: book the visit or release the units."),
            link=f"/requests/{request_id}", roles=(str(Role.COORDINATOR),))
            for request_id, units in rows])
