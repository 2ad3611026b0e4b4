"""Which label a binary answer gets: its own media type unless the client prefers application/octet-stream.

SDK generators read ``application/octet-stream`` as bytes with no configuration, so the spec offers every PDF
under that type too; the server must honour it without changing what browsers and ``*/*`` clients get.
"""

from __future__ import annotations

import pytest

from oms_api.kit.negotiation import prefers_octet_stream, quality

PDF = "application/pdf"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/octet-stream", True),
        ("application/octet-stream, */*;q=0.1", True),
        ("application/pdf;q=0.5, application/octet-stream", True),
        ("APPLICATION/OCTET-STREAM", True),
        ("application/*;q=0.2, application/octet-stream;q=0.3", True),
        ("application/octet-stream;q=0", False),
        ("application/pdf, application/octet-stream", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("*/*", False),
        ("application/*", False),
        ("", False),
        ("application/octet-stream;q=oops", False),
    ],
)
def test_octet_stream_only_when_the_client_prefers_it(accept: str, expected: bool) -> None:
    assert prefers_octet_stream(accept, PDF) is expected


def test_the_most_specific_range_gives_the_quality() -> None:
    accept = "*/*;q=0.1, application/*;q=0.5, application/pdf;q=0.9"
    assert quality(accept, PDF) == 0.9
    assert quality(accept, "application/octet-stream") == 0.5
    assert quality(accept, "image/png") == 0.1
    assert quality("application/pdf;q=7", PDF) == 1.0
