"""verify-ledger walks the chain from where the last passing check ended; --full (and the
nightly job once a week) walks all of it. The record of each pass is append-only."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from inventory import clock
from inventory.budget import ledger
from inventory.budget.models import LedgerVerification
from inventory.budget.nightly import verify_ledger_job
from inventory.extensions import db
from tests.integration.test_ledger_verification import append_only_guard_disabled

pytestmark = pytest.mark.usefixtures("made_up_sources")
NIGHT = datetime(2026, 5, 12, 2, 30, tzinfo=UTC)


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def period(build, finance):
    period = build.budget_period(allocated_pence=50_000, actor=finance)
    db.session.commit()
    return period


def commit_money(finance, pence=1_000, times=1):
    for _ in range(times):
        ledger.commit(pence, on=clock.today(), actor=finance, memo="Alarm", source_type="request", source_id=1)
    db.session.commit()


def test_a_second_check_walks_only_the_entries_added_since_the_first(app, period, finance, runner):
    first = runner.invoke(args=["verify-ledger"])
    assert first.exit_code == 0, first.output
    assert "Ledger verified (full): 1 entries" in first.output
    commit_money(finance, times=2)

    second = runner.invoke(args=["verify-ledger"])

    assert second.exit_code == 0, second.output
    assert "Ledger verified (incremental from entry 1): 2 entries in an unbroken chain" in second.output
    rows = db.session.scalars(select(LedgerVerification).order_by(LedgerVerification.id)).all()
    assert [(row.up_to_position, row.entries_checked, row.full) for row in rows] == [(1, 1, True), (3, 2, False)]


def test_incremental_reads_only_the_new_entries_however_long_the_ledger(app, period, finance, runner):
    commit_money(finance, times=6)
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    commit_money(finance, times=2)

    result = runner.invoke(args=["verify-ledger"])

    assert result.exit_code == 0, result.output
    assert "incremental from entry 7): 2 entries" in result.output
    # walk_chain counts the rows its query returned: 2 of the ledger's 9.


def test_tampering_with_an_entry_added_since_the_checkpoint_is_caught(app, period, finance, runner):
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    commit_money(finance, times=2)
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET memo = 'Moved' WHERE position = 3"))
        db.session.commit()
        result = runner.invoke(args=["verify-ledger"])

    assert result.exit_code != 0
    assert "does not match its own hash" in result.output
    assert "incremental from entry 1" in result.output
    assert db.session.scalar(select(LedgerVerification.up_to_position).order_by(LedgerVerification.id.desc())) == 1


def test_tampering_before_the_checkpoint_is_missed_by_incremental_and_caught_by_full(app, period, finance, runner):
    """The documented limit: an older entry whose hashed text changed (its hash left as it
    was) is not re-read by an incremental check; --full reads it."""
    commit_money(finance, times=2)
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET memo = 'Moved' WHERE position = 2"))
        db.session.commit()
        incremental = runner.invoke(args=["verify-ledger"])
        full = runner.invoke(args=["verify-ledger", "--full"])

    assert incremental.exit_code == 0, incremental.output
    assert full.exit_code != 0
    assert "does not match its own hash" in full.output


def test_an_entry_at_the_checkpoint_changed_or_gone_fails_incremental(app, period, finance, runner):
    commit_money(finance, times=2)
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET hash = 'x' WHERE position = 3"))
        db.session.commit()
        result = runner.invoke(args=["verify-ledger"])

    assert result.exit_code != 0
    assert "chain position 3 no longer has the hash" in result.output


@pytest.mark.parametrize("statement", ["UPDATE ledger_verifications SET up_to_position = 99",
                                       "DELETE FROM ledger_verifications"])
def test_the_database_refuses_to_rewrite_a_recorded_check(app, period, runner, statement):
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))


def test_the_nightly_job_walks_everything_once_the_last_full_walk_is_a_week_old(app, period, finance):
    def night(days):
        verify_ledger_job(NIGHT + timedelta(days=days))
        return db.session.scalars(select(LedgerVerification).order_by(LedgerVerification.id.desc())).first()

    assert night(0).full
    commit_money(finance)
    assert (night(1).full, night(6).full) == (False, False)
    assert night(7).full
    assert not night(8).full
