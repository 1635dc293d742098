"""Re-derive the access log's hash chain from its rows: every row follows the one before
(position and previous hash) and matches its own hash, so a row edited, removed or inserted
underneath the app shows. `flask --app inventory verify-access-log` and the nightly check
use this."""
from dataclasses import dataclass, field

from inventory.audit.models import AccessLogEntry
from inventory.hash_chain import walk_chain

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
    report.rows_checked = walk_chain(AccessLogEntry, order_by=AccessLogEntry.position, noun="Access log row",
                                     word="row", report=report.add)
    return report
