"""GTIN barcodes: the four lengths with a correct check digit, printed separators tolerated, the rest refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.catalog.domain import normalise_gtin


def _check_digit(body: str) -> str:
    """GS1 mod-10: weights 3,1,3,… from the rightmost digit of the body."""
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


@pytest.mark.parametrize(
    "code",
    [
        "73513537",  # GTIN-8 (EAN-8)
        "036000291452",  # GTIN-12 (UPC-A)
        "4006381333931",  # GTIN-13 (EAN-13)
        "98412345678908",  # GTIN-14
    ],
)
def test_valid_gtins_of_every_length_are_kept_as_they_are(code: str) -> None:
    assert normalise_gtin(code) == code


@pytest.mark.parametrize(
    ("printed", "compact"),
    [
        ("4006-3813-33931", "4006381333931"),
        ("4006381 333931", "4006381333931"),
        (" 4006381333931 ", "4006381333931"),
        ("0 36000 29145 2", "036000291452"),
    ],
)
def test_spaces_and_dashes_are_removed(printed: str, compact: str) -> None:
    assert normalise_gtin(printed) == compact


@pytest.mark.parametrize(
    "code",
    [
        "4006381333932",  # wrong check digit
        "73513538",
        "036000291453",
        "98412345678909",
        "400638133393",  # 12 digits that are not a UPC
        "0073513537",  # 10 digits: no GTIN has this length
        "000004006381333931",  # 18 digits
        "4006.381333931",  # dots are not separators
        "40063813339A1",
        "",
    ],
)
def test_bad_check_digits_lengths_and_characters_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="GTIN"):
        normalise_gtin(code)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_exactly_one_check_digit_makes_a_body_a_gtin(body: str) -> None:
    right = _check_digit(body)
    assert normalise_gtin(body + right) == body + right
    for wrong in "0123456789":
        if wrong != right:
            with pytest.raises(ValueError):
                normalise_gtin(body + wrong)
