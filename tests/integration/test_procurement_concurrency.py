"""Two people receive the last outstanding unit at the same moment, on PostgreSQL."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.extensions import db
from inventory.procurement import receipts
from inventory.procurement.models import PurchaseOrder, PurchaseOrderLine
from inventory.stock.models import Item, Location
from tests.concurrency import run_at_once


@pytest.mark.postgres_only
def test_two_simultaneous_receipts_of_the_last_unit_receive_it_once(app, build):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    receipts.receive_goods(order, lines=[receipts.ReceiptLine(order.lines[0].id, 1)],
                           location=build.location(), actor=build.user(roles=["coordinator"]))
    db.session.commit()
    store = build.location()
    people = [build.user(roles=["coordinator"]) for _ in range(2)]
    line_id, order_id, store_id = order.lines[0].id, order.id, store.id

    def receive(person_id):
        return lambda: receipts.receive_goods(
            db.session.get(PurchaseOrder, order_id), lines=[receipts.ReceiptLine(line_id, 1)],
            location=db.session.get(Location, store_id), actor=db.session.get(User, person_id))

    outcomes = run_at_once(app, [receive(person.id) for person in people])

    # The loser waits on the row lock, then sees the order fully received and is refused.
    assert sorted(outcomes) == ["ok", "purchase_order_state"]
    db.session.expire_all()
    assert db.session.get(PurchaseOrderLine, line_id).quantity_received == 2
    assert db.session.scalar(select(func.count(Item.id))) == 2
    assert db.session.get(PurchaseOrder, order_id).status == "received"
