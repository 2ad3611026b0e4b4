"""The check at the edge of every route, before anything reads the request: no control character in a path
parameter or the query string (``kit.text``; bodies are checked by ``kit.schemas.StrictModel``).

``kit.routing.OmsRoute`` runs it first, before admission (which may key a rate limit on a path parameter) and the
route's dependencies, so a route cannot forget it, and a NUL byte in ``/v1/skus/{sku}`` or ``?q=`` is a 422 before
anything reaches the database (PostgreSQL refuses NUL in text).
"""

from __future__ import annotations

from fastapi import Request

from oms_api.kit import text
from oms_api.kit.errors import ProblemError, ValidationFailed


def _escaped(part: str) -> str:
    """A JSON-pointer segment (RFC 6901) with the refused characters spelled out, safe to echo back."""
    return part.replace("~", "~0").replace("/", "~1").encode("unicode_escape").decode("ascii")


def control_character_problems(request: Request) -> list[ProblemError]:
    """One problem per path parameter, query parameter name or value that holds a control character."""
    problems = []
    for name, value in request.path_params.items():
        detail = text.refusal(str(value))
        if detail is not None:
            problems.append(ProblemError(pointer=f"/path/{_escaped(name)}", detail=detail, code=text.CODE))
    for name, value in request.query_params.multi_items():
        detail = text.refusal(name) or text.refusal(value)
        if detail is not None:
            problems.append(ProblemError(pointer=f"/query/{_escaped(name)}", detail=detail, code=text.CODE))
    return problems


def refuse_control_characters(request: Request) -> None:
    """422 ``validation_error`` naming each path or query parameter that holds a control character."""
    problems = control_character_problems(request)
    if problems:
        raise ValidationFailed(problems)
