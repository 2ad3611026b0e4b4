"""Customer rules: e-mail validation and normalisation, identity, external references."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.customers.domain import has_identity, normalise_email, parse_external_ref


@pytest.mark.parametrize(
    ("given_email", "stored"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada.lovelace+orders@mail.example.co.uk ", "ada.lovelace+orders@mail.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("user_name-1@sub-domain.example.io", "user_name-1@sub-domain.example.io"),
        ("José@Bücher.de", "josé@bücher.de"),
        ("ada@xn--bcher-kva.de", "ada@xn--bcher-kva.de"),
        ("ada@example.xn--p1ai", "ada@example.xn--p1ai"),
    ],
)
def test_valid_addresses_are_trimmed_and_lower_cased(given_email: str, stored: str) -> None:
    assert normalise_email(given_email) == stored


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@example.c",
        "ada@1.2.3.4",
        "ada@[192.168.0.1]",
        "ada@-example.com",
        "ada@example-.com",
        "ada@exa_mple.com",
        "ada@example..com",
        "ada@example.com.",
        ".ada@example.com",
        "ada.@example.com",
        "ada..lovelace@example.com",
        "ada lovelace@example.com",
        '"ada lovelace"@example.com',
        "ada@lovelace@example.com",
        "ada(comment)@example.com",
        "ada\u200b@example.com",
        "a" * 65 + "@example.com",
        "ada@" + "a" * 64 + ".com",
        "ada@" + ".".join(["abcdefghi"] * 26) + ".com",
    ],
)
def test_malformed_addresses_are_refused(email: str) -> None:
    with pytest.raises(ValueError):
        normalise_email(email)


@given(st.emails().filter(lambda e: len(e) <= 254))
def test_every_rfc_address_hypothesis_makes_is_accepted_and_normalising_is_idempotent(email: str) -> None:
    once = normalise_email(email)
    assert normalise_email(once) == once
    assert once == once.lower()


def test_a_customer_must_be_identifiable_by_something() -> None:
    assert not has_identity(None, None, None, None, None)
    assert not has_identity(None, " ", "", None, None)
    assert has_identity("ada@example.com", None, None, None, None)
    assert has_identity(None, None, "Lovelace", None, None)
    assert has_identity(None, None, None, "ACME", None)
    assert has_identity(None, None, None, None, "+1 555 0100")


def test_external_refs_are_written_source_colon_id() -> None:
    assert parse_external_ref("shopify:7365432") == ("shopify", "7365432")
    assert parse_external_ref("legacy-crm:urn:x:1") == ("legacy-crm", "urn:x:1")
    for bad in ("shopify", "Shopify:1", "shopify:", ":1", "shop ify:1", "s:" + "1" * 101):
        with pytest.raises(ValueError):
            parse_external_ref(bad)
