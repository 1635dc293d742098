"""The queue's transparent priority score (DESIGN.md "Priority").

score today = risk points + need-flag points + manual adjustment + w × days waiting.

So that the database can order 50,000 open requests by an index, aging is folded into one
stored number: w × days waiting = w × today − w × submitted day, and w × today is the same
for every row at any moment. Each request stores

    priority_key = risk points + flag points + manual adjustment − w × submitted day number

and the queue is ORDER BY priority_key DESC; the score shown is priority_key + w × today.
Keys are recomputed when a case's risk or flags change, and by `recompute-priorities`
after the weights change.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from inventory.cases.models import NEED_FLAGS, Case, RiskLevel
from inventory.extensions import db
from inventory.requests.models import EDITABLE_STATES, EquipmentRequest


@dataclass(frozen=True)
class ScorePart:
    label: str
    points: int


@dataclass(frozen=True)
class Targets:
    decide_by: date
    install_by: date


def weights() -> dict[str, int]:
    return current_app.config["PRIORITY_WEIGHTS"]


def per_day_weight() -> int:
    return weights()["per_day_waiting"]


def need_parts(case: Case) -> list[ScorePart]:
    """The points a case's risk level and need flags earn, part by part."""
    w = weights()
    parts = [ScorePart(f"{RiskLevel(case.risk_level).label} risk", w[f"risk_{case.risk_level}"])]
    parts += [ScorePart(flag.label, w[f"flag_{flag.key}"]) for flag in NEED_FLAGS if getattr(case, flag.key)]
    return parts


def need_points(case: Case) -> int:
    return sum(part.points for part in need_parts(case))


def priority_key(*, need: int, adjustment: int, submitted_on: date) -> int:
    return need + adjustment - per_day_weight() * submitted_on.toordinal()


def score_on(key: int, day: date) -> int:
    """The score a request with this key has on `day` (the same for every row's ordering)."""
    return key + per_day_weight() * day.toordinal()


def add_working_days(start: date, days: int) -> date:
    """`days` Monday-to-Friday days after `start` (bank holidays are not known here)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def targets_for(risk_level: str, submitted_on: date) -> Targets:
    target = current_app.config["REQUEST_TARGETS"][risk_level]
    if target["working_days"]:
        decide_by = add_working_days(submitted_on, target["decide_within"])
    else:
        decide_by = submitted_on + timedelta(days=target["decide_within"])
    return Targets(decide_by=decide_by, install_by=submitted_on + timedelta(days=target["install_within"]))


def rescore(request: EquipmentRequest) -> None:
    """Bring a request's stored points, key and targets in line with its case and the weights."""
    request.need_points = need_points(request.case)
    request.priority_key = priority_key(need=request.need_points, adjustment=request.manual_adjustment,
                                        submitted_on=request.submitted_on)
    targets = targets_for(request.case.risk_level, request.submitted_on)
    request.decide_by, request.install_by = targets.decide_by, targets.install_by


def rescore_open_requests_for_case(case: Case) -> None:
    for request in db.session.scalars(select(EquipmentRequest).where(
            EquipmentRequest.case_id == case.id, EquipmentRequest.state.in_(EDITABLE_STATES))):
        rescore(request)
