"""Cursors: opaque, round-tripping, and any forged or damaged cursor is a 400 (never a 500)."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import Request
from hypothesis import given
from hypothesis import strategies as st

from oms_api.kit.errors import BadRequest
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import decode_cursor, encode_cursor, list_binding, make_slice, page_params


def _cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(st.uuids())
def test_a_cursor_round_trips_its_id(value: uuid.UUID) -> None:
    cursor = encode_cursor(value)
    assert not set(cursor) & set("=/+"), "cursors must be URL-safe as they are"
    assert decode_cursor(cursor) == value


def _request(path: str, query: str = "") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": []})


def test_page_params_decode_the_cursor() -> None:
    value = uuid7()
    request = _request("/v1/skus", "active=true")
    params = page_params(request, limit=10, cursor=encode_cursor(value, list_binding(request)))
    assert params.limit == 10
    assert params.after == value
    assert page_params(request, limit=5, cursor=None).after is None


def test_a_cursor_is_bound_to_its_list_and_filters_not_to_its_page_size() -> None:
    value = uuid7()
    cursor = encode_cursor(value, list_binding(_request("/v1/skus", "active=true&limit=2")))
    assert decode_cursor(cursor, list_binding(_request("/v1/skus", "limit=7&active=true"))) == value
    for other in (_request("/v1/channels", "active=true"), _request("/v1/skus", "active=false"), _request("/v1/skus")):
        with pytest.raises(BadRequest) as raised:
            decode_cursor(cursor, list_binding(other))
        assert raised.value.code == "invalid_cursor"


def test_a_cursor_whose_position_was_changed_is_a_bad_request() -> None:
    fields = json.loads(base64.urlsafe_b64decode(encode_cursor(uuid7()) + "=="))
    fields["after"] = str(uuid7())
    with pytest.raises(BadRequest):
        decode_cursor(_cursor_of(json.dumps(fields).encode()))


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        "%%%",
        "é",
        _cursor_of(b"not json"),
        _cursor_of(b"[1, 2]"),
        _cursor_of(b'"after"'),
        _cursor_of(b"42"),
        _cursor_of(b"{}"),
        _cursor_of(b'{"after": null}'),
        _cursor_of(b'{"after": "not-a-uuid"}'),
        _cursor_of(b"\xff\xfe\x00"),
        encode_cursor(uuid.UUID("01937f6e-0000-7000-8000-000000000000"))[:-3],  # truncated
    ],
)
def test_a_forged_cursor_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest) as raised:
        decode_cursor(cursor)
    assert raised.value.code == "invalid_cursor"
    assert raised.value.status == 400


@pytest.mark.parametrize("after", [1, {}, ["x"], True, 1.5])
def test_a_cursor_whose_after_is_not_a_string_is_a_bad_request(after: Any) -> None:
    """uuid.UUID(<int>) raises AttributeError, not ValueError: once a 500 for GET /v1/skus?cursor=eyJhZnRlciI6MX0."""
    with pytest.raises(BadRequest):
        decode_cursor(_cursor_of(json.dumps({"after": after}).encode()))


@given(st.text(max_size=200))
def test_any_text_is_either_a_cursor_or_a_bad_request(text: str) -> None:
    with contextlib.suppress(BadRequest):
        decode_cursor(text)


@dataclass
class Row:
    id: uuid.UUID


def test_make_slice_uses_the_extra_row_only_to_say_more_exist() -> None:
    rows = [Row(uuid7()) for _ in range(4)]
    more = make_slice(rows, 3)
    assert list(more.items) == rows[:3]
    assert more.has_more is True
    assert more.next_after == rows[2].id
    last = make_slice(rows[:3], 3)
    assert last.has_more is False
    assert last.next_after is None
    assert make_slice([], 3).items == []
