from sqlalchemy import select

from inventory import clock
from inventory.accounts.models import User
from inventory.demo import seed_demo
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.jobs.operations import expected_items


def test_the_demo_fitter_has_a_job_today_with_items_reserved_for_it(app):
    assert seed_demo()
    fitter = db.session.scalar(select(User).where(User.email == "fitter@demo.example"))
    job = db.session.scalar(select(Job).where(Job.fitter_id == fitter.id))
    assert job.scheduled_for == clock.today() and job.is_open
    items = expected_items(job)
    assert len(items) == 2 and any(item.item_type.connected_device for item in items)
