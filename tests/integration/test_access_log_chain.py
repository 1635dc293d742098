"""The access log is hash-chained: a row edited, removed or inserted underneath the app is
found by verify-access-log and by the nightly check."""
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from inventory.audit.models import AccessLogEntry
from inventory.hash_chain import GENESIS_HASH
from inventory.audit.operations import record_access
from inventory.audit.verification import verify_access_log
from inventory.budget.nightly import verify_ledger_job
from inventory.extensions import db
from tests.concurrency import run_at_once
from tests.conftest import ENGINE, make_app
from tests.integration.test_migrations import empty_database_url  # noqa: F401  (a fixture)


def reveal(user, case_id: int) -> AccessLogEntry:
    entry = record_access(user, case_id=case_id, case_reference=f"NS-2026-{case_id:04d}", what="address",
                          reason="test")
    db.session.commit()
    return entry


@contextmanager
def triggers_off():
    """Change rows underneath the app, as someone with the database's keys could."""
    if ENGINE == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        yield
    else:
        for action in ("update", "delete"):
            db.session.execute(text(f"DROP TRIGGER access_log_no_{action}"))
        yield
    db.session.commit()


def test_each_row_follows_the_one_before(build):
    user = build.user(roles=["coordinator"])
    rows = [reveal(user, n) for n in (1, 2, 1)]
    assert [r.position for r in rows] == [1, 2, 3]
    assert rows[0].previous_hash == GENESIS_HASH and rows[1].previous_hash == rows[0].hash
    report = verify_access_log()
    assert report.ok and report.rows_checked == 3


def test_a_row_edited_underneath_is_found(build, runner):
    user = build.user(roles=["coordinator"])
    rows = [reveal(user, n) for n in (1, 2, 3)]
    with triggers_off():
        db.session.execute(text("UPDATE access_log SET case_id = 99 WHERE id = :id"), {"id": rows[1].id})
    report = verify_access_log()
    assert report.problems == [f"Access log row {rows[1].id} does not match its own hash: its content was changed."]
    result = runner.invoke(args=["verify-access-log"])
    assert result.exit_code == 1 and "does not match its own hash" in result.output


def test_a_row_removed_underneath_is_found(build):
    user = build.user(roles=["coordinator"])
    rows = [reveal(user, n) for n in (1, 2, 3)]
    with triggers_off():
        db.session.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": rows[1].id})
    problems = verify_access_log().problems
    assert any("at chain position 3, expected 2" in p for p in problems)
    assert any("previous hash differs" in p for p in problems)


def test_a_rehashed_row_still_breaks_the_next_link(build):
    user = build.user(roles=["coordinator"])
    rows = [reveal(user, n) for n in (1, 2, 3)]
    forged = db.session.get(AccessLogEntry, rows[1].id)
    db.session.expunge(forged)
    forged.case_id = 99
    with triggers_off():
        db.session.execute(text("UPDATE access_log SET case_id = 99, hash = :hash WHERE id = :id"),
                           {"hash": forged.compute_hash(), "id": rows[1].id})
    assert [p for p in verify_access_log().problems] == [
        f"Access log row {rows[2].id} does not follow the row before it (previous hash differs): "
        "an earlier row was removed or altered."]


def test_a_sound_log_verifies_from_the_command_line(build, runner):
    reveal(build.user(roles=["coordinator"]), 1)
    result = runner.invoke(args=["verify-access-log"])
    assert result.exit_code == 0 and "1 rows in an unbroken chain" in result.output


def test_the_nightly_check_tells_admins_of_a_broken_chain(app, build):
    user = build.user(roles=["coordinator"])
    rows = [reveal(user, n) for n in (1, 2)]
    assert verify_ledger_job(datetime.now(UTC)).counts["access_log_problems"] == 0
    with triggers_off():
        db.session.execute(text("UPDATE access_log SET reason = 'nothing to see' WHERE id = :id"), {"id": rows[0].id})
    outcome = verify_ledger_job(datetime.now(UTC))
    assert outcome.counts["access_log_rows_checked"] == 2 and outcome.counts["access_log_problems"] == 1
    (notice,) = [n for n in outcome.notices if n.kind == "access_log_verification_failed"]
    assert notice.roles == ("admin",) and "verify-access-log" in notice.message


def test_the_migration_chains_the_rows_written_before_it(empty_database_url):  # noqa: F811
    from tests.support import Builders

    app = make_app(empty_database_url)
    with app.app_context():
        # A user and a case made by today's models, then the schema taken back to just before
        # the chain, where the older rows are written.
        upgrade()
        build = Builders()
        user = build.user(roles=["coordinator"])
        case = build.case()
        user_id, case_id_known, reference = user.id, case.id, case.reference
        db.session.commit()
        db.session.remove()
        downgrade(revision="0023")
        for case_id in (case_id_known, 12345):  # a case that exists, and one that does not
            db.session.execute(text(
                "INSERT INTO access_log (occurred_at, user_id, case_id, what, reason) "
                "VALUES (:at, :user_id, :case_id, 'address', 'before the chain')"),
                {"at": datetime(2026, 5, 1, 9, 30, tzinfo=UTC).isoformat(sep=" "), "user_id": user_id,
                 "case_id": case_id})
        db.session.commit()
        db.session.remove()
        upgrade()
        report = verify_access_log()
        assert report.ok and report.rows_checked == 2
        rows = db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.position)).all()
        assert [r.case_reference for r in rows] == [reference, None]
        from inventory.accounts.models import User
        reveal(db.session.get(User, user_id), case_id_known)
        assert verify_access_log().rows_checked == 3 and verify_access_log().ok
        db.session.remove()
        downgrade(revision="0020")
        upgrade()
        db.engine.dispose()


@pytest.mark.postgres_only
def test_concurrent_reveals_keep_one_unbroken_chain(app, build):
    users = [build.user(roles=["coordinator"]) for _ in range(6)]
    user_ids = [u.id for u in users]
    db.session.remove()

    def reveal_as(user_id, case_id):
        from inventory.accounts.models import User
        record_access(db.session.get(User, user_id), case_id=case_id, case_reference=f"NS-2026-{case_id:04d}",
                      what="address", reason="race")

    outcomes = run_at_once(app, [lambda u=u, n=n: reveal_as(u, n) for n, u in enumerate(user_ids * 2, start=1)])
    assert outcomes == ["ok"] * 12
    report = verify_access_log()
    assert report.ok and report.rows_checked == 12


@pytest.mark.postgres_only
def test_concurrent_reveals_by_one_user_never_pass_the_limit(app, build):
    app.config["REVEAL_RATE_LIMIT"] = 3
    user_id = build.user(roles=["coordinator"]).id
    db.session.remove()

    def reveal_case(case_id):
        from inventory.accounts.models import User
        record_access(db.session.get(User, user_id), case_id=case_id, case_reference=f"NS-2026-{case_id:04d}",
                      what="address", reason="race")

    outcomes = run_at_once(app, [lambda n=n: reveal_case(n) for n in range(1, 9)])
    assert sorted(outcomes) == ["ok"] * 3 + ["throttled"] * 5
