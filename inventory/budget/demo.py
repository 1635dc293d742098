"""Fictional budget demo data: this financial year's period, its funding, some spend."""
from datetime import timedelta

from inventory import clock
from inventory.budget import ledger, operations as budget

# (days ago, supplier, net pence, VAT pence, receipt, budget category, case reference)
DEMO_PURCHASES = [
    (21, "Hilltop Hardware (demo)", 3_325, 665, "HH-10231", "Lock", "NS-2026-0007"),
    (14, "Brightway Lighting (demo)", 4_999, 1_000, "BL-55810", "PIR light", "NS-2026-0011"),
    (6, "Corner Electrical (demo)", 1_249, 250, "CE-2291", "Personal alarm", None),
]


def seed_budget_demo(finance) -> None:
    """Fund the current financial year with £15,000 and record a few purchases and an adjustment."""
    period = budget.create_period()
    ledger.allocate(period, 1_500_000, actor=finance, memo="Ringfenced allocation from the PCC (demo)",
                    on=period.starts_on)
    for days_ago, supplier, net, vat, receipt, category, case_reference in DEMO_PURCHASES:
        budget.record_direct_purchase(
            supplier_name=supplier, purchased_on=max(period.starts_on, clock.today() - timedelta(days=days_ago)),
            net_pence=net, vat_pence=vat, gross_pence=net + vat, receipt_reference=receipt, category=category,
            case_reference=case_reference, actor=finance,
        )
    ledger.adjust(-350, on=clock.today(), actor=finance, reason="Card transaction fee (demo)")
