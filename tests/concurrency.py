"""Races on real PostgreSQL connections: several attempts released at the same moment."""
import threading

from inventory.errors import DomainError
from inventory.extensions import db


def run_at_once(app, attempts) -> list[str]:
    """Run each attempt (a callable without arguments) in its own thread, app context and
    database connection, all released together; an attempt that returns is committed.

    Returns, in the attempts' order, "ok" or the code of the DomainError each raised.
    """
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str | None] = [None] * len(attempts)

    def worker(n, attempt):
        with app.app_context():
            try:
                barrier.wait()
                attempt()
                db.session.commit()
                outcomes[n] = "ok"
            except DomainError as error:
                db.session.rollback()
                outcomes[n] = error.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n, attempt)) for n, attempt in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert None not in outcomes, f"an attempt did not finish: {outcomes}"
    return outcomes
