"""Reads never fail because the database is busy: a bearer token's last use is recorded
apart (skipped if it cannot be had at once), and the API's read of a case, which must log
the view, takes the write lock before it reads and waits for it."""
import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import func, select

from inventory.accounts import operations
from inventory.audit.models import AccessLogEntry
from inventory.extensions import db
from tests.conftest import ENGINE, POSTGRES_URL

sqlite_only = pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's single write lock; PostgreSQL locks rows")


def in_threads(app, count, work) -> list:
    """Run work(n) in `count` threads, each with its own test client; returns their results."""
    results = [None] * count
    start = threading.Barrier(count)

    def worker(n):
        client = app.test_client()
        start.wait()
        results[n] = work(n, client)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert None not in results, "a request did not finish"
    return results


def sqlite_path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


@sqlite_only
def test_bearer_reads_all_succeed_while_another_connection_holds_the_write_lock(app, build):
    users = [build.user(roles=["finance"]) for _ in range(4)]
    tokens = [build.token(user) for user in users]
    holder = sqlite3.connect(sqlite_path(app), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a long import or the nightly job
    try:
        statuses = in_threads(app, 10, lambda n, client: [
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens[n % 4]}"}).status_code
            for _ in range(3)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert statuses == [[200, 200, 200]] * 10


@sqlite_only
def test_reads_of_a_case_that_log_the_view_succeed_among_concurrent_writes(app, build):
    caseworker = build.caseworker()
    case_id = build.case(caseworker=caseworker, name="Sky Imaginary").id
    reader = build.token(caseworker)
    writers = [build.token(build.user(roles=["finance"])) for _ in range(4)]

    def write_or_read(n, client):
        if n < 4:  # another user changes data (each POST a write transaction)
            return [client.post("/account/tokens", data={"name": f"writer {n}"},
                                headers={"Authorization": f"Bearer {writers[n]}"}).status_code for _ in range(8)]
        return [client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {reader}"}).status_code
                for _ in range(5)]

    statuses = in_threads(app, 12, write_or_read)
    assert statuses == [[200] * 8] * 4 + [[200] * 5] * 8
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 40


@pytest.mark.postgres_only
def test_a_lock_held_on_a_tokens_row_does_not_hold_up_requests_with_that_token(app, build):
    plain = build.token(build.user(roles=["finance"]))
    token_id = operations.api_token_for(plain).id
    db.session.commit()
    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")) as holder:
        holder.execute("SELECT 1 FROM api_tokens WHERE id = %s FOR UPDATE", (token_id,))  # held till the end
        statuses = in_threads(app, 8, lambda n, client: [
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code for _ in range(3)])
        holder.rollback()
    assert statuses == [[200, 200, 200]] * 8


@pytest.mark.postgres_only
def test_one_tokens_concurrent_requests_record_its_last_use_once(app, build):
    plain = build.token(build.user(roles=["finance"]))
    statuses = in_threads(app, 12, lambda n, client: client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code)
    assert statuses == [200] * 12
    assert operations.api_token_for(plain).last_used_at is not None
