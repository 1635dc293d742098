"""Domain errors, and how they reach people (HTML pages) and programs (JSON).

Services raise a `DomainError` subclass; the boundary rolls back and turns it into a
response. Each error carries a stable snake_case `code` (the API's `error.code`), a message
for people and an HTTP status.
"""
from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 409

    def __init__(self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    """Input a person can fix; `fields` names each bad field with its message."""

    code = "invalid_input"
    status = 422

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **kwargs):
        details = kwargs.pop("details", None) or {}
        if fields:
            details = {**details, "fields": fields}
        super().__init__(message, details=details, **kwargs)
        self.fields = fields or {}


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    """Not there, or not visible to you: the two are deliberately indistinguishable."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The record's state does not allow this (already decided, item not available, ...)."""

    code = "conflict"
    status = 409
