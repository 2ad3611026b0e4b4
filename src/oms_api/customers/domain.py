"""Customer rules (pure): what a valid e-mail address is, who counts as identified, external references."""

from __future__ import annotations

import calendar
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

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


class TermsKind(StrEnum):
    DUE_ON_RECEIPT = "due_on_receipt"
    NET = "net"
    """Due ``days`` after the invoice date (net 30)."""
    END_OF_MONTH_PLUS = "end_of_month_plus"
    """Due ``days`` after the end of the invoice's month (end of month + 10)."""


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """When a business customer's invoices are due, and the early-payment discount it is offered (``2 % if paid
    within 10 days``). Stored on the customer, copied onto each invoice at issue."""

    kind: TermsKind
    days: int = 0
    discount_percent: Decimal | None = None
    discount_days: int | None = None

    def due_date(self, issued: date) -> date:
        if self.kind == TermsKind.DUE_ON_RECEIPT:
            return issued
        if self.kind == TermsKind.NET:
            return issued + timedelta(days=self.days)
        month_end = date(issued.year, issued.month, calendar.monthrange(issued.year, issued.month)[1])
        return month_end + timedelta(days=self.days)

    def discount_until(self, issued: date) -> date | None:
        """The last day the early-payment discount applies (None when none is offered)."""
        if self.discount_percent is None or self.discount_days is None:
            return None
        return issued + timedelta(days=self.discount_days)

    def describe(self) -> str:
        """As printed on an invoice: ``Net 30``, ``End of month + 10``, ``Due on receipt``; with the discount."""
        text = {
            TermsKind.DUE_ON_RECEIPT: "Due on receipt",
            TermsKind.NET: f"Net {self.days}",
            TermsKind.END_OF_MONTH_PLUS: f"End of month + {self.days} days",
        }[self.kind]
        if self.discount_percent is not None and self.discount_days is not None:
            text += f", {self.discount_percent.normalize():f} % discount if paid within {self.discount_days} days"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "days": self.days,
            "discount_percent": None if self.discount_percent is None else str(self.discount_percent),
            "discount_days": self.discount_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaymentTerms:
        percent = data.get("discount_percent")
        return cls(
            TermsKind(data["kind"]),
            int(data.get("days") or 0),
            None if percent is None else Decimal(percent),
            data.get("discount_days"),
        )


@dataclass(frozen=True, slots=True)
class Billing:
    """What invoicing and credit control need of a customer (``customers.service.billing_of``)."""

    customer_id: uuid.UUID
    name: str
    """The person's name, or the e-mail when no name is known."""
    company: str | None
    vat_id: str | None
    email: str | None
    terms: PaymentTerms | None
    """None: a consumer, paying at checkout (invoices are due on receipt)."""
    credit_limit_minor: int | None
    """In the base currency's minor units; None: no limit."""
