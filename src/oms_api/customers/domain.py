"""Customer rules (pure): what a valid e-mail address is, who counts as identified, external references."""

from __future__ import annotations

import re
import unicodedata

EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit, minus the angle brackets
LOCAL_PART_MAX_LENGTH = 64

# One dot-atom part of the local part: RFC 5322 atext, plus non-ASCII characters (RFC 6531 SMTPUTF8).
# Quoted local parts ("john doe"@x) and comments are refused: legal, but in practice only typos and abuse.
_ATOM = r"[^\s()<>\[\]:;@\\,\".\x00-\x1f\x7f]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")

EXTERNAL_SOURCE_PATTERN = r"^[a-z0-9_-]{1,40}$"
EXTERNAL_ID_MAX_LENGTH = 100
_EXTERNAL_SOURCE = re.compile(EXTERNAL_SOURCE_PATTERN)


def normalise_email(value: str) -> str:
    """``value`` trimmed, NFC-normalised and lower-cased if it is a deliverable-looking address, else ``ValueError``.

    Stricter than RFC 5322 where the RFC allows what no mailbox uses (quoted parts, IP literals, dotless
    domains), looser than ASCII-only checks so that internationalised addresses (``josé@bücher.de``) pass.
    Lower-casing the whole address is how uniqueness becomes case-insensitive.
    """
    email = unicodedata.normalize("NFC", value.strip()).lower()
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValueError(f"an e-mail address has at most {EMAIL_MAX_LENGTH} characters")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an e-mail address needs a local part, '@' and a domain")
    if len(local) > LOCAL_PART_MAX_LENGTH:
        raise ValueError(f"the part before '@' has at most {LOCAL_PART_MAX_LENGTH} characters")
    if not _LOCAL_PART.fullmatch(local) or any(_is_invisible(ch) for ch in local):
        raise ValueError("the part before '@' has characters or dots an e-mail address cannot have")
    _check_domain(domain)
    return email


def _is_invisible(ch: str) -> bool:
    """Control, format (zero-width, bidi), surrogate and unassigned characters: never part of a real mailbox."""
    return not ch.isascii() and unicodedata.category(ch).startswith("C")


def _check_domain(domain: str) -> None:
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError as exc:
        raise ValueError("the domain is not a valid internationalised domain name") from exc
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("the domain must be a host name such as example.com")
    if not _TLD.fullmatch(labels[-1]):
        raise ValueError("the domain must end in a top-level domain such as .com")


def has_identity(
    email: str | None, first_name: str | None, last_name: str | None, company: str | None, phone: str | None
) -> bool:
    """A customer nobody could recognise or contact is noise: at least one of these must be present."""
    return any(v is not None and v.strip() for v in (email, first_name, last_name, company, phone))


def parse_external_ref(value: str) -> tuple[str, str]:
    """``"shopify:123"`` -> ``("shopify", "123")``; the id may itself contain ``:``."""
    source, sep, ref = value.partition(":")
    if not sep or not _EXTERNAL_SOURCE.fullmatch(source):
        raise ValueError("an external reference is written source:id, e.g. shopify:123")
    if not 1 <= len(ref) <= EXTERNAL_ID_MAX_LENGTH:
        raise ValueError(f"the id of an external reference has 1 to {EXTERNAL_ID_MAX_LENGTH} characters")
    return source, ref
