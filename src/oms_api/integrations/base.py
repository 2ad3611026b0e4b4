"""The storefront port: what an adapter tells intake about one webhook delivery, and the helpers adapters share.

An adapter is pure (no I/O): it names its headers, checks that a delivery is worth storing, and interprets a
stored delivery as an action on orders. Everything with a database lives in ``integrations.inbound``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Protocol

from pydantic import ValidationError

from oms_api.customers.schemas import CustomerCreate
from oms_api.kit.money import (
    MAX_AMOUNT_MINOR,
    STORED_MINOR_MAX,
    CurrencyError,
    Money,
    check_amount,
    check_bounded,
    is_currency,
)
from oms_api.kit.principal import Principal
from oms_api.kit.route_marks import SIGNED_BY_PLATFORM as SIGNED_BY_PLATFORM  # re-exported: routes flag themselves
from oms_api.kit.schemas import Address
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders.schemas import OrderCreate


class MalformedDelivery(ValueError):
    """A delivery not worth storing: not a JSON object, or no id to key the order on (answered 400)."""


class MappingError(ValueError):
    """A stored delivery that cannot become an order at all (its inbound event fails, with this message)."""


@dataclass(frozen=True)
class IntakeOrder:
    """An order as a storefront sent it, mapped as far as it could be (what ``orders.take_in`` takes in).

    ``order.lines[i].sku`` is the storefront's SKU text, which may be empty or outside the catalogue's code
    alphabet (it then names no SKU and holds the order). ``problems`` are what the mapping could not
    understand; any problem holds the order. ``expected_total`` is the storefront's grand total: an order
    whose computed total differs is held, since something in it (a fee, a tip, a gift card) was not understood.
    """

    order: OrderCreate
    line_names: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    expected_total: Money | None = None


@dataclass(frozen=True)
class CreateOrder:
    intake: IntakeOrder


@dataclass(frozen=True)
class CancelOrder:
    external_ref: str
    reason: str


@dataclass(frozen=True)
class Ignore:
    note: str


Action = CreateOrder | CancelOrder | Ignore


class Storefront(Protocol):
    """One storefront platform's webhooks (``shopify``, ``woocommerce``)."""

    source: ClassVar[str]
    signature_header: ClassVar[str]
    delivery_header: ClassVar[str]
    topic_header: ClassVar[str]

    def is_ping(self, body: bytes, signature: str | None) -> bool:
        """True for a platform's unsigned "is this URL alive?" request, answered 200 without being stored."""

    def check(self, topic: str, payload: Any) -> None:
        """Raise ``MalformedDelivery`` unless the delivery can be stored and processed later."""

    def interpret(self, topic: str, payload: dict[str, Any], channel: str) -> Action:
        """What the delivery means for the orders of ``channel``; ``MappingError`` if it cannot mean anything."""


