from datetime import date

import pytest
from flask import Flask

from config.settings import BaseConfig
from inventory.requests.priority import add_working_days, priority_key, score_on, targets_for


@pytest.fixture
def settings_app():
    app = Flask(__name__)
    app.config.update(PRIORITY_WEIGHTS=BaseConfig.PRIORITY_WEIGHTS, REQUEST_TARGETS=BaseConfig.REQUEST_TARGETS)
    with app.app_context():
        yield app


def test_the_stored_key_plus_todays_term_is_points_plus_aging(settings_app):
    submitted, today = date(2026, 11, 20), date(2026, 11, 27)
    key = priority_key(need=1160, adjustment=-50, submitted_on=submitted)
    assert score_on(key, today) == 1160 - 50 + 10 * 7


def test_ordering_by_key_is_ordering_by_score_on_any_day(settings_app):
    old_standard = priority_key(need=0, adjustment=0, submitted_on=date(2026, 10, 1))
    new_high = priority_key(need=1000, adjustment=0, submitted_on=date(2026, 11, 26))
    for day in (date(2026, 11, 26), date(2027, 1, 1)):
        assert (old_standard < new_high) == (score_on(old_standard, day) < score_on(new_high, day))


def test_all_flags_together_do_not_outweigh_one_risk_level():
    weights = BaseConfig.PRIORITY_WEIGHTS
    flags = sum(points for name, points in weights.items() if name.startswith("flag_"))
    assert flags < weights["risk_high"] - weights["risk_medium"]
    assert flags < weights["risk_medium"] - weights["risk_standard"]


@pytest.mark.parametrize("start, days, expected", [
    (date(2026, 11, 26), 1, date(2026, 11, 27)),  # Thursday -> Friday
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday -> Monday
    (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday -> Monday
    (date(2026, 11, 27), 3, date(2026, 12, 2)),
])
def test_working_days_skip_weekends(start, days, expected):
    assert add_working_days(start, days) == expected


def test_high_risk_is_decided_within_a_working_day_and_installed_within_three_days(settings_app):
    targets = targets_for("high", date(2026, 11, 27))  # a Friday
    assert targets.decide_by == date(2026, 11, 30)
    assert targets.install_by == date(2026, 11, 30)
    assert targets_for("medium", date(2026, 11, 27)).decide_by == date(2026, 12, 4)
    assert targets_for("standard", date(2026, 11, 27)).decide_by == date(2026, 12, 11)
