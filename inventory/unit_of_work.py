"""The one commit point of a web request.

Services change state and flush; they never commit. When a page or API handler has
answered a write request (POST, PUT, PATCH, DELETE), `SafeHoldFlask.dispatch_request`
commits if the answer is below 400 and rolls back otherwise. A handler that shows a
refusal itself (a form with its errors, a flash and redirect) calls `undo()` first, so
the refused use case leaves nothing behind whatever status the page is served with; one
whose refusal must be recorded (a failed sign-in) calls `keep()`.

The single exception is `inventory.api.idempotency`, which must commit the stored answer
together with the use case, and so commits itself.

Reads (GET, HEAD) do not commit, and leave the session as they found it: a page that must
record something (a reveal of personal details) is a POST. The one read that records is the
API's `GET /api/v1/cases/{id}`, whose personal fields the fixed API contract returns on a
GET; it is marked `records_the_read` (so, like a write, it takes the write lock before it
reads anything and waits for it), logs the view and calls `keep()`. When an API token was
last used is recorded apart, after the request (inventory.accounts.token_use).
"""
from flask import Flask, Response, g, request

from inventory.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def undo() -> None:
    """Roll back what this request has changed so far (a refused use case), so that the
    page showing the refusal commits nothing of it."""
    db.session.rollback()


def keep() -> None:
    """Commit this request's changes although it would not be committed: a refusal that is
    itself a fact to record (a failed sign-in attempt counts towards the lockout), or a read
    that must be recorded (the API's GET of a case with its personal details, which the
    contract makes a GET, writes the access log)."""
    g.unit_of_work_keep = True


def records_the_read(view):
    """Mark a read view whose answer must be recorded before it is given (personal data
    shown on a GET must not be shown unlogged): its request takes the database's write lock
    up front and waits for it as a write does, rather than read first and then fail to
    write on a busy database. The view calls `keep()` once it has recorded something."""
    view.records_the_read = True
    return view


def keep_refusal(record) -> None:
    """A refusal raised as an error whose record must stay (a reveal beyond the rate: the
    admins are told): roll back what the request changed, call `record()` to write what is
    to be kept, and commit that alone. For the error handler that answers the refusal."""
    db.session.rollback()
    record()
    db.session.commit()


def finish(response: Response) -> Response:
    """Commit the request's changes if it is a write answered below 400, or one to `keep`;
    roll back any other write; leave a read alone."""
    if g.get("unit_of_work_keep"):
        db.session.commit()
    elif request.method not in WRITE_METHODS:
        return response
    elif response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


class SafeHoldFlask(Flask):
    def dispatch_request(self):
        # Committing here, inside Flask's error handling, means a failed commit reaches the
        # same error handlers as any other failure (never a half-sent success).
        return finish(self.make_response(super().dispatch_request()))
