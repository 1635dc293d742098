"""Two people receive the last outstanding unit at the same moment, on PostgreSQL."""
import threading

import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.procurement import operations as procurement
from inventory.procurement.models import PurchaseOrder, PurchaseOrderLine
from inventory.stock.models import Item, Location


@pytest.mark.postgres_only
def test_two_simultaneous_receipts_of_the_last_unit_receive_it_once(app, build):
    order = build.purchase_order(lines=[(build.item_type(), 2, 1000, 200)])
    procurement.receive_goods(order, lines=[procurement.ReceiptLine(order.lines[0].id, 1)],
                              location=build.location(), actor=build.user(roles=["coordinator"]))
    db.session.commit()
    store = build.location()
    people = [build.user(roles=["coordinator"]) for _ in range(2)]
    line_id, order_id, store_id = order.lines[0].id, order.id, store.id
    start = threading.Barrier(2)
    outcomes = []

    def receive(person_id):
        with app.app_context():
            actor = db.session.get(User, person_id)
            target = db.session.get(PurchaseOrder, order_id)
            location = db.session.get(Location, store_id)
            start.wait()
            try:
                procurement.receive_goods(target, lines=[procurement.ReceiptLine(line_id, 1)], location=location,
                                          actor=actor)
                db.session.commit()
                outcomes.append("received")
            except DomainError as error:
                db.session.rollback()
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=receive, args=(person.id,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The loser waits on the row lock, then sees the order fully received and is refused.
    assert sorted(outcomes) == ["purchase_order_state", "received"]
    db.session.expire_all()
    assert db.session.get(PurchaseOrderLine, line_id).quantity_received == 2
    assert db.session.scalar(select(func.count(Item.id))) == 2
    assert db.session.get(PurchaseOrder, order_id).status == "received"
