"""Collection visits under real concurrency, on PostgreSQL connections: two coordinators
booking the same case, and one item taken back twice at the same moment."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.jobs.booking import CollectionBooking, schedule_collection
from inventory.jobs.models import CollectionItem, ItemReturn, Job, JobKind, ReturnCondition
from inventory.jobs.scanning import ScanAction, ScanInput, scan
from inventory.stock.models import Item, ItemState
from tests.concurrency import run_at_once
from tests.support import visit

pytestmark = pytest.mark.postgres_only


def test_two_coordinators_booking_a_collection_from_one_case_at_once_book_one(app, build):
    case, items = build.handed_over()
    coordinators = [build.user(roles=["coordinator"]).id for _ in range(2)]
    booking = CollectionBooking(case.id, tuple(item.id for item in items), visit(build.user(roles=["fitter"])))

    def book(coordinator_id):
        return lambda: schedule_collection(booking, actor=db.session.get(User, coordinator_id))

    outcomes = run_at_once(app, [book(c) for c in coordinators])
    assert sorted(outcomes) == ["collection_already_booked", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == JobKind.COLLECTION)) == 1
    assert db.session.scalar(select(func.count()).select_from(CollectionItem)) == len(items)


def test_the_fitter_and_the_office_taking_the_same_item_back_at_once_record_one_return(app, build):
    case, (alarm,) = build.handed_over()
    fitter = build.user(roles=["fitter"])
    job = build.collection(case=case, items=[alarm], fitter=fitter)
    office = build.user(roles=["coordinator"])

    def give_back(user_id, job_id):
        scanned = ScanInput(ScanAction.RETURN, alarm.code, job_id=job_id, condition=ReturnCondition.GOOD)
        return lambda: scan(scanned, actor=db.session.get(User, user_id))

    outcomes = run_at_once(app, [give_back(fitter.id, job.id), give_back(office.id, None)])
    assert sorted(outcomes) == ["not_issued", "ok"]
    db.session.expire_all()
    assert db.session.get(Item, alarm.id).state == ItemState.IN_STOCK
    assert db.session.scalar(select(func.count()).select_from(ItemReturn)) == 1
    row = db.session.scalar(select(CollectionItem))
    assert row.outcome == "collected"
