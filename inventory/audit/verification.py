"""Re-derive the access log's hash chain from its rows: every row follows the one before
(position and previous hash) and matches its own hash, so a row edited, removed or inserted
underneath the app shows. `flask --app inventory verify-access-log` and the nightly check
use this."""
from dataclasses import dataclass, field

from sqlalchemy import select

from inventory.audit.models import GENESIS_HASH, AccessLogEntry
from inventory.extensions import db

MAX_PROBLEMS = 50  # enough to see the shape of the damage without flooding the terminal


@dataclass
class AccessLogReport:
    rows_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def verify_access_log() -> AccessLogReport:
    report = AccessLogReport()
    previous_hash, expected_position = GENESIS_HASH, 1
    # populate_existing: judge the rows as stored now, never as this session last saw them.
    rows = db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.position)
                              .execution_options(yield_per=2000, populate_existing=True))
    for row in rows:
        report.rows_checked += 1
        if row.position != expected_position:
            report.add(f"Access log row {row.id} is at chain position {row.position}, expected {expected_position}: "
                       "a row is missing or was inserted out of order.")
        if row.previous_hash != previous_hash:
            report.add(f"Access log row {row.id} does not follow the row before it (previous hash differs): "
                       "an earlier row was removed or altered.")
        if row.compute_hash() != row.hash:
            report.add(f"Access log row {row.id} does not match its own hash: its content was changed.")
        previous_hash, expected_position = row.hash, row.position + 1
    return report
