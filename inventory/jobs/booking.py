"""Booking a visit: an install to hand over an approved request's reserved units, or a
collection to take chosen units back from a case. Coordinators book; the booking names
a fitter, a day and a time window.

Functions take a booking already read and checked at the edge (`inventory.jobs.inputs`),
flush and never commit.
"""
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.cases.models import Case
from inventory.errors import Conflict, InvalidInput, NotAllowed, NotFound
from inventory.extensions import db
from inventory.jobs.models import CollectionItem, Job, JobKind, JobStatus
from inventory.jobs.queries import open_collection_for
from inventory.permissions import Permission, Role, has_permission, has_role
from inventory.requests import operations as requests
from inventory.requests.transitions import Action
from inventory.stock.models import Item, ItemState


@dataclass(frozen=True)
class Visit:
    """Who goes, on which day, arriving within which window."""

    fitter_id: int
    day: date
    window_starts: time
    window_ends: time


@dataclass(frozen=True)
class InstallBooking:
    """A visit to hand over what is reserved for an approved request."""

    request_id: int
    visit: Visit


@dataclass(frozen=True)
class CollectionBooking:
    """A visit to take these units (each out with the case now) back from a case."""

    case_id: int
    item_ids: tuple[int, ...]
    visit: Visit


class CollectionAlreadyBooked(Conflict):
    code = "collection_already_booked"

    def __init__(self, job_id: int):
        super().__init__(f"A collection from this case is already booked (job {job_id}): add to that visit "
                         "on the day by scanning, or complete it first.", details={"job_id": job_id})


def _refuse_unless_scheduler(actor) -> None:
    if not has_permission(actor, Permission.SCHEDULE_JOBS):
        raise NotAllowed("Only coordinators schedule jobs.")


def _active_fitter(visit: Visit) -> User:
    fitter = db.session.get(User, visit.fitter_id)
    if fitter is None or not fitter.active or not has_role(fitter, Role.FITTER):
        raise InvalidInput("Some of the visit needs correcting.", fields={"fitter_id": "Choose an active fitter."})
    return fitter


def _new_job(visit: Visit, fitter: User, *, kind: JobKind, case_id: int, actor, request=None) -> Job:
    job = Job(kind=kind, request=request, case_id=case_id, fitter_id=fitter.id, scheduled_for=visit.day,
              window_starts=visit.window_starts, window_ends=visit.window_ends, status=JobStatus.SCHEDULED,
              created_by_id=actor.id)
    db.session.add(job)
    db.session.flush()
    return job


def schedule_job(booking: InstallBooking, *, actor) -> Job:
    """A coordinator books a fitter, a date and a time window to hand over an approved
    request's reserved items."""
    _refuse_unless_scheduler(actor)
    fitter = _active_fitter(booking.visit)
    try:
        request = requests.get_request(actor, booking.request_id, for_update=True)
    except NotFound:
        raise InvalidInput("No such request.", fields={"request_id": "No such request."}) from None
    reserved = db.session.scalar(select(func.count()).select_from(Item).where(
        Item.reserved_for_request_id == request.id, Item.state == ItemState.RESERVED))
    requests.advance_by_job(request, Action.SCHEDULE, actor=actor, note=f"Visit on {booking.visit.day.isoformat()}")
    if not reserved:
        raise Conflict("Nothing is reserved for this request yet: there is nothing to hand over.",
                       code="nothing_reserved")
    return _new_job(booking.visit, fitter, kind=JobKind.INSTALL, case_id=request.case_id, request=request,
                    actor=actor)


def schedule_collection(booking: CollectionBooking, *, actor) -> Job:
    """A coordinator books a fitter to take chosen items back from a case (a loan due back,
    a faulty unit): each must be out with that case now."""
    _refuse_unless_scheduler(actor)
    fitter = _active_fitter(booking.visit)
    # The case's row is locked so that two coordinators booking at once take turns.
    case = db.session.scalar(select(Case).where(Case.id == booking.case_id).with_for_update())
    if case is None:
        raise InvalidInput("No such case.", fields={"case_id": "No such case."})
    booked = open_collection_for(case.id)
    if booked is not None:
        raise CollectionAlreadyBooked(booked)
    out = set(db.session.scalars(select(Item.id).where(Item.id.in_(booking.item_ids), Item.state == ItemState.ISSUED,
                                                       Item.issued_case_id == case.id)))
    strays = [item_id for item_id in booking.item_ids if item_id not in out]
    if strays:
        raise InvalidInput("Only items out with this case can be collected from it.",
                           fields={"item_ids": f"Not out with {case.reference}: item "
                                               + ", ".join(str(i) for i in strays) + "."})
    job = _new_job(booking.visit, fitter, kind=JobKind.COLLECTION, case_id=case.id, actor=actor)
    db.session.add_all(CollectionItem(job_id=job.id, item_id=item_id) for item_id in booking.item_ids)
    db.session.flush()
    return job


def book_visit(booking: InstallBooking | CollectionBooking, *, actor) -> Job:
    """An install or a collection, as the booking is."""
    if isinstance(booking, CollectionBooking):
        return schedule_collection(booking, actor=actor)
    return schedule_job(booking, actor=actor)
