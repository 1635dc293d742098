"""The job that tells coordinators which waiting requests are past their decision target
(`REQUEST_TARGETS` by risk level, the queue's `overdue` filter): one notice per risk level
that has any, linking to the queue filtered to those requests."""
from datetime import datetime

from sqlalchemy import func, select

from inventory.cases.models import Case, RiskLevel
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role
from inventory.requests.models import EquipmentRequest, RequestState
from inventory.requests.queue import past_decision_target

QUEUE_PAGE = "/queue"  # requests.queue


def requests_overdue(now: datetime) -> JobOutcome:
    """Waiting requests past their decision target on `now`'s date, counted per risk level in
    one statement; a notice to coordinators for each level with any."""
    counts = dict(db.session.execute(
        select(Case.risk_level, func.count()).select_from(EquipmentRequest).join(EquipmentRequest.case)
        .where(EquipmentRequest.state == RequestState.SUBMITTED, past_decision_target(now.date()))
        .group_by(Case.risk_level)).all())
    notices = []
    for level in reversed(list(RiskLevel)):  # high first
        count = counts.get(str(level), 0)
        if count:
            notices.append(Notice(
                kind="requests_overdue", subject=f"risk:{level}",
                message=(f"{count} {level.label.lower()}-risk request{' is' if count == 1 else 's are'} "
                         f"past the target for a decision."),
                link=f"{QUEUE_PAGE}?overdue=1&risk_level={level}", roles=(str(Role.COORDINATOR),)))
    return JobOutcome(counts={f"overdue_{level}": counts.get(str(level), 0) for level in RiskLevel},
                      notices=notices)
