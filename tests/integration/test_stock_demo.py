from sqlalchemy import func, select

from inventory.catalogue.models import Category, ItemType, Supplier
from inventory.demo import seed_demo
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder
from inventory.stock.queries import stock_levels


def test_the_demo_holds_a_realistic_catalogue_suppliers_stock_and_orders(app):
    assert seed_demo()
    categories = set(db.session.scalars(select(ItemType.category)))
    assert categories == {str(c) for c in Category}
    assert db.session.scalar(select(func.count(Supplier.id))) == 2
    assert db.session.scalar(select(func.count(ItemType.id)).where(ItemType.connected_device.is_(True))) >= 3
    levels = {level.item_type: level for level in stock_levels()}
    alarms = levels["Personal safety alarm (130 dB, key-ring)"]
    # 10 came on the demo order, 3 were bought for the cases whose reviews the demo records
    assert alarms.in_stock + alarms.reserved + alarms.issued == 16 + 10 + 3
    assert alarms.issued == 1 + 3  # on loan: one with a collection booked for tomorrow, three reviewed
    assert alarms.reserved >= 1  # for the demo fitter's job today
    assert levels["Wi-fi video doorbell"].on_order == 4
    assert any(level.below_reorder for level in levels.values())
    assert set(db.session.scalars(select(PurchaseOrder.status))) == {"draft", "partly_received"}
