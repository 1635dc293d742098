"""Every catalogue, stock and purchase order page renders on the demo data, for each role
that may see it."""
import pytest
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.catalogue.models import ItemType, Supplier
from inventory.demo import DEMO_PASSWORD, seed_demo
from inventory.extensions import db
from inventory.procurement.models import GoodsReceipt, PurchaseOrder
from inventory.stock.models import Item, Location


@pytest.fixture
def demo(app):
    assert seed_demo()


def sign_in(client, email):
    assert client.post("/login", data={"email": email, "password": DEMO_PASSWORD}).status_code == 302


def pages():
    items = db.session.scalars(select(Item.id).order_by(Item.id)).all()
    written_off = db.session.scalar(select(Item.id).where(Item.state == "written_off"))
    paths = ["/stock/", "/stock/items", "/stock/items?state=in_stock", "/stock/find", "/stock/locations",
             f"/stock/items/{items[0]}", f"/stock/items/{written_off}"]
    coordinator_paths = ["/stock/receive", "/stock/transfer", "/stock/stocktakes", "/stock/labels",
                         f"/stock/labels/print?receipt={db.session.scalar(select(GoodsReceipt.id))}",
                         f"/stock/labels/print?item={items[0]}&item={items[1]}&format=L7651&start=3"]
    orders = [f"/purchase-orders/{o}" for o in db.session.scalars(select(PurchaseOrder.id))]
    admin_paths = ["/catalogue/item-types", "/catalogue/suppliers",
                   f"/catalogue/item-types/{db.session.scalar(select(ItemType.id))}",
                   f"/catalogue/suppliers/{db.session.scalar(select(Supplier.id))}"]
    return {"coordinator@demo.example": paths + coordinator_paths + ["/purchase-orders/"] + orders,
            "finance@demo.example": paths + ["/purchase-orders/", "/purchase-orders/new"] + orders,
            "admin@demo.example": paths + admin_paths + ["/catalogue/item-types/new"]}


@pytest.mark.parametrize("email", ["coordinator@demo.example", "finance@demo.example", "admin@demo.example"])
def test_every_page_renders_on_the_demo_data(client, demo, email):
    sign_in(client, email)
    for path in pages()[email]:
        response = client.get(path)
        assert response.status_code == 200, f"{email} {path}: {response.status_code}"


def test_the_demo_fitter_has_a_van_with_stock(demo):
    fitter = db.session.scalar(select(User).where(User.email == "fitter@demo.example"))
    van = db.session.scalar(select(Location).where(Location.fitter_id == fitter.id))
    assert db.session.scalar(select(Item.id).where(Item.location_id == van.id, Item.state == "in_stock"))
