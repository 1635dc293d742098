"""The nightly ledger check, a scheduled job: verify the ledger (verification.py) and, where
a checkpoint folder is configured, check it against the latest signed checkpoint there and
anchor the head as it is now in a new one (checkpoint.py)."""
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from inventory.budget import checkpoint as checkpoints
from inventory.budget.verification import MAX_PROBLEMS, verify_ledger
from inventory.notices import JobOutcome, Notice
from inventory.permissions import Role

LEDGER_PAGE = "/budget/ledger"
CHECKPOINT_NAMES = "ledger-*.json"  # as the cron script in docs/deployment.md names them too


def verify_ledger_job(now: datetime) -> JobOutcome:
    """Verify the ledger; if it fails, finance and admins are told. With LEDGER_CHECKPOINT_DIR
    and LEDGER_CHECKPOINT_KEY set, also check the latest checkpoint in that folder and, when
    the ledger is sound and has moved on since, write a new one there."""
    folder = checkpoint_folder()
    latest = latest_checkpoint(folder) if folder is not None else None
    # A damaged file is read as it is: verification then says it is not a checkpoint.
    report = verify_ledger(latest.read_text(encoding="utf-8", errors="replace") if latest else None)
    written = 0
    if folder is not None and report.ok:
        document = checkpoints.take(now)
        anchored = report.checkpoint or {}
        if (document["head_position"], document["head_hash"]) != (anchored.get("head_position"),
                                                                   anchored.get("head_hash")):
            _write(folder / f"ledger-{now.astimezone(UTC):%Y-%m-%dT%H%M%SZ}.json", checkpoints.dumps(document))
            written = 1
    outcome = JobOutcome(counts={
        "entries_checked": report.entries_checked,
        "problems": len(report.problems),
        "checkpoints_checked": int(latest is not None),
        "checkpoints_written": written,
    })
    if not report.ok:
        count = len(report.problems)
        many = f"{count} or more problems" if count >= MAX_PROBLEMS else f"{count} problem{'s' if count > 1 else ''}"
        outcome.notices.append(Notice(
            kind="ledger_verification_failed", subject="ledger", link=LEDGER_PAGE,
            message=f"The nightly ledger check found {many}: run verify-ledger on the server to see each.",
            roles=(Role.FINANCE.value, Role.ADMIN.value)))
    return outcome


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
