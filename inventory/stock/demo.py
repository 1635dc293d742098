"""Fictional demo catalogue, suppliers, locations and stock."""
from sqlalchemy import select

from inventory.accounts.models import User
from inventory.budget.categories import create_category
from inventory.catalogue import operations as catalogue
from inventory.extensions import db
from inventory.stock import operations as stock
from inventory.stock.locations import create_location
from inventory.stock.receiving import NewUnits, receive_units

SUPPLIERS = [
    {"name": "Brightwell Safety Supplies (demo)", "contact_name": "Orders desk", "email": "orders@brightwell.example",
     "phone": "01632 960001", "website": "https://brightwell.example", "account_reference": "NWA-0042"},
    {"name": "Keystone Locks & Security (demo)", "contact_name": "Trade counter",
     "email": "trade@keystone-locks.example", "phone": "01632 960002", "account_reference": "KS-7781"},
]

# name, category, loaned, connected, standard cost (pence, incl. VAT), reorder level, {supplier index: code}
ITEM_TYPES = [
    ("Personal safety alarm (130 dB, key-ring)", "personal_alarm", True, False, 1299, 10, {0: "PSA-130K"}),
    ("GPS personal alarm with SOS button", "personal_alarm", True, True, 8999, 4, {0: "GPS-SOS2"}),
    ("Wi-fi video doorbell", "camera_doorbell", True, True, 8999, 3, {0: "VDB-1080W"}),
    ("Solar PIR security light", "pir_light", False, False, 3499, 4, {0: "SPL-20W"}),
    ("Mains PIR floodlight", "pir_light", False, False, 2799, 2, {1: "KS-FL30"}),
    ("Window alarm (vibration sensor, pack of 4)", "window_alarm", False, False, 1599, 6, {0: "WA-VIB4"}),
    ("Door/window lock kit", "lock", False, False, 2499, 5, {1: "KS-DWL1"}),
    ("Anti-snap euro cylinder lock", "lock", False, False, 3999, 5, {1: "KS-AS3"}),
    ("Door chain and viewer", "other", False, False, 1199, 3, {1: "KS-DCV"}),
    ("Wi-fi CCTV PIR camera (indoor)", "cctv_camera", True, True, 5999, 2, {0: "CAM-IN2"}),
    ("Solar 4G CCTV PIR camera (outdoor)", "cctv_camera", True, True, 12999, 2, {0: "CAM-SOL4G"}),
]

# item type index -> units in the office store
OPENING_STOCK = {0: 14, 1: 3, 2: 2, 3: 5, 5: 8, 6: 4, 7: 6, 8: 3, 9: 2, 10: 1}


def seed_stock_demo(*, fitter_email: str) -> None:
    suppliers = [catalogue.create_supplier(**values) for values in SUPPLIERS]
    create_category("Door security", actor=None)  # the budget category of the "other" type below
    item_types = []
    for name, category, loaned, connected, cost, reorder, codes in ITEM_TYPES:
        item_type = catalogue.create_item_type(
            name=name, category=category, other_category="Door security" if category == "other" else None,
            loaned=loaned, connected_device=connected, standard_cost_pence=cost, reorder_level=reorder)
        for supplier_index, code in codes.items():
            catalogue.set_product_code(item_type, suppliers[supplier_index], code)
        item_types.append(item_type)
    store = create_location(name="Office store room", kind="store")
    fitter = db.session.scalar(select(User).where(User.email == fitter_email))
    van = create_location(name=f"Van: {fitter.name}", kind="van", fitter=fitter)
    for index, quantity in OPENING_STOCK.items():
        item_type = item_types[index]
        supplier = suppliers[next(iter(ITEM_TYPES[index][6]))]
        receive_units(NewUnits(item_type=item_type, quantity=quantity, location=store, supplier=supplier,
                               purchase_cost_pence=item_type.standard_cost_pence), actor=None)
    alarms = receive_units(NewUnits(item_type=item_types[0], quantity=3, location=van, supplier=suppliers[0],
                                    purchase_cost_pence=1299), actor=None)
    stock.write_off(alarms[2], "faulty", None, note="Siren failed on test.")
