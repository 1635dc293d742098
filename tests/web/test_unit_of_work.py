"""The unit of work: a write request commits in one place, after its handler answers below
400, and rolls back otherwise; reads never commit."""
import pytest
from flask import Blueprint, jsonify
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from inventory.accounts.models import Organisation
from inventory.errors import Conflict
from inventory.extensions import db
from inventory.permissions import public
from inventory.unit_of_work import keep, undo


def _add_partner(name: str) -> None:
    db.session.add(Organisation(name=name, kind="partner", case_reference_prefix=name[:6].upper()))
    db.session.flush()


@pytest.fixture
def probe(app):
    """A few routes that each write one organisation, then answer in a different way."""
    bp = Blueprint("uow_probe", __name__, url_prefix="/api/uow-probe")

    def route(rule, methods=("POST",)):
        def register(view):
            bp.add_url_rule(rule, view.__name__, public(view), methods=list(methods))
            return view
        return register

    @route("/created")
    def created():
        _add_partner("Created")
        return jsonify({}), 201

    @route("/refused")
    def refused():
        _add_partner("Refused")
        return jsonify({}), 409

    @route("/raises")
    def raises():
        _add_partner("Raised")
        raise Conflict("Not now.", code="not_now")

    @route("/undone")
    def undone():
        _add_partner("Undone")
        undo()
        return "Shown with its errors", 200

    @route("/kept")
    def kept():
        _add_partner("Kept")
        keep()
        return jsonify({}), 401

    @route("/read", methods=("GET",))
    def read():
        _add_partner("Read")
        return jsonify({}), 200

    app.register_blueprint(bp)
    return app.test_client()


def _names() -> set[str]:
    return set(db.session.scalars(select(Organisation.name)))


@pytest.mark.parametrize(("path", "method", "status", "kept"), [
    ("/api/uow-probe/created", "post", 201, True),
    ("/api/uow-probe/refused", "post", 409, False),
    ("/api/uow-probe/raises", "post", 409, False),
    ("/api/uow-probe/undone", "post", 200, False),
    ("/api/uow-probe/kept", "post", 401, True),
    ("/api/uow-probe/read", "get", 200, False),
])
def test_a_request_commits_only_a_write_answered_below_400(probe, path, method, status, kept):
    before = _names()
    response = getattr(probe, method)(path)
    assert response.status_code == status
    assert (len(_names() - before) == 1) is kept


def test_a_commit_that_fails_reaches_the_error_handlers_and_keeps_nothing(probe):
    def refuse(_session):
        raise Conflict("The database said no.", code="refused_at_commit")

    event.listen(Session, "before_commit", refuse)
    try:
        response = probe.post("/api/uow-probe/created")
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "refused_at_commit"
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "Created")) == 0
