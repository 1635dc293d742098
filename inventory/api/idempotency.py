"""Idempotency-Key for writes a phone may retry (API.md): a repeat with the same key and
body returns the first response and changes nothing; the same key with another body is a
422. The key is claimed by inserting its row at the start of the use case's transaction,
so a simultaneous duplicate waits on the unique index and then replays the stored answer.
"""
import hashlib
import json
from datetime import datetime
from functools import wraps

from flask import Response, current_app, make_response, request
from flask_login import current_user
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from inventory import clock
from inventory.database import UTCDateTime
from inventory.errors import InvalidInput
from inventory.extensions import db

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    endpoint: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)


def _request_hash() -> str:
    return hashlib.sha256(request.endpoint.encode() + b"\0" + request.get_data()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused", fields={HEADER: "Use a new key for a new request."},
        )
    response = current_app.response_class(record.response_body, status=record.response_status,
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Wrap an API write so that, sent with a key, it commits exactly once together with its
    stored answer. This is the one place besides `inventory.unit_of_work` that commits: the
    stored answer and the use case must land in the same transaction."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(*args, **kwargs)  # the request's unit of work commits it
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidInput("Idempotency-Key is too long.", fields={HEADER: f"At most {MAX_KEY_LENGTH} characters."})
        request_hash = _request_hash()
        existing = _find(key)
        if existing is not None:
            return _replay(existing, request_hash)
        record = IdempotencyRecord(user_id=current_user.id, key=key, endpoint=request.endpoint,
                                   request_hash=request_hash)
        db.session.add(record)
        try:
            db.session.flush()  # claims the key, or waits for whoever holds it
        except IntegrityError:
            db.session.rollback()
            return _replay(_find(key), request_hash)
        response = make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            # Refusals change nothing and are not remembered: a retry is judged afresh.
            db.session.rollback()
            return response
        record.response_status = response.status_code
        record.response_body = json.dumps(response.get_json(), separators=(",", ":"))
        db.session.commit()
        return response

    return wrapped


def _find(key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == current_user.id, IdempotencyRecord.key == key)
    )
