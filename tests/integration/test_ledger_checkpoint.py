"""A signed checkpoint kept outside the database catches what the hash chain alone cannot:
whoever owns the database removing the newest entries, or rewriting an entry and re-hashing
everything after it, with the balance rows fixed to match."""
import json

import pytest
from sqlalchemy import select, text

from inventory.budget import ledger
from inventory.budget.models import LedgerEntry
from inventory.hash_chain import GENESIS_HASH
from inventory.budget.queries import bucket_totals
from inventory.budget.verification import verify_ledger
from inventory.extensions import db
from tests.integration.test_ledger_verification import append_only_guard_disabled

KEY = "a-test-checkpoint-key-of-enough-length-0123456789"


@pytest.fixture
def app_overrides():
    return {"LEDGER_CHECKPOINT_KEY": KEY}


@pytest.fixture
def finance(build):
    return build.user(roles=["finance"])


@pytest.fixture
def period(build, finance):
    period = build.budget_period(allocated_pence=50_000, actor=finance)
    build.direct_purchase(gross_pence=4_500, actor=finance)
    ledger.adjust(-350, on=period.starts_on, actor=finance, reason="Card fee")
    db.session.commit()
    return period


@pytest.fixture
def checkpoint(runner, period, tmp_path):
    path = tmp_path / "checkpoint.json"
    result = runner.invoke(args=["ledger-checkpoint", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def verify_against(runner, path):
    return runner.invoke(args=["verify-ledger", "--checkpoint", str(path)])


def fix_the_balance_rows():
    """Make every balance row agree with the entries, as a careful intruder would."""
    for period_id, totals in bucket_totals(LedgerEntry.period_id).items():
        db.session.execute(text(
            "UPDATE budget_period_balances SET allocated_pence = :allocated_pence, committed_pence = :committed_pence,"
            " actual_pence = :actual_pence, credits_pence = :credits_pence, adjustments_pence = :adjustments_pence,"
            " entry_count = :entry_count WHERE period_id = :period_id"), {**totals, "period_id": period_id})


def rewrite_and_rehash(position: int, amount_pence: int):
    """Change one entry's amount and recompute its hash and every later one."""
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.position)).all()
    db.session.expunge_all()  # edited below as plain objects, written with plain SQL
    previous = GENESIS_HASH
    for entry in entries:
        if entry.position == position:
            entry.amount_pence = amount_pence
        entry.previous_hash = previous
        entry.hash = previous = entry.compute_hash()
        db.session.execute(text("UPDATE ledger_entries SET amount_pence = :amount, previous_hash = :previous,"
                                " hash = :hash WHERE id = :id"),
                           {"amount": entry.amount_pence, "previous": entry.previous_hash, "hash": entry.hash,
                            "id": entry.id})


def test_a_checkpoint_is_signed_json_of_the_head_and_each_periods_balances(runner, period):
    result = runner.invoke(args=["ledger-checkpoint"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    head = db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.position.desc()).limit(1))
    assert (document["entry_count"], document["head_position"], document["head_hash"]) == (3, 3, head.hash)
    assert document["periods"] == [{
        "period_id": period.id, "name": period.name,
        "allocated_pence": 50_000, "committed_pence": 0, "actual_pence": 4_500, "credits_pence": 0,
        "adjustments_pence": -350, "entry_count": 3}]
    assert len(document["signature"]) == 64 and document["created_at"]
    assert "Checkpoint of 3 entries, head at chain position 3" in result.stderr


def test_the_ledger_still_holds_its_checkpoint_after_growing(runner, period, checkpoint, finance):
    ledger.adjust(-100, on=period.starts_on, actor=finance, reason="Another fee")
    db.session.commit()
    result = verify_against(runner, checkpoint)
    assert result.exit_code == 0, result.output
    assert "still holds the checkpoint" in result.output and "3 entries up to chain position 3" in result.output


