from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.demo import seed_demo
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.jobs.queries import expected_items


def test_the_demo_fitter_has_a_job_today_with_items_reserved_for_it(app):
    assert seed_demo()
    fitter = db.session.scalar(select(User).where(User.email == "fitter@demo.example"))
    job = db.session.scalar(select(Job).where(Job.fitter_id == fitter.id, Job.kind == "install",
                                              Job.status == "scheduled"))
    assert job.scheduled_for == clock.today() and job.is_open
    items = expected_items(job)
    assert len(items) == 2 and any(item.item_type.connected_device for item in items)


def test_the_demo_fitter_has_a_collection_tomorrow_of_an_alarm_loaned_three_weeks_ago(app):
    from datetime import timedelta

    from inventory.jobs.models import JobKind
    from inventory.jobs.queries import loans_out, loans_out_query

    assert seed_demo()
    collection = db.session.scalar(select(Job).where(Job.kind == JobKind.COLLECTION))
    assert collection.scheduled_for == clock.today() + timedelta(days=1) and collection.is_open
    assert collection.fitter.email == "fitter@demo.example"
    [alarm] = expected_items(collection)
    [loan] = [loan for loan in loans_out(db.session.scalars(loans_out_query(due_by=None)).all())
              if loan.case.id == collection.case_id]
    assert loan.item.id == alarm.id and loan.collection_job_id == collection.id
    assert loan.handover.recorded_at.date() == clock.today() - timedelta(days=21)
