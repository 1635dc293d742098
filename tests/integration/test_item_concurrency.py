"""Two people act on the same item at the same moment, on PostgreSQL."""
import threading

import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.models import Item, ItemEvent


@pytest.mark.postgres_only
def test_two_simultaneous_issues_of_one_item_issue_it_once(app, build):
    item = build.item()
    people = [build.user(roles=["coordinator"]) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes = []

    def issue(person_id, case_id):
        with app.app_context():
            actor = db.session.get(User, person_id)
            target = db.session.get(Item, item.id)
            start.wait()
            try:
                operations.issue_item(target, case_id=case_id, actor=actor)
                db.session.commit()
                outcomes.append("issued")
            except operations.ItemNotAvailable as error:
                db.session.rollback()
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(person.id, n)) for n, person in enumerate(people, start=1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["issued", "item_not_available"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.kind == "issued")) == 1
