from sqlalchemy import func, select

from inventory.catalogue.models import Category, ItemType, Supplier
from inventory.demo import seed_demo
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder
from inventory.stock.operations import stock_levels


def test_the_demo_holds_a_realistic_catalogue_suppliers_and_stock(app):
    assert seed_demo()
    categories = set(db.session.scalars(select(ItemType.category)))
    assert categories == {str(c) for c in Category}
    assert db.session.scalar(select(func.count(Supplier.id))) == 2
    assert db.session.scalar(select(func.count(ItemType.id)).where(ItemType.connected_device.is_(True))) >= 3
    levels = {level.item_type: level for level in stock_levels()}
    alarms = levels["Personal safety alarm (130 dB, key-ring)"]
    assert (alarms.in_stock, alarms.reserved) == (15, 1)  # one is reserved for the demo fitter's job today
    assert any(level.below_reorder for level in levels.values())
    assert db.session.scalar(select(PurchaseOrder.status)) == "draft"


def test_with_a_funded_budget_the_demo_also_has_a_raised_part_received_order(app, build):
    from inventory.procurement.demo import seed_procurement_demo

    assert seed_demo()
    build.budget_period(allocated_pence=2_000_000)
    seed_procurement_demo(coordinator_email="coordinator@demo.example")
    db.session.commit()
    statuses = set(db.session.scalars(select(PurchaseOrder.status)))
    assert statuses == {"draft", "partly_received"}
    levels = {level.item_type: level for level in stock_levels()}
    assert levels["Wi-fi video doorbell"].on_order == 4
