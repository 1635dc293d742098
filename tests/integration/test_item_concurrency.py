"""Two people act on the same item at the same moment, on PostgreSQL."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.stock import operations
from inventory.stock.models import Item, ItemEvent
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
