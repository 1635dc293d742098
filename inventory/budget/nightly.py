"""The nightly ledger check, a scheduled job: verify the ledger (verification.py) and, where
a checkpoint folder is configured, check it against the latest signed checkpoint there and
anchor the head as it is now in a new one (checkpoint.py). It verifies the access log's hash
chain too (inventory/audit/verification.py): the two chained logs are checked together."""
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app

from inventory.audit.verification import verify_access_log
from inventory.budget import checkpoint as checkpoints
from inventory.budget.verification import MAX_PROBLEMS, last_verification, record_verification, verify_ledger
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role

LEDGER_PAGE = "/budget/ledger"
ACCESS_LOG_PAGE = "/admin/access-log"
CHECKPOINT_NAMES = "ledger-*.json"  # as the cron script in docs/deployment.md names them too


def verify_ledger_job(now: datetime) -> JobOutcome:
    """Verify the ledger (and the access log's chain); if either fails, those who deal with it
    (finance and admins; admins) are told. With LEDGER_CHECKPOINT_DIR
    and LEDGER_CHECKPOINT_KEY set, also check the latest checkpoint in that folder and, when
    the ledger is sound and has moved on since, write a new one there. The chain is walked
    from the last passing check, or whole once the last full walk is LEDGER_FULL_CHECK_DAYS old."""
    folder = checkpoint_folder()
    latest = latest_checkpoint(folder) if folder is not None else None
    # A damaged file is read as it is: verification then says it is not a checkpoint.
    report = verify_ledger(latest.read_text(encoding="utf-8", errors="replace") if latest else None,
                           full=full_check_due(now))
    if report.ok:
        record_verification(report, at=now)
    written = 0
    if folder is not None and report.ok:
        document = checkpoints.take(now)
        anchored = report.checkpoint or {}
        if (document["head_position"], document["head_hash"]) != (anchored.get("head_position"),
                                                                   anchored.get("head_hash")):
            _write(folder / f"ledger-{now.astimezone(UTC):%Y-%m-%dT%H%M%SZ}.json", checkpoints.dumps(document))
            written = 1
    access_log = verify_access_log()
    outcome = JobOutcome(counts={
        "entries_checked": report.entries_checked,
        "problems": len(report.problems),
        "checkpoints_checked": int(latest is not None),
        "checkpoints_written": written,
        "access_log_rows_checked": access_log.rows_checked,
        "access_log_problems": len(access_log.problems),
    })
    if not access_log.ok:
        outcome.notices.append(Notice(
            kind="access_log_verification_failed", subject="access_log", link=ACCESS_LOG_PAGE,
            message=f"The nightly check found the access log's hash chain broken ({_problems(access_log.problems)}): "
                    "run verify-access-log on the server to see each.",
            roles=(Role.ADMIN.value,)))
    if not report.ok:
        outcome.notices.append(Notice(
            kind="ledger_verification_failed", subject="ledger", link=LEDGER_PAGE,
            message=f"The nightly ledger check found {_problems(report.problems)}: run verify-ledger on the server "
                    "to see each.",
            roles=(Role.FINANCE.value, Role.ADMIN.value)))
    return outcome


def full_check_due(now: datetime) -> bool:
    """True when no full walk of the chain has passed within LEDGER_FULL_CHECK_DAYS of `now`."""
    last_full = last_verification(full=True)
    days = current_app.config.get("LEDGER_FULL_CHECK_DAYS", 7)
    return last_full is None or last_full.checked_at <= now - timedelta(days=days)


def _problems(problems: list[str]) -> str:
    count = len(problems)
    return f"{count} or more problems" if count >= MAX_PROBLEMS else f"{count} problem{'s' if count > 1 else ''}"


def checkpoint_folder() -> Path | None:
    """The configured folder, created if need be; None unless both it and the key are set."""
    folder, key = current_app.config.get("LEDGER_CHECKPOINT_DIR"), current_app.config.get("LEDGER_CHECKPOINT_KEY")
    if not folder:
        return None
    if not key:
        current_app.logger.warning("LEDGER_CHECKPOINT_DIR is set but LEDGER_CHECKPOINT_KEY is not: "
                                   "the nightly ledger check takes and checks no checkpoint.")
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint in the folder: names carry their date, so the last in name order."""
    names = sorted(path for path in folder.glob(CHECKPOINT_NAMES) if path.is_file())
    return names[-1] if names else None


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # never a half-written checkpoint under the real name
