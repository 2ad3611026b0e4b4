"""Optimistic concurrency: ``ETag`` from a resource's ``version``, checked through ``If-Match``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from oms_api.kit.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description="ETag of the version you read; the change is refused with 412 if it is stale",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(if_match: str | None, current_version: int) -> None:
    """Raise 412 when ``If-Match`` names another version than the stored one."""
    if if_match is None or if_match.strip() == "*":
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(current_version) not in candidates:
        raise PreconditionFailed(
            f"The resource changed: its current ETag is {etag(current_version)}",
            code="stale_version",
            current_version=current_version,
        )
