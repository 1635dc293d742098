"""Two people act on the same item at the same moment, on PostgreSQL."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.models import Item, ItemEvent, Location
from tests.concurrency import run_at_once


@pytest.mark.postgres_only
def test_two_simultaneous_issues_of_one_item_issue_it_once(app, build):
    item_id = build.item().id
    people = [build.user(roles=["coordinator"]) for _ in range(2)]
    cases = [build.case().id for _ in range(2)]

    def issue(person_id, case_id):
        return lambda: operations.issue_item(db.session.get(Item, item_id), case_id=case_id,
                                             actor=db.session.get(User, person_id))

    outcomes = run_at_once(app, [issue(person.id, case_id) for person, case_id in zip(people, cases)])

    assert sorted(outcomes) == ["item_not_available", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.kind == "issued")) == 1


@pytest.mark.postgres_only
def test_a_move_to_a_van_at_the_moment_of_release_from_quarantine_never_leaves_quarantine_in_the_van(app, build):
    coordinator = build.user(roles=["coordinator"])
    store = build.location()
    van = build.location(kind="van", fitter=build.user(roles=["fitter"]))
    item = build.item(location=store)
    operations.issue_item(item, case_id=build.case().id, actor=coordinator)
    operations.return_item(item, condition="good", actor=coordinator, location=store)
    db.session.commit()
    item_id, van_id, coordinator_id = item.id, van.id, coordinator.id

    def release():
        operations.release_from_quarantine(db.session.get(Item, item_id), actor=db.session.get(User, coordinator_id))

    def move():
        operations.move_item(db.session.get(Item, item_id), db.session.get(Location, van_id),
                             actor=db.session.get(User, coordinator_id))

    outcomes = run_at_once(app, [release, move])

    db.session.expire_all()
    item = db.session.get(Item, item_id)
    assert outcomes[0] == "ok" and item.state == "in_stock"
    assert (outcomes[1], item.location_id) in {("ok", van_id), ("quarantine_stays_in_store", store.id)}
