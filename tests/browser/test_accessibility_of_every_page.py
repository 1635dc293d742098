"""axe-core (the accessibility engine, bundled by axe-playwright-python) in Chromium on the
demo data: for each demo role, every page its navigation reaches and a record page of each
kind it may open, with no serious or critical violation. Every role is checked on a phone
held upright (where wide tables scroll and layouts fold, so most problems show), and the
coordinator, who reaches the most pages, at a desk too. One browser; one page per run."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import url_for
from sqlalchemy import select

from inventory.accounts.models import Organisation, User
from inventory.budget.models import LedgerEntry
from inventory.cases.models import Case
from inventory.catalogue.models import ItemType, Supplier
from inventory.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from inventory.extensions import db
from inventory.jobs.models import Job
from inventory.procurement.models import PurchaseOrder
from inventory.reconciliation.models import Statement
from inventory.requests.models import EquipmentRequest
from inventory.stock import stocktakes
from inventory.stock.models import Item, Location
from tests.browser.pages import sign_in

BLOCKING = {"serious", "critical"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 800}}
AXE = Axe()


def _first(query):
    return db.session.scalar(query.limit(1))


@pytest.fixture
def record_pages(app):
    """The demo, a stocktake under way, and the URL of a record page of each kind."""
    assert seed_demo()
    coordinator = _first(select(User).where(User.email == "coordinator@demo.example"))
    fitter = _first(select(User).where(User.email == "fitter@demo.example"))
    store = _first(select(Location).where(Location.kind == "store").order_by(Location.id))
    count = stocktakes.start_stocktake(store, actor=coordinator)
    stocktakes.count_code(count, _first(select(Item).where(Item.location_id == store.id)).code, actor=coordinator)
    db.session.commit()
    cases = [_first(select(Case.id).where(Case.organisation_id == organisation.id).order_by(Case.id))
             for organisation in db.session.scalars(select(Organisation).order_by(Organisation.id))]
    job = _first(select(Job.id).where(Job.fitter_id == fitter.id).order_by(Job.id))
    with app.test_request_context():
        return [
            *(url_for("cases.show", case_id=case) for case in cases if case),
            url_for("requests.show", request_id=_first(select(EquipmentRequest.id).order_by(EquipmentRequest.id))),
            url_for("jobs.show", job_id=job), url_for("jobs.scan", job_id=job),
            url_for("stock.item", item_id=_first(select(Item.id).order_by(Item.id))),
            url_for("stock.stocktake", stocktake_id=count.id),
            url_for("procurement.order", order_id=_first(select(PurchaseOrder.id).order_by(PurchaseOrder.id))),
            url_for("budget.entry", entry_id=_first(select(LedgerEntry.id).order_by(LedgerEntry.id))),
            url_for("reconciliation.statement", statement_id=_first(select(Statement.id).order_by(Statement.id))),
            url_for("catalogue.edit_item_type", item_type_id=_first(select(ItemType.id).order_by(ItemType.id))),
            url_for("catalogue.edit_supplier", supplier_id=_first(select(Supplier.id).order_by(Supplier.id))),
            url_for("admin.edit_user", user_id=coordinator.id),
            url_for("accounts.change_password"), url_for("two_factor.settings"),
        ]


def problems_on(page, url: str) -> list[str]:
    results = AXE.run(page).response
    return [f"{url}: {violation['id']} ({violation['impact']}) at "
            + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            for violation in results["violations"]
            if violation["impact"] in BLOCKING]


RUNS = [*((email, "phone") for email, *_ in DEMO_USERS if email != "admin2@demo.example"),
        ("coordinator@demo.example", "desk")]


@pytest.mark.parametrize("email, screen", RUNS)
def test_no_page_a_role_reaches_has_a_serious_accessibility_problem(browser, live_server, record_pages, email,
                                                                     screen):
    context = browser.new_context(**(PHONE if screen == "phone" else DESK))
    page = context.new_page()
    try:
        sign_in(page, live_server, db.session.scalar(select(User).where(User.email == email)),
                password=DEMO_PASSWORD)
        navigation = page.eval_on_selector_all("#site-nav a[href]", "links => links.map(a => a.getAttribute('href'))")
        assert navigation, "no navigation"
        found, checked = [], []
        for url in dict.fromkeys(["/", *navigation, *record_pages]):
            response = page.goto(f"{live_server}{url}")
            if response.status >= 400:  # a record this role may not open
                continue
            checked.append(url)
            found += problems_on(page, url)
        assert set(navigation) <= set(checked)
        assert found == [], f"{email}:\n" + "\n".join(found)
    finally:
        context.close()
