"""Re-derive the access log's hash chain from its rows: every row follows the one before
(position and previous hash) and matches its own hash, so a row edited, removed or inserted
underneath the app shows. `flask --app inventory verify-access-log` and the nightly check
use this."""
from dataclasses import dataclass

from inventory.audit.models import AccessLogEntry
from inventory.hash_chain import Problems, walk_chain


@dataclass
class AccessLogReport(Problems):
    rows_checked: int = 0


def verify_access_log() -> AccessLogReport:
    report = AccessLogReport()
    report.rows_checked = walk_chain(AccessLogEntry, order_by=AccessLogEntry.position, noun="Access log row",
                                     word="row", report=report.add)
    return report
