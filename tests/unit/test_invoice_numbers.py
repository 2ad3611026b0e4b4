"""Document numbers: the format of the issue (``INV-2026-000123``) and its reading back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.invoices.domain.numbers import DocType, format_number, parse_number, prefix_of


def test_numbers_are_prefix_year_and_six_digits() -> None:
    assert format_number(prefix_of(DocType.INVOICE), 2026, 123) == "INV-2026-000123"
    assert format_number(prefix_of(DocType.CREDIT_NOTE), 2026, 1) == "CN-2026-000001"


def test_a_series_past_a_million_grows_wider_instead_of_wrapping() -> None:
    assert format_number("INV", 2026, 1_000_000) == "INV-2026-1000000"


@pytest.mark.parametrize(("year", "sequence"), [(2026, 0), (2026, -1), (0, 1), (10_000, 1)])
def test_impossible_numbers_are_refused(year: int, sequence: int) -> None:
    with pytest.raises(ValueError):
        format_number("INV", year, sequence)


@given(st.sampled_from(["INV", "CN", "INV-B2B"]), st.integers(1, 9999), st.integers(1, 10**8))
def test_a_number_reads_back_as_what_made_it(prefix: str, year: int, sequence: int) -> None:
    assert parse_number(format_number(prefix, year, sequence)) == (prefix, year, sequence)


@given(st.integers(1, 10**6 - 1), st.integers(1, 10**6 - 1))
def test_numbers_of_a_series_sort_as_their_sequence(a: int, b: int) -> None:
    assert (format_number("INV", 2026, a) < format_number("INV", 2026, b)) == (a < b)


def test_anything_else_is_not_a_number() -> None:
    for text in ("INV-26-000001", "INV-2026-12", "INV-2026-00000x"):
        with pytest.raises(ValueError):
            parse_number(text)
