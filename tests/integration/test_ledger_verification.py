"""verify-ledger: a clean ledger passes; a row altered behind the app's back fails."""
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from inventory import clock
from inventory.audit.models import AppendOnlyViolation
from inventory.budget import ledger
from inventory.budget.verification import verify_ledger
from inventory.extensions import db

# Their commitments name made-up sources (request 1, ...): no order or request stands behind them.
pytestmark = pytest.mark.usefixtures("made_up_sources")


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def entries(build, finance):
    period = build.budget_period(allocated_pence=50_000, actor=finance)
    commitment = ledger.commit(10_000, on=clock.today(), actor=finance, memo="Alarm", source_type="request",
                               source_id=1)
    ledger.post_actual(8_000, on=clock.today(), actor=finance, memo="Invoice", source_type="invoice",
                       source_id=2, net_pence=8_000, vat_pence=0, releasing=commitment)
    db.session.commit()
    return period


@contextmanager
def append_only_guard_disabled():
    """Step around the database's append-only triggers, as an intruder with SQL access would."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
        try:
            yield
        finally:
            db.session.rollback()
            db.session.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))
            db.session.commit()
    else:  # each SQLite test has its own copy of the database
        db.session.execute(text("DROP TRIGGER ledger_entries_no_update"))
        db.session.execute(text("DROP TRIGGER ledger_entries_no_delete"))
        yield


def test_a_clean_ledger_verifies(app, entries, runner):
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output
    assert "4 entries in an unbroken chain" in result.output


def test_an_amount_changed_behind_the_apps_back_fails_verification(app, entries, runner):
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET amount_pence = -1000 WHERE kind = 'actual'"))
        db.session.commit()
        result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code != 0
    assert "does not match its own hash: its content was changed" in result.output
    assert "actual_pence is 8000 but the entries give 1000" in result.output


def test_a_deleted_entry_breaks_the_chain(app, entries):
    with append_only_guard_disabled():
        db.session.execute(text("DELETE FROM ledger_entries WHERE kind = 'allocation'"))
        db.session.commit()
        report = verify_ledger()
    assert not report.ok
    assert any("an earlier entry was removed or altered" in p for p in report.problems)
    assert any("allocated_pence is 50000 but the entries give 0" in p for p in report.problems)


def test_the_database_refuses_to_update_or_delete_entries(app, entries):
    for statement in ("UPDATE ledger_entries SET memo = 'x'", "DELETE FROM ledger_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_the_app_refuses_to_flush_a_changed_entry(app, entries):
    from inventory.budget.models import LedgerEntry

    entry = db.session.get(LedgerEntry, 1)
    entry.memo = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()


def test_a_walk_after_a_checked_position_reads_only_later_entries_and_still_catches_them(app, entries):
    from inventory.budget.models import LedgerEntry
    from inventory.hash_chain import walk_chain

    second = db.session.scalar(select(LedgerEntry).where(LedgerEntry.position == 2))
    problems = []
    walked = walk_chain(LedgerEntry, order_by=LedgerEntry.id, noun="Entry", word="entry", report=problems.append,
                        after=(2, second.hash))
    assert (walked, problems) == (2, [])
    walk_chain(LedgerEntry, order_by=LedgerEntry.id, noun="Entry", word="entry", report=problems.append,
               after=(2, "f" * 64))
    assert problems == ["Entry 3 does not follow the entry before it (previous hash differs): "
                        "an earlier entry was removed or altered."]