def sign(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body: how Shopify and WooCommerce both sign their webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_matches(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time comparison of ``signature`` with the one ``secret`` gives ``body``."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode("utf-8", "replace"))


def platform_actor(source: str) -> Principal:
    """Who changes orders when a storefront's delivery does: ``integration:<source>`` in histories."""
    return _PlatformActor(api_key_id=uuid.UUID(int=0), name=source, scopes=frozenset())


@dataclass(frozen=True, slots=True)
class _PlatformActor(Principal):
    @property
    def actor(self) -> str:
        return f"integration:{self.name}"


# --- mapping helpers -------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_NOT_TAG = re.compile(r"[^a-z0-9_-]+")


def text(value: Any, max_length: int) -> str | None:
    """A single line of storefront text: control characters become spaces, cut to ``max_length``; "" is None."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    cleaned = " ".join(_CONTROL.sub(" ", _encodable(str(value))).split())
    return cleaned[:max_length] or None


def _encodable(value: str) -> str:
    """Lone surrogates (JSON lets ``"\\ud800"`` through) become "?": no database could store them."""
    return value.encode("utf-8", "replace").decode("utf-8")


def notes_text(parts: Sequence[str | None], max_length: int = 2000) -> str | None:
    """Notes from several parts (line breaks kept, other control characters dropped)."""
    cleaned = [re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", _encodable(part)).strip() for part in parts if part]
    joined = "\n".join(part for part in cleaned if part)
    return joined[:max_length] or None


def tag(value: str) -> str | None:
    """A storefront tag as an order tag (lower-case slug of at most 32 characters), or None."""
    slug = _NOT_TAG.sub("-", value.strip().lower()).strip("-_")[:32].strip("-_")
    return slug or None


def currency(value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not is_currency(code):
        raise MappingError(f"currency {value!r} is not an ISO 4217 code")
    return code


def amount(value: Any, currency_code: str, what: str, *, total: bool = False) -> Money:
    """A storefront amount ("12.50", 12.5, 12; never negative) in ``currency_code``; ``MappingError`` otherwise.

    An amount is bounded as an API request's are (``kit.money.MAX_AMOUNT_MINOR``), so that the order's totals fit
    their columns; a ``total`` (the storefront's own order total, only compared) only has to fit a column."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"{what} is not an amount: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MappingError(f"{what} is not an amount: {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise MappingError(f"{what} is out of range: {value!r}")
    try:
        check_bounded(number, currency_code, STORED_MINOR_MAX if total else MAX_AMOUNT_MINOR)
    except CurrencyError as exc:
        raise MappingError(f"{what} is out of range: {value!r} ({exc})") from exc
    try:
        return Money(check_amount(number, currency_code), currency_code)
    except CurrencyError as exc:
        raise MappingError(f"{what}: {exc}") from exc


def amount_or_zero(value: Any, currency_code: str, what: str) -> Money:
    return Money.zero(currency_code) if value in (None, "") else amount(value, currency_code, what)


def total(values: Sequence[Money], currency_code: str) -> Money:
    result = Money.zero(currency_code)
    for value in values:
        result = result + value
    return result


def quantity(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MappingError(f"{what} is not a whole number: {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise MappingError(f"{what} is not a whole number: {value!r}") from exc
    if not 1 <= number <= 100_000:
        raise MappingError(f"{what} must be between 1 and 100000, not {number}")
    return number


def unit_price(line_value: Money, count: int) -> tuple[Money, Money]:
    """A unit price for a line worth ``line_value`` over ``count`` units, and the rounding it leaves.

    Storefronts give line values that need not divide by the quantity (10.00 for 3): the unit price is
    rounded up to the minor unit and the difference becomes part of the line's discount, so every total
    stays exactly what the storefront charged."""
    value_minor = line_value.minor
    unit_minor = -(-value_minor // count)
    return (
        Money.from_minor(unit_minor, line_value.currency),
        Money.from_minor(unit_minor * count - value_minor, line_value.currency),
    )


def spread(whole: Money, weights: Sequence[Money]) -> list[Money]:
    """``whole`` shared out in proportion to ``weights`` (largest remainder, exact to the minor unit)."""
    weight_minor = [max(w.minor, 0) for w in weights]
    base = sum(weight_minor)
    cur = whole.currency
    if not weights:
        return []
    if base == 0:
        return [whole, *[Money.zero(cur)] * (len(weights) - 1)]
    share = [whole.minor * w // base for w in weight_minor]
    order = sorted(range(len(weights)), key=lambda i: (-(whole.minor * weight_minor[i] % base), i))
    for i in order[: whole.minor - sum(share)]:
        share[i] += 1
    return [Money.from_minor(s, cur) for s in share]


def wire(value: Money) -> MoneyIn:
    return MoneyIn.of(value)


def address(fields: dict[str, Any]) -> tuple[Address | None, str | None]:
    """An address from storefront fields (already renamed to ours), or None and what is wrong with it."""
    limits = {"name": 200, "company": 200, "line1": 200, "line2": 200, "city": 100, "region": 100}
    limits |= {"postal_code": 20, "phone": 40}
    values: dict[str, Any] = {key: text(fields.get(key), limit) for key, limit in limits.items()}
    country = text(fields.get("country"), 2)
    values["country"] = country.upper() if country else None
    values["latitude"] = _coordinate(fields.get("latitude"), 90)
    values["longitude"] = _coordinate(fields.get("longitude"), 180)
    values = {key: value for key, value in values.items() if value is not None}
    if not values:
        return None, "no address"
    try:
        return Address.model_validate(values), None
    except ValidationError as exc:
        return None, describe(exc)


def addresses(
    shipping_fields: dict[str, Any], billing_fields: dict[str, Any], problems: list[str]
) -> tuple[Address, Address | None]:
    """The shipping and billing address; a missing or unusable shipping address is a problem (the billing one
    stands in), and with neither the order cannot be mapped."""
    shipping, shipping_error = address(shipping_fields)
    billing, _ = address(billing_fields)
    if shipping is None:
        if billing is None:
            raise MappingError(f"no usable shipping or billing address (shipping: {shipping_error})")
        problems.append(f"no usable shipping address ({shipping_error}); the billing address stands in")
        shipping = billing
    return shipping, billing


def customer(values: dict[str, Any]) -> tuple[CustomerCreate | None, str | None]:
    """Inline customer details (matched by e-mail, else created), and a note when some could not be used:
    an order is never failed for a customer's malformed e-mail or phone."""
    values = {key: value for key, value in values.items() if value}
    if not values:
        return None, None
    try:
        return CustomerCreate.model_validate(values), None
    except ValidationError as exc:
        note = f"customer details not usable: {describe(exc)}"
        kept = {key: value for key, value in values.items() if key not in {"email", "phone"}}
    try:
        return (CustomerCreate.model_validate(kept), note) if kept else (None, note)
    except ValidationError:
        return None, note


def _coordinate(value: Any, limit: float) -> float | None:
    """A usable coordinate, or None (a bad one is dropped: the address stays good without it)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def describe(exc: ValidationError, limit: int = 5) -> str:
    """A validation error in one line: ``/lines/0/quantity: …; /currency: …``."""
    parts = [f"/{'/'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:limit]]
    return "; ".join(parts)


def sku_text(value: Any) -> str:
    """A line's SKU as the storefront sent it (one line, at most 64 characters; "" when there is none)."""
    return text(value, 64) or ""


def order_create(fields: dict[str, Any], skus: Sequence[str]) -> OrderCreate:
    """Validate the mapped order. Line SKUs are put in afterwards, as sent: whether they name a catalogue SKU
    is for intake to find out (a SKU the catalogue cannot have holds the order instead of failing it)."""
    placeholder = {**fields, "lines": [{**line, "sku": "X"} for line in fields.get("lines", [])]}
    try:
        order = OrderCreate.model_validate(placeholder)
    except ValidationError as exc:
        raise MappingError(f"the order does not fit: {describe(exc)}") from exc
    lines = [line.model_copy(update={"sku": sku}) for line, sku in zip(order.lines, skus, strict=True)]
    return order.model_copy(update={"lines": lines})


def intake_order(
    fields: dict[str, Any],
    lines: Sequence[tuple[dict[str, Any], str, str]],
    problems: Sequence[str],
    total: Any,
    currency: str,
    total_field: str,
) -> IntakeOrder:
    """The mapped order with its line titles, the problems found while mapping, and the storefront's own total
    (``total`` from the payload field ``total_field``; intake holds the order when ours disagrees)."""
    return IntakeOrder(
        order=order_create(fields, [sku for _, sku, _ in lines]),
        line_names=tuple(name for _, _, name in lines),
        problems=tuple(problems),
        expected_total=amount(total, currency, total_field, total=True) if total not in (None, "") else None,
    )
