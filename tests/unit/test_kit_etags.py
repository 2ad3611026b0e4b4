"""If-Match against a resource's version: absent or ``*`` passes, a list passes if any tag is current.

Weak tags (``W/"3"``) are accepted on purpose: compressing proxies weaken ETags on the way back to the
client, and refusing those would make If-Match unusable behind them (RFC 9110 asks for strong comparison).
"""

from __future__ import annotations

import pytest
from fastapi import Response

from oms_api.kit.errors import PreconditionFailed
from oms_api.kit.etags import check_if_match, etag, set_etag


def test_the_etag_is_the_quoted_version() -> None:
    assert etag(7) == '"7"'
    response = Response()
    set_etag(response, 3)
    assert response.headers["etag"] == '"3"'


@pytest.mark.parametrize("header", [None, "*", " * ", '"4"', ' "4" ', 'W/"4"', '"1", "4"', '"9",W/"4"', '"4","4"'])
def test_if_match_naming_the_current_version_or_anything_passes(header: str | None) -> None:
    check_if_match(header, 4)


@pytest.mark.parametrize("header", ['"3"', '"5"', "4", '"04"', 'W/"3"', '"1", "2", "3"', "", '""', '"4'])
def test_if_match_naming_another_version_is_a_412(header: str) -> None:
    with pytest.raises(PreconditionFailed) as raised:
        check_if_match(header, 4)
    problem = raised.value.to_problem()
    assert problem["status"] == 412
    assert problem["code"] == "stale_version"
    assert problem["current_version"] == 4
