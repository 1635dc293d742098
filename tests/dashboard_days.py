"""The day the dashboard tests run on (a Wednesday), shared by the query and page tests."""
from datetime import UTC, date, datetime, time

import pytest

from inventory import clock

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def wednesday(app):
    with clock.frozen_at(NOW):
        yield


def on(day: date):
    return clock.frozen_at(datetime.combine(day, time(10), tzinfo=UTC))