def test_a_removed_tail_with_its_balance_fixed_passes_plain_verification_but_not_the_checkpoint(
        runner, period, checkpoint):
    with append_only_guard_disabled():
        db.session.execute(text("DELETE FROM ledger_entries WHERE position = 3"))
        fix_the_balance_rows()
        db.session.commit()
        assert verify_ledger().ok
        result = verify_against(runner, checkpoint)
    assert result.exit_code == 1
    assert "The ledger holds 2 entries but the checkpoint of" in result.output
    assert "recorded 3: entries were removed" in result.output
    assert "no entry at chain position 3" in result.output


def test_a_rewritten_and_rehashed_chain_with_its_balances_fixed_passes_plain_verification_but_not_the_checkpoint(
        runner, period, checkpoint):
    with append_only_guard_disabled():
        rewrite_and_rehash(position=1, amount_pence=90_000)
        fix_the_balance_rows()
        db.session.commit()
        assert verify_ledger().ok
        result = verify_against(runner, checkpoint)
    assert result.exit_code == 1
    assert "The entry at chain position 3 does not have the hash the checkpoint of" in result.output
    assert "the chain up to it was rewritten" in result.output
    assert "allocated_pence up to chain position 3 is 90000 but the checkpoint of" in result.output


def test_an_edited_checkpoint_fails_on_its_signature(runner, period, checkpoint):
    document = json.loads(checkpoint.read_text())
    document["entry_count"] = document["head_position"] = 2  # to agree with a ledger cut short
    checkpoint.write_text(json.dumps(document))
    result = verify_against(runner, checkpoint)
    assert result.exit_code == 1
    assert "signature does not match: the file was edited or forged" in result.output


def test_a_checkpoint_checked_with_another_key_fails_on_its_signature(app, runner, period, checkpoint):
    app.config["LEDGER_CHECKPOINT_KEY"] = "another-key-another-key-another-key-0123"
    result = verify_against(runner, checkpoint)
    assert result.exit_code == 1
    assert "or it was signed with another key" in result.output


@pytest.mark.parametrize("key, message", [
    (None, "set SAFEHOLD_LEDGER_CHECKPOINT_KEY"), ("", "set SAFEHOLD_LEDGER_CHECKPOINT_KEY"),
    ("short", "at least 32 characters"), (12345678901234567890123456789012345, "at least 32 characters"),
])
def test_both_commands_refuse_clearly_without_a_usable_key(app, runner, period, checkpoint, key, message):
    app.config["LEDGER_CHECKPOINT_KEY"] = key
    for args in (["ledger-checkpoint"], ["verify-ledger", "--checkpoint", str(checkpoint)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert message in result.output


def test_a_file_that_is_not_a_checkpoint_is_reported(runner, period, tmp_path):
    missing = runner.invoke(args=["verify-ledger", "--checkpoint", str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and "Cannot check the checkpoint" in missing.output
    (tmp_path / "junk.json").write_text("not json")
    junk = runner.invoke(args=["verify-ledger", "--checkpoint", str(tmp_path / "junk.json")])
    assert junk.exit_code == 1 and "not JSON" in junk.output


def test_no_checkpoint_is_taken_of_a_ledger_that_fails_verification(runner, period, tmp_path):
    with append_only_guard_disabled():
        db.session.execute(text("UPDATE ledger_entries SET memo = 'rewritten' WHERE position = 2"))
        db.session.commit()
        result = runner.invoke(args=["ledger-checkpoint", "--output", str(tmp_path / "c.json")])
    assert result.exit_code == 1
    assert "a checkpoint now would anchor the damage" in result.output
    assert not (tmp_path / "c.json").exists()


def test_an_empty_ledger_checkpoints_and_verifies(runner, tmp_path):
    path = tmp_path / "empty.json"
    assert runner.invoke(args=["ledger-checkpoint", "--output", str(path)]).exit_code == 0
    assert json.loads(path.read_text())["head_hash"] == GENESIS_HASH
    assert verify_against(runner, path).exit_code == 0
