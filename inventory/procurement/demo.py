"""Fictional demo purchase orders: a draft, and (where a funded budget period covers today)
one raised and partly received, so on-order stock and the commitment show."""
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.budget import ledger
from inventory.catalogue.models import ItemType, Supplier
from inventory.extensions import db
from inventory.procurement import orders, receipts
from inventory.stock.models import Location, LocationKind


def seed_procurement_demo(*, coordinator_email: str) -> None:
    coordinator = db.session.scalar(select(User).where(User.email == coordinator_email))
    suppliers = db.session.scalars(select(Supplier).order_by(Supplier.id)).all()
    types = {t.name: t for t in db.session.scalars(select(ItemType))}
    orders.create_purchase_order(supplier=suppliers[1], actor=coordinator, notes="Locks for the spring", lines=[
        orders.OrderLine(types["Door/window lock kit"].id, 6, 2083, 416),
        orders.OrderLine(types["Anti-snap euro cylinder lock"].id, 4, 3333, 666),
    ])
    period = ledger.current_period()
    if period is None or ledger.available_pence(period) < 100_000:
        return
    order = orders.create_purchase_order(supplier=suppliers[0], actor=coordinator, lines=[
        orders.OrderLine(types["Wi-fi video doorbell"].id, 4, 7499, 1500),
        orders.OrderLine(types["Personal safety alarm (130 dB, key-ring)"].id, 10, 1083, 216),
    ])
    orders.raise_purchase_order(order, actor=coordinator)
    store = db.session.scalar(select(Location).where(Location.kind == LocationKind.STORE).order_by(Location.id))
    receipts.receive_goods(order, lines=[receipts.ReceiptLine(order.lines[1].id, 10)], location=store,
                           actor=coordinator)
