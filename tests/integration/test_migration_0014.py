"""Migration 0014 turns free-text budget categories into the managed list: item types and
order lines are charged to one, old entries and purchases are filed under the category
their text names, and what names none is reported."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from inventory import clock
from inventory.budget import operations as budget, queries
from inventory.budget.models import (
    BudgetCategory,
    BudgetPeriod,
    DirectPurchase,
    EntryKind,
    LedgerEntry,
    PeriodBalance,
)
from inventory.budget.verification import open_commitment_owners, verify_ledger
from inventory.catalogue.models import ItemType
from inventory.extensions import db
from inventory.procurement.models import PurchaseOrder, PurchaseOrderLine
from tests.conftest import make_app
from tests.integration.test_migrations import empty_database_url  # noqa: F401 (a fixture)
from tests.support import Builders

# What the ledger said before categories were a list: (kind, amount, category, the commitment it names)
OLD_ENTRIES = [
    ("allocation", 100_000, None, None),
    ("commitment", -6_000, "PIR lights", None),
    ("release", 2_000, "PIR lights", 2),
    ("actual", -3_000, "PIR light", None),
    ("actual", -1_500, "Misc stuff", None),
    ("actual", -2_500, "locks", None),
]


def _table(name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=db.engine)


def _old_finance_user() -> SimpleNamespace:
    """A finance user as the schema stood then (the models are of the head)."""
    now = clock.now()
    organisation_id = db.session.execute(text(
        "INSERT INTO organisations (name, kind, active, created_at) VALUES ('Lead', 'lead', true, :now) RETURNING id"),
        {"now": now}).scalar_one()
    user_id = db.session.execute(text(
        "INSERT INTO users (email, name, organisation_id, password_hash, active, created_at, password_changed_at) "
        "VALUES ('finance@example.test', 'F', :org, 'x', true, :now, :now) RETURNING id"),
        {"org": organisation_id, "now": now}).scalar_one()
    db.session.execute(text("INSERT INTO user_roles (user_id, role) VALUES (:id, 'finance')"), {"id": user_id})
    return SimpleNamespace(id=user_id)


def _old_ledger(period, finance) -> None:
    """Entries written as the app wrote them before 0014, hash chain and balance row included."""
    entries, previous = _table("ledger_entries"), "0" * 64
    balance = db.session.get(PeriodBalance, period.id)
    for position, (kind, amount, category, commitment) in enumerate(OLD_ENTRIES, start=1):
        entry = LedgerEntry(position=position, previous_hash=previous, period_id=period.id, kind=kind,
                            entry_date=clock.today(), amount_pence=amount, category=category, memo="old",
                            commitment_id=commitment, posted_at=clock.now(), posted_by_id=finance.id,
                            **({"source_type": "request", "source_id": 1} if kind == "commitment" else {}))
        entry.hash = previous = entry.compute_hash()
        db.session.execute(entries.insert().values(
            {c.name: getattr(entry, c.name) for c in entries.columns if c.name != "id"}))
        balance.apply(EntryKind(kind), amount)


def _old_catalogue_and_order(finance) -> int:
    item_types = _table("item_types")
    for name, kind, other in (("Alarm", "personal_alarm", None), ("Door chain", "other", "Door security")):
        db.session.execute(item_types.insert().values(
            name=name, category=kind, other_category=other, loaned=False, connected_device=False,
            standard_cost_pence=1_000, reorder_level=0, active=True, created_at=clock.now()))
    door_chain = db.session.scalar(text("SELECT id FROM item_types WHERE name = 'Door chain'"))
    order = PurchaseOrder(supplier=Builders().supplier(), status="draft", created_by_id=finance.id)
    db.session.add(order)
    db.session.flush()
    db.session.execute(_table("purchase_order_lines").insert().values(
        purchase_order_id=order.id, item_type_id=door_chain, quantity_ordered=1, quantity_received=0,
        unit_net_pence=1_000, unit_vat_pence=0))
    return order.id


def _old_direct_purchases(finance) -> None:
    purchases = _table("direct_purchases")
    for receipt, category in (("R-1", "Misc stuff"), ("R-2", "Locks")):
        db.session.execute(purchases.insert().values(
            supplier_name="Shop", purchased_on=clock.today(), net_pence=1_000, vat_pence=0, gross_pence=1_000,
            receipt_reference=receipt, category=category, created_at=clock.now(), created_by_id=finance.id))


def test_0014_files_old_free_text_by_name_and_reports_what_names_no_category(empty_database_url, capsys):  # noqa: F811
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0010")
        finance = _old_finance_user()
        period = budget.create_period()
        period_id = period.id
        _old_ledger(period, finance)
        order_id = _old_catalogue_and_order(finance)
        _old_direct_purchases(finance)
        db.session.commit()
        db.session.remove()
        capsys.readouterr()

        upgrade()
        output = capsys.readouterr().err
        assert ("'Misc stuff' matches no category on the list: 1 ledger entries and 1 direct purchases keep it as "
                "text only") in output
        assert "'PIR lights'" not in output and "'locks'" not in output

        names = {c.id: c.name for c in db.session.scalars(select(BudgetCategory))}
        assert set(names.values()) == {"Personal alarm", "Camera doorbell", "PIR light", "Window alarm", "Lock",
                                       "CCTV camera", "Door security", "Bank charges"}
        filed = [(e.category, names.get(e.category_id)) for e in
                 db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.position))]
        assert filed == [(None, None), ("PIR lights", "PIR light"), ("PIR lights", "PIR light"),
                         ("PIR light", "PIR light"), ("Misc stuff", None), ("locks", "Lock")]
        assert [(p.category, names.get(p.category_id)) for p in
                db.session.scalars(select(DirectPurchase).order_by(DirectPurchase.id))] == [
            ("Misc stuff", None), ("Locks", "Lock")]
        assert {t.name: t.budget_category.name for t in db.session.scalars(select(ItemType))} == {
            "Alarm": "Personal alarm", "Door chain": "Door security"}
        line = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order_id))
        assert names[line.budget_category_id] == "Door security"

        open_commitment_owners.connect(app, set)  # the old commitments name made-up requests
        assert verify_ledger().ok, verify_ledger().problems
        spend = {line.category: line.used_pence for line in queries.by_category(db.session.get(BudgetPeriod, period_id))}
        assert spend == {"PIR light": 7_000, "Lock": 2_500, "Uncategorised": 1_500}
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE ledger_entries SET category_id = NULL"))
        db.session.rollback()

        downgrade(revision="0010")
        assert "budget_categories" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        assert verify_ledger().ok
        db.session.remove()
        db.engine.dispose()
