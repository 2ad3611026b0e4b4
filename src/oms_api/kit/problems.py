"""Exception handlers that render every error as ``application/problem+json``."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from oms_api.kit.db_errors import CONNECTIVITY_ERRORS, is_unavailable, unavailable
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE, OmsError
from oms_api.kit.idempotency import IdempotentReplay
from oms_api.kit.middleware import route_template

log = structlog.get_logger("oms_api.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem_response(request: Request, error: OmsError) -> JSONResponse:
    return JSONResponse(
        error.to_problem(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers or None,
    )


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = exc.errors()
    if any(d.get("type") == "json_invalid" for d in details):
        return problem_response(
            request,
            OmsError(
                "The request body is not valid JSON",
                status=400,
                code="malformed_json",
                title="Malformed JSON",
            ),
        )
    errors = [
        {
            "pointer": _pointer(tuple(d.get("loc", ()))),
            "detail": str(d.get("msg", "invalid")),
            "code": str(d.get("type", "invalid")),
        }
        for d in details
    ]
    summary = "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5])
    return problem_response(
        request,
        OmsError(
            summary or "The request is invalid",
            status=422,
            code="validation_error",
            title="Validation failed",
            errors=errors,
        ),
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(OmsError)
    async def _oms(request: Request, exc: OmsError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return problem_response(
            request,
            OmsError(
                detail,
                status=exc.status_code,
                code=code,
                title=code.replace("_", " ").capitalize(),
                headers=dict(exc.headers or {}),
            ),
        )

    @app.exception_handler(IdempotentReplay)
    async def _replay(request: Request, exc: IdempotentReplay) -> Any:
        return exc.response()

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            log.warning("database_unavailable", route=route_template(request.scope), error=type(exc).__name__)
            return problem_response(request, unavailable())
        return await _unexpected(request, exc)

    for kind in CONNECTIVITY_ERRORS:
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The route template, not the path; the exception as its type and a value-free traceback (kit.redaction).
        log.error("unhandled_error", method=request.method, route=route_template(request.scope), exc_info=exc)
        return problem_response(
            request,
            OmsError(
                "An unexpected error occurred; it has been logged",
                status=500,
                code="internal_error",
                title="Internal error",
            ),
        )
