"""Idempotency-Key: a double tap, a retry after a dropped connection or a replay changes
nothing the second time and returns the first answer."""
import threading
import time

import pytest
from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import func, select

from inventory.accounts.models import ApiToken
from inventory.accounts.operations import create_api_token
from inventory.api.idempotency import idempotent
from inventory.extensions import db


@pytest.fixture
def retried_app(app):
    """An idempotent write for the tests: it creates an API token (a real row)."""
    scratch = Blueprint("scratch", __name__)

    @scratch.post("/api/v1/scratch/tokens")
    @idempotent
    def make_token():
        if not current_user.is_authenticated:
            return {"error": "sign in"}, 401
        name = (request.get_json(silent=True) or {}).get("name", "")
        if name == "refuse":
            return {"error": {"code": "refused", "message": "no", "details": {}}}, 409
        token, _ = create_api_token(current_user, name=name)
        db.session.flush()
        time.sleep(float(request.args.get("linger", 0)))  # hold the transaction open
        return {"token_id": token.id, "name": token.name}, 201

    app.register_blueprint(scratch)
    return app


@pytest.fixture
def caller(build):
    user = build.user(roles=["fitter"])
    return user, {"Authorization": f"Bearer {build.token(user)}"}


def tokens_named(name):
    return db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name == name))


def test_a_repeat_with_the_same_key_returns_the_first_answer_and_changes_nothing(retried_app, client, caller):
    _, headers = caller
    headers = {**headers, "Idempotency-Key": "scan-1"}
    first = client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=headers)
    second = client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert tokens_named("van") == 1


def test_the_same_key_with_another_body_is_refused(retried_app, client, caller):
    _, headers = caller
    headers = {**headers, "Idempotency-Key": "scan-2"}
    client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=headers)
    response = client.post("/api/v1/scratch/tokens", json={"name": "office"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert tokens_named("office") == 0


def test_keys_belong_to_their_user(retried_app, client, caller, build):
    _, headers = caller
    other = build.user(roles=["fitter"])
    other_headers = {"Authorization": f"Bearer {build.token(other)}", "Idempotency-Key": "same"}
    client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers={**headers, "Idempotency-Key": "same"})
    client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=other_headers)
    assert tokens_named("van") == 2


def test_without_a_key_every_request_counts(retried_app, client, caller):
    _, headers = caller
    client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=headers)
    client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers=headers)
    assert tokens_named("van") == 2


def test_a_refusal_is_not_remembered_so_a_retry_is_judged_afresh(retried_app, client, caller):
    _, headers = caller
    headers = {**headers, "Idempotency-Key": "scan-3"}
    assert client.post("/api/v1/scratch/tokens", json={"name": "refuse"}, headers=headers).status_code == 409
    assert client.post("/api/v1/scratch/tokens", json={"name": "refuse"}, headers=headers).status_code == 409


def test_an_overlong_key_is_refused(retried_app, client, caller):
    _, headers = caller
    response = client.post("/api/v1/scratch/tokens", json={"name": "van"}, headers={**headers, "Idempotency-Key": "k" * 201})
    assert response.status_code == 422 and tokens_named("van") == 0


@pytest.mark.postgres_only
def test_two_simultaneous_requests_with_one_key_write_once_and_answer_alike(retried_app, caller):
    _, headers = caller
    headers = {**headers, "Idempotency-Key": "double-tap"}
    answers = []
    barrier = threading.Barrier(2)

    def tap():
        browser = retried_app.test_client()
        barrier.wait()
        response = browser.post("/api/v1/scratch/tokens?linger=0.5", json={"name": "van"}, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    assert answers[0] == answers[1] and answers[0][0] == 201
    assert tokens_named("van") == 1
