"""The error family of the service and its RFC 9457 ``application/problem+json`` rendering.

Services raise ``OmsError`` subclasses; the app's handlers turn them (and validation and
routing errors) into problem documents with a stable machine ``code``. Nothing a client
sends may produce a 500: an unexpected exception is logged and answered as a generic 500
problem without internals.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://oms-api.dev/problems/"


class ProblemError(BaseModel):
    """One validation failure, located by a JSON pointer into the request."""

    pointer: str = Field(description="RFC 6901 JSON pointer, e.g. /body/lines/0/quantity or /query/limit")
    detail: str
    code: str = Field(description="Machine-readable reason, e.g. missing, too_short, invalid_currency")


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine-readable ``code``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(description="URI identifying the problem type")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code")
    instance: str | None = Field(None, description="The request path that failed")
    errors: list[ProblemError] | None = Field(None, description="Validation failures (422 only)")


class OmsError(Exception):
    """Base of every business and protocol error; carries what the problem document shows."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(OmsError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(OmsError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(OmsError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(OmsError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(OmsError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(OmsError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class Unprocessable(OmsError):
    status, code, title = 422, "unprocessable", "Unprocessable request"


class ValidationFailed(OmsError):
    """422 with ``errors[]``; raised by services for rules a schema cannot express."""

    status, code, title = 422, "validation_error", "Validation failed"

    def __init__(self, errors: list[ProblemError], detail: str | None = None) -> None:
        super().__init__(
            detail or "; ".join(f"{e.pointer}: {e.detail}" for e in errors),
            errors=[e.model_dump() for e in errors],
        )


def field_error(pointer: str, detail: str, code: str = "invalid") -> ValidationFailed:
    """A 422 naming one field of the body, e.g. ``field_error("/body/currency", ...)``."""
    return ValidationFailed([ProblemError(pointer=pointer, detail=detail, code=code)])
