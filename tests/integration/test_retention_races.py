"""The retention job and a coordinator anonymising the same case at once: one erases it,
the other is told it is already anonymised, and the audit log has one event."""
import pytest
from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.audit.models import AuditEvent, AuditEventKind
from inventory.cases.models import AnonymisationReason, Case
from inventory.extensions import db
from inventory.privacy.operations import anonymise_case
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres_only


def test_anonymising_the_same_case_twice_at_once_erases_it_once(app, build):
    case_id, coordinator_id = build.case().id, build.user(roles=["coordinator"]).id

    def by_hand():
        anonymise_case(db.session.get(Case, case_id), reason=AnonymisationReason.SAFETY,
                       actor=db.session.get(User, coordinator_id))

    def by_the_job():
        anonymise_case(db.session.get(Case, case_id), reason=AnonymisationReason.REFERRAL_NOT_TAKEN_UP)

    assert sorted(run_at_once(app, [by_hand, by_the_job])) == ["case_anonymised", "ok"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == AuditEventKind.CASE_ANONYMISED)) == 1
