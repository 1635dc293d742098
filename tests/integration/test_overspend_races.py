"""Resolving one overspend alert twice at once, with real threads and PostgreSQL connections."""
import time

import pytest
from sqlalchemy import func, select

from inventory import clock
from inventory.accounts.models import User
from inventory.audit.models import AuditEvent
from inventory.budget import ledger, operations as budget
from inventory.budget.models import OverspendAlert
from inventory.extensions import db
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


def test_two_resolutions_of_one_alert_at_once_one_is_refused_and_one_is_audited(app, build):
    period = build.budget_period(allocated_pence=1_000, around_today=True)
    finance = build.user(roles=["finance"])
    ledger.post_actual(1_500, on=clock.today(), actor=finance, memo="Invoice", source_type="invoice",
                       source_id=1, net_pence=1_500, vat_pence=0)
    db.session.commit()
    alert_id, finance_id = ledger.open_overspend_alert(period).id, finance.id

    def resolve(how: str):
        def attempt():
            budget.resolve_overspend(db.session.get(OverspendAlert, alert_id), actor=db.session.get(User, finance_id),
                                     resolution=how)
            time.sleep(0.2)  # a slow request: the other has read the alert before this one commits

        return attempt

    assert sorted(run_at_once(app, [resolve("Agreed"), resolve("Refunded")])) == ["already_resolved", "ok"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "overspend_resolved")) == 1
