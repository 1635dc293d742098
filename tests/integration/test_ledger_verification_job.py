"""The nightly ledger check: verifies the ledger, tells finance and admins when it fails, and
with a checkpoint folder checks the latest checkpoint there and anchors the head anew."""
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from inventory.budget.nightly import verify_ledger_job
from inventory.extensions import db
from inventory.notices import JobOutcome, Notice
from tests.integration.test_ledger_verification import append_only_guard_disabled

KEY = "a-test-checkpoint-key-of-enough-length-0123456789"
NIGHT = datetime(2026, 5, 12, 2, 30, tzinfo=UTC)
NEXT_NIGHT = datetime(2026, 5, 13, 2, 30, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "checkpoints"


@pytest.fixture
def app_overrides(folder):
    return {"LEDGER_CHECKPOINT_KEY": KEY, "LEDGER_CHECKPOINT_DIR": str(folder)}


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def period(build, finance):
    period = build.budget_period(allocated_pence=50_000, actor=finance)
    build.direct_purchase(gross_pence=4_500, actor=finance)
    return period


def tamper():
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET amount_pence = -1000 WHERE kind = 'actual'"))
        db.session.commit()


SOUND_ACCESS_LOG = {"access_log_rows_checked": 0, "access_log_problems": 0}  # the job checks it too


def test_a_sound_ledger_is_counted_and_anchored_in_a_new_checkpoint_with_no_notice(app, period, folder):
    outcome = verify_ledger_job(NIGHT)

    assert outcome == JobOutcome(counts={"entries_checked": 2, "problems": 0, "checkpoints_checked": 0,
                                         "checkpoints_written": 1, **SOUND_ACCESS_LOG})
    [written] = folder.iterdir()
    assert written.name == "ledger-2026-05-12T023000Z.json"
    document = json.loads(written.read_text())
    assert (document["created_at"], document["entry_count"]) == ("2026-05-12T02:30:00+00:00", 2)


def test_the_next_night_checks_the_latest_checkpoint_and_adds_one_only_when_the_ledger_moved_on(
        app, period, folder, build, finance):
    verify_ledger_job(NIGHT)
    unchanged = verify_ledger_job(NEXT_NIGHT)
    # The chain is walked from where the last night's pass ended: nothing new to read.
    assert unchanged.counts == {"entries_checked": 0, "problems": 0, "checkpoints_checked": 1,
                                "checkpoints_written": 0, **SOUND_ACCESS_LOG}

    build.direct_purchase(gross_pence=1_200, actor=finance)
    moved_on = verify_ledger_job(NEXT_NIGHT)

    assert moved_on.counts == {"entries_checked": 1, "problems": 0, "checkpoints_checked": 1,
                               "checkpoints_written": 1, **SOUND_ACCESS_LOG}
    assert sorted(path.name for path in folder.iterdir()) == [
        "ledger-2026-05-12T023000Z.json", "ledger-2026-05-13T023000Z.json"]


def test_a_tampered_ledger_tells_finance_and_admins_how_many_problems_and_writes_no_checkpoint(
        app, period, folder):
    tamper()

    outcome = verify_ledger_job(NIGHT)

    assert outcome.counts == {"entries_checked": 2, "problems": 2, "checkpoints_checked": 0,
                              "checkpoints_written": 0, **SOUND_ACCESS_LOG}
    assert outcome.notices == [Notice(
        kind="ledger_verification_failed", subject="ledger", link="/budget/ledger",
        message="The nightly ledger check found 2 problems: run verify-ledger on the server to see each.",
        roles=("finance", "admin"))]
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_ledger_rewritten_since_the_latest_checkpoint_fails_against_it(app, period, folder):
    verify_ledger_job(NIGHT)
    with append_only_guard_disabled():
        db.session.execute(text("DELETE FROM ledger_entries WHERE kind = 'actual'"))
        db.session.execute(text("UPDATE budget_period_balances SET actual_pence = 0, entry_count = 1"))
        db.session.commit()

    outcome = verify_ledger_job(NEXT_NIGHT)

    # The balances of what is left agree; the checkpoint sees the tail gone, and so does the
    # incremental walk (the entry where last night's pass ended is gone), which then stops.
    assert outcome.counts == {"entries_checked": 0, "problems": 6, "checkpoints_checked": 1,
                              "checkpoints_written": 0, **SOUND_ACCESS_LOG}
    assert [notice.kind for notice in outcome.notices] == ["ledger_verification_failed"]


def test_a_forged_latest_checkpoint_is_a_problem(app, period, folder):
    folder.mkdir()
    (folder / "ledger-2026-05-11T023000Z.json").write_text('{"signature": "forged", "entry_count": 9}')

    outcome = verify_ledger_job(NIGHT)

    assert outcome.counts == {"entries_checked": 2, "problems": 1, "checkpoints_checked": 1,
                              "checkpoints_written": 0, **SOUND_ACCESS_LOG}
    assert outcome.notices[0].message.startswith("The nightly ledger check found 1 problem:")


def test_the_job_checks_the_ledger_without_checkpoints_when_no_key_is_set(app, period, folder):
    app.config["LEDGER_CHECKPOINT_KEY"] = None

    outcome = verify_ledger_job(NIGHT)

    assert outcome == JobOutcome(counts={"entries_checked": 2, "problems": 0, "checkpoints_checked": 0,
                                         "checkpoints_written": 0, **SOUND_ACCESS_LOG})
    assert not folder.exists()
