"""The one source of "now". Rules that depend on time (days waiting, targets, retention,
due dates) read it from here, so tests can move time with `frozen_at`."""
from contextlib import contextmanager
from datetime import UTC, date, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    return now().date()


@contextmanager
def frozen_at(moment: datetime):
    """Run a block as if it were `moment`: for tests, and for demo data dated in the past
    (never in a request: the clock is one for the whole process)."""
    global _frozen
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    previous, _frozen = _frozen, moment
    try:
        yield moment
    finally:
        _frozen = previous
