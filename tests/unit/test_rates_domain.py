"""Table rating and delivery dates, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.carriers import domain
from oms_api.carriers.domain import (
    Bracket,
    Quote,
    ServiceTable,
    ShippingChoice,
    TableError,
    Zone,
    add_business_days,
    choose,
    match_zone,
    parcel_price,
    ship_date,
)
from oms_api.kit.money import Money

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, 23 + i) for i in range(7))  # 23 Nov 2026 is a Monday
BERLIN = "Europe/Berlin"


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def brackets() -> tuple[Bracket, ...]:
    """Up to 2 kg flat 4.90; up to 31.5 kg 6.90 + 0.50 per started kg above 2 kg; a USD row too."""
    return (
        Bracket(2000, eur("4.90"), eur("0")),
        Bracket(31500, eur("6.90"), eur("0.50")),
        Bracket(5000, Money.of("9.00", "USD"), Money.of("1.00", "USD")),
    )


ZONES = (
    Zone("de", frozenset({"DE"}), (), None, brackets()),
    Zone("de-islands", frozenset({"DE"}), ("18565", "25938"), 3, brackets()),
    Zone("de-north", frozenset({"DE"}), ("2",), None, brackets()),
    Zone("eu", frozenset({"FR", "NL", "AT"}), (), 3, brackets()),
)


def table(**overrides: object) -> ServiceTable:
    values: dict[str, object] = {
        "carrier": "dhl",
        "service": "standard",
        "name": "DHL Paket",
        "transit_days": 1,
        "cutoff": time(16, 0),
        "timezone": BERLIN,
        "pickup_days": frozenset(range(5)),
        "origin_countries": frozenset(),
        "zones": ZONES,
        **overrides,
    }
    return ServiceTable(**values)  # type: ignore[arg-type]


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time in November (UTC+1) as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)


# --- zones -----------------------------------------------------------------------------------------------------


def test_a_country_without_prefixes_is_the_whole_country() -> None:
    assert match_zone(ZONES, "DE", "80331").code == "de"  # type: ignore[union-attr]
    assert match_zone(ZONES, "DE", None).code == "de"  # type: ignore[union-attr]
    assert match_zone(ZONES, "FR", "75001").code == "eu"  # type: ignore[union-attr]


def test_the_longest_postal_prefix_wins() -> None:
    assert match_zone(ZONES, "DE", "20095").code == "de-north"  # type: ignore[union-attr]
    assert match_zone(ZONES, "DE", "18565").code == "de-islands"  # type: ignore[union-attr]


def test_postal_codes_compare_without_spaces_or_case() -> None:
    zones = (Zone("london", frozenset({"GB"}), ("sw1a",), None, brackets()),)
    assert match_zone(zones, "GB", "SW1A 1AA") is not None
    assert match_zone(zones, "GB", "EC1A 1BB") is None


def test_an_unserved_country_has_no_zone() -> None:
    assert match_zone(ZONES, "US", "10001") is None


def test_tables_with_an_area_in_two_zones_are_refused() -> None:
    with pytest.raises(TableError) as caught:
        domain.check_zones([*ZONES, Zone("dup", frozenset({"NL"}), (), None, brackets())])
    assert caught.value.pointer == "/zones/4"


def test_two_brackets_ending_at_the_same_weight_are_refused() -> None:
    twice = (Bracket(2000, eur("1"), eur("0")), Bracket(2000, eur("2"), eur("0")))
    zone = Zone("x", frozenset({"DE"}), (), None, twice)
    with pytest.raises(TableError):
        domain.check_zones([zone])


# --- brackets and per-kg ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight_g", "price"),
    [
        (0, "4.90"),
        (1500, "4.90"),
        (2000, "4.90"),  # the bound is inclusive
        (2001, "7.40"),  # 6.90 + one started kg above 2 kg
        (3000, "7.40"),
        (3001, "7.90"),
        (31500, "21.90"),  # 29.5 kg above 2 kg: 30 started kg x 0.50
    ],
)
def test_a_parcel_pays_its_bracket_base_plus_per_started_kg(weight_g: int, price: str) -> None:
    assert parcel_price(ZONES[0], weight_g, "EUR") == eur(price)


def test_too_heavy_or_another_currency_has_no_price() -> None:
    assert parcel_price(ZONES[0], 31501, "EUR") is None
    assert parcel_price(ZONES[0], 1000, "GBP") is None
    assert parcel_price(ZONES[0], 6000, "USD") is None
    assert parcel_price(ZONES[0], 2500, "USD") == Money.of("12.00", "USD")


def test_several_parcels_pay_each_their_own_price() -> None:
    assert domain.price(ZONES[0], [1000, 2500], "EUR") == eur("12.30")
    assert domain.price(ZONES[0], [1000, 40_000], "EUR") is None


@given(st.integers(0, 31_500), st.integers(0, 31_500))
def test_a_heavier_parcel_never_costs_less(a: int, b: int) -> None:
    light, heavy = sorted((a, b))
    assert parcel_price(ZONES[0], light, "EUR").amount <= parcel_price(ZONES[0], heavy, "EUR").amount  # type: ignore[union-attr]


# --- dates -----------------------------------------------------------------------------------------------------


def test_ready_before_the_cut_off_leaves_the_same_day() -> None:
    assert ship_date(berlin(MON, 15, 59), time(16, 0), BERLIN, range(5)) == MON


def test_ready_at_or_after_the_cut_off_leaves_the_next_pickup_day() -> None:
    assert ship_date(berlin(MON, 16, 0), time(16, 0), BERLIN, range(5)) == TUE
    assert ship_date(berlin(FRI, 17), time(16, 0), BERLIN, range(5)) == date(2026, 11, 30)


def test_no_pickup_on_weekends_or_days_the_carrier_skips() -> None:
    assert ship_date(berlin(SAT, 9), time(16, 0), BERLIN, range(5)) == date(2026, 11, 30)
    tue_thu = domain.weekday_numbers(["tue", "thu"])
    assert ship_date(berlin(MON, 9), time(16, 0), BERLIN, tue_thu) == TUE
    assert ship_date(berlin(TUE, 17), time(16, 0), BERLIN, tue_thu) == THU


def test_the_cut_off_is_read_in_the_service_time_zone() -> None:
    at = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 15:30 in Berlin, 09:30 in New York
    assert ship_date(at, time(15, 0), BERLIN, range(5)) == TUE
    assert ship_date(at, time(15, 0), "America/New_York", range(5)) == MON


def test_transit_days_are_business_days() -> None:
    assert add_business_days(MON, 0) == MON
    assert add_business_days(MON, 1) == TUE
    assert add_business_days(FRI, 1) == date(2026, 11, 30)
    assert add_business_days(THU, 3) == date(2026, 12, 1)
    assert add_business_days(SAT, 1) == date(2026, 11, 30)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), st.integers(1, 30))
def test_a_delivery_never_lands_on_a_weekend(start: date, days: int) -> None:
    assert add_business_days(start, days).weekday() < 5


# --- quotes ----------------------------------------------------------------------------------------------------


def test_a_quote_has_price_ship_date_and_delivery_date() -> None:
    offer = domain.quote(
        table(),
        origin_country="DE",
        country="FR",
        postal_code="75001",
        parcels=[2500],
        currency="EUR",
        ready_at=berlin(THU, 17),
    )
    assert offer is not None
    assert (offer.zone, offer.price, offer.ship_date, offer.transit_days) == ("eu", eur("7.40"), FRI, 3)
    assert offer.delivery_date == date(2026, 12, 2)  # Friday + 3 business days


def test_a_service_limited_to_some_origins_does_not_quote_others() -> None:
    limited = table(origin_countries=frozenset({"AT"}))
    args = {"country": "DE", "postal_code": None, "parcels": [100], "currency": "EUR", "ready_at": berlin(MON, 9)}
    assert domain.quote(limited, origin_country="DE", **args) is None  # type: ignore[arg-type]
    assert domain.quote(limited, origin_country="AT", **args) is not None  # type: ignore[arg-type]


def q(service: str, price: str, delivery: date) -> Quote:
    return Quote("dhl", service, service, "de", eur(price), 1, MON, delivery)


QUOTES = [q("economy", "3.90", FRI), q("standard", "4.90", WED), q("express", "12.00", TUE)]


def test_cheapest_fastest_and_cheapest_on_time() -> None:
    assert choose(QUOTES, ShippingChoice.CHEAPEST).service == "economy"  # type: ignore[union-attr]
    assert choose(QUOTES, ShippingChoice.FASTEST).service == "express"  # type: ignore[union-attr]
    assert choose(QUOTES, ShippingChoice.CHEAPEST_ON_TIME, WED).service == "standard"  # type: ignore[union-attr]
    assert choose(QUOTES, ShippingChoice.CHEAPEST_ON_TIME, FRI).service == "economy"  # type: ignore[union-attr]


def test_when_nothing_is_on_time_the_fastest_is_chosen() -> None:
    assert choose(QUOTES, ShippingChoice.CHEAPEST_ON_TIME, MON).service == "express"  # type: ignore[union-attr]
    assert choose([], ShippingChoice.CHEAPEST) is None


def test_a_split_delivery_costs_every_part_and_arrives_with_the_last() -> None:
    combined = domain.combine([q("standard", "4.90", WED), q("standard", "5.10", THU)])
    assert (combined.price, combined.delivery_date) == (eur("10.00"), THU)


def test_tracking_numbers_carry_a_check_digit() -> None:
    number = domain.tracking_number("dhl", 12345)
    assert number.startswith("DHL")
    assert len(number) == 3 + 21
    assert domain.tracking_number("dhl", 12345) != domain.tracking_number("dhl", 12346)
