"""Document rules (pure): Latin-1 folding, gift messages, address lines, ZPL escaping and the 4x6 label."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.documents.domain import (
    ZPL_HEIGHT_DOTS,
    ZPL_WIDTH_DOTS,
    Label,
    PackingSlip,
    Receipt,
    ReceiptLine,
    SlipLine,
    address_lines,
    code128_module_width,
    gift_message,
    is_gift,
    latin1,
    zpl_escape,
    zpl_label,
)

BARCODE_WIDTH = ZPL_WIDTH_DOTS - 60
#: Latin-1 letters that ``latin1`` deliberately spells out although Latin-1 has them.
SPELLED_LATIN1 = "\u00df\u00d8\u00f8\u00c6\u00e6\u00de\u00fe"


def unescape(escaped: str) -> str:
    """Inverse of ``zpl_escape``, written independently: ``_XX`` hex bytes back to UTF-8 text."""
    hexed = re.sub(rb"_([0-9A-F]{2})", lambda found: bytes.fromhex(found[1].decode()), escaped.encode("ascii"))
    return hexed.decode("utf-8")


def label(**overrides: Any) -> Label:
    values = {"tracking_number": "1Z999AA10123456784", "ship_from": ["Acme", "Dock 4"], "ship_to": ["Ann", "Main 1"]}
    return Label(**(values | overrides))


# --- latin1 ---------------------------------------------------------------------------------------


def test_latin1_keeps_accents_latin1_has() -> None:
    assert latin1("Café Müller à Genève, ½ ©") == "Café Müller à Genève, ½ ©"


def test_latin1_decomposes_letters_outside_latin1_to_their_base() -> None:
    assert latin1("Łódź Ćwiek Dvořák Erdős") == "Lódz Cwiek Dvorák Erdos"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Æsir æble", "AEsir aeble"),
        ("Œuvre cœur", "OEuvre coeur"),
        ("Søren Ørsted", "Soren Orsted"),
        ("Þór þorn", "Thór thorn"),
        ("Đakovo đak", "Dakovo dak"),
        ("K\u0131r\u0131kkale", "Kirikkale"),
        ("12 €", "12 EUR"),
        ("\u201cquoted\u201d \u2018single\u2019", "\"quoted\" 'single'"),
        ("a \u2013 b \u2014 c", "a - b - c"),
    ],
)
def test_latin1_spells_out_letters_and_punctuation_from_its_table(text: str, expected: str) -> None:
    assert latin1(text) == expected


def test_latin1_spells_out_sharp_s() -> None:
    assert latin1("ß") == "ss"


def test_latin1_folds_compatibility_characters() -> None:
    assert latin1("\ufb01ne\u2122 \uff12") == "fineTM 2"


def test_latin1_writes_characters_with_no_latin1_form_as_question_marks() -> None:
    assert latin1("東京 Ω ✓") == "?? ? ?"


def test_latin1_turns_non_printable_latin1_characters_into_spaces() -> None:
    assert latin1("a\tb\nc\x00d\x85e\u00a0f\u00adg") == "a b c d e f g"


@given(st.text())
def test_latin1_output_is_always_printable_latin1(text: str) -> None:
    folded = latin1(text)
    folded.encode("latin-1")
    assert all(char.isprintable() for char in folded)


@given(st.text(st.characters(min_codepoint=32, max_codepoint=255).filter(str.isprintable)))
def test_latin1_leaves_printable_latin1_text_alone_except_its_spelled_letters(text: str) -> None:
    text = "".join(char for char in text if char not in SPELLED_LATIN1)
    assert latin1(text) == text


# --- gift ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notes",
    [
        "Gift: Happy birthday, Ann!",
        "gift message: Happy birthday, Ann!",
        "GIFT MESSAGE : Happy birthday, Ann!  ",
        "Leave at the door\n  Gift message:   Happy birthday, Ann!\nThanks",
    ],
)
def test_gift_message_is_the_gift_line_of_the_notes_in_any_case(notes: str) -> None:
    assert gift_message(notes) == "Happy birthday, Ann!"


def test_gift_message_takes_the_first_gift_line() -> None:
    assert gift_message("Gift: first\nGift: second") == "first"


def test_gift_message_is_the_whole_notes_when_no_line_is_marked() -> None:
    assert gift_message("  Love you, Mum\nxx  ") == "Love you, Mum\nxx"


def test_gift_message_needs_a_colon_after_gift() -> None:
    assert gift_message("Giftwrap please") == "Giftwrap please"
    assert gift_message("Gifts: none") == "Gifts: none"


@pytest.mark.parametrize("notes", [None, "", "   ", "\n\t\n"])
def test_gift_message_is_none_without_notes(notes: str | None) -> None:
    assert gift_message(notes) is None


def test_is_gift_when_tagged_gift() -> None:
    assert is_gift(["vip", "gift"])
    assert not is_gift(["vip", "giftwrap"])
    assert not is_gift([])


# --- address lines ---------------------------------------------------------------------------------

FULL_ADDRESS = {  # deliberately in reverse order: the output order is the function's, not the mapping's
    "phone": "+49 30 1234", "country": "DE", "region": "Berlin", "city": "Berlin", "postal_code": "10115",
    "line2": "Hinterhaus", "line1": "Invalidenstr. 1", "company": "Acme GmbH", "name": "Ann Example",
}  # fmt: skip


def test_address_lines_print_name_first_and_phone_after_country() -> None:
    assert address_lines(FULL_ADDRESS) == [
        "Ann Example",
        "Acme GmbH",
        "Invalidenstr. 1",
        "Hinterhaus",
        "10115 Berlin, Berlin",
        "DE",
        "Tel. +49 30 1234",
    ]


def test_address_lines_skip_missing_and_empty_fields() -> None:
    address = {"name": "Ann", "company": None, "line1": "Main St 1", "line2": "", "city": "Paris", "country": "FR"}
    assert address_lines(address) == ["Ann", "Main St 1", "Paris", "FR"]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"postal_code": "75001"}, "75001"),
        ({"city": "Paris"}, "Paris"),
        ({"region": "IDF"}, "IDF"),
        ({"postal_code": 75001, "region": "IDF"}, "75001, IDF"),
        ({"city": "Paris", "region": "IDF"}, "Paris, IDF"),
        ({"postal_code": "", "city": "Paris", "region": None}, "Paris"),
    ],
)
def test_address_lines_join_postal_code_city_and_region_on_one_line(parts: dict[str, Any], expected: str) -> None:
    assert address_lines({"name": "Ann", **parts}) == ["Ann", expected]


def test_address_lines_omit_the_phone_line_without_a_phone() -> None:
    assert address_lines({"name": "Ann", "phone": ""}) == ["Ann"]


@pytest.mark.parametrize("address", [None, {}])
def test_address_lines_are_empty_without_an_address(address: dict[str, Any] | None) -> None:
    assert address_lines(address) == []


# --- label -----------------------------------------------------------------------------------------


def test_label_carrier_line_is_carrier_and_service_in_capitals() -> None:
    assert label(carrier="dhl", service="express").carrier_line == "DHL EXPRESS"
    assert label(service="express").carrier_line == "EXPRESS"
    assert label().carrier_line == "SHIPMENT"


def test_label_details_show_package_count_weight_in_kg_and_reference() -> None:
    shown = label(weight_g=1250, package_number=2, package_count=3, reference="WEB-1001")
    assert shown.details == ["Package 2 of 3", "1.25 kg", "Ref WEB-1001"]
    assert label().details == ["Package 1 of 1", "0.00 kg"]


def test_label_defaults_and_frozen() -> None:
    plain = label()
    assert (plain.carrier, plain.service, plain.reference, plain.extra) == (None, None, None, [])
    assert plain.extra is not label().extra
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.weight_g = 5  # type: ignore[misc]


# --- ZPL -------------------------------------------------------------------------------------------


def test_zpl_escape_keeps_printable_ascii() -> None:
    assert zpl_escape("Order #12 (A-b), 50% off!") == "Order #12 (A-b), 50% off!"


def test_zpl_escape_writes_command_characters_as_hex() -> None:
    assert zpl_escape("^XZ~JA_x\\&") == "_5EXZ_7EJA_5Fx_5C&"


def test_zpl_escape_writes_controls_and_non_ascii_as_utf8_hex_bytes() -> None:
    assert zpl_escape("a\nb\x7f") == "a_0Ab_7F"
    assert zpl_escape("é€") == "_C3_A9_E2_82_AC"


@given(st.text())
def test_zpl_escape_output_has_no_command_characters_and_round_trips(text: str) -> None:
    escaped = zpl_escape(text)
    assert not set(escaped) & set("^~\\")
    assert all(32 <= ord(char) < 127 for char in escaped)
    assert re.fullmatch(r"(?:[^_]|_[0-9A-F]{2})*", escaped)
    assert unescape(escaped) == text


@pytest.mark.parametrize(("length", "module"), [(0, 3), (17, 3), (18, 2), (29, 2), (30, 1), (200, 1)])
def test_code128_module_width_shrinks_for_long_data(length: int, module: int) -> None:
    assert code128_module_width("7" * length, BARCODE_WIDTH) == module


@given(st.text(st.characters(max_codepoint=127), max_size=80), st.integers(min_value=0, max_value=2000))
def test_code128_module_width_is_between_one_and_three_and_fits_unless_minimal(data: str, width: int) -> None:
    module = code128_module_width(data, width)
    assert module in (1, 2, 3)
    if module > 1:
        assert (11 * len(data) + 55) * module <= width
    if module < 3:
        assert (11 * len(data) + 55) * (module + 1) > width


def test_zpl_label_is_one_4x6_label_at_203_dpi() -> None:
    zpl = zpl_label(label())
    assert zpl.startswith("^XA\n")
    assert zpl.endswith("^XZ\n")
    assert zpl.count("^XA") == zpl.count("^XZ") == 1
    assert (ZPL_WIDTH_DOTS, ZPL_HEIGHT_DOTS) == (812, 1218)
    assert "^PW812\n" in zpl
    assert "^LL1218\n" in zpl
    assert "^CI28\n" in zpl


def test_zpl_label_has_the_tracking_barcode() -> None:
    zpl = zpl_label(label(tracking_number="1Z999AA10123456784"))
    assert "^FO30,780^BY2,3,200^BCN,200,Y,N,N,A^FH_^FD1Z999AA10123456784^FS" in zpl
    assert "^BY3,3,200^BCN,200,Y,N,N,A^FH_^FDJJD01^FS" in zpl_label(label(tracking_number="JJD01"))
    assert f"^BY1,3,200^BCN,200,Y,N,N,A^FH_^FD{'9' * 40}^FS" in zpl_label(label(tracking_number="9" * 40))


def test_zpl_label_escapes_every_text_and_breaks_address_lines() -> None:
    zpl = zpl_label(
        label(
            tracking_number="AB_1^",
            ship_from=["Dépôt ^Nord", "Dock_4"],
            ship_to=["Zoë~", "Back\\slash", "Tel. 1"],
            carrier="ups^",
            reference="R~1",
        )
    )
    assert "^FB752,6,0,L,0^FH_^FDD_C3_A9p_C3_B4t _5ENord\\&Dock_5F4^FS" in zpl
    assert "^FB752,7,0,L,0^FH_^FDZo_C3_AB_7E\\&Back_5Cslash\\&Tel. 1^FS" in zpl
    assert "^FH_^FDUPS_5E^FS" in zpl
    assert "Ref R_7E1" in zpl
    assert "^FH_^FDAB_5F1_5E^FS" in zpl
    # Every field's data is free of raw command characters, whatever the input said.
    for data in re.findall(r"\^FD(.*?)\^FS", zpl):
        assert not set(data) & set("^~")


def test_zpl_label_shows_the_carrier_line_and_details() -> None:
    zpl = zpl_label(label(carrier="dhl", service="paket", weight_g=800, package_number=1, package_count=2))
    assert "^FH_^FDDHL PAKET^FS" in zpl
    assert "^FH_^FDPackage 1 of 2  |  0.80 kg^FS" in zpl


# --- packing slip and receipt ----------------------------------------------------------------------


def test_packing_slip_defaults_to_a_plain_slip_and_its_lines_to_no_prices() -> None:
    line = SlipLine("SKU-1", "Mug", 2)
    assert (line.unit_price, line.total) == (None, None)
    slip = PackingSlip("WEB-1", "2024-05-01", ["Ann"], ["Acme"], [line])
    assert (slip.gift, slip.gift_message, slip.shipment_id) == (False, None, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        slip.gift = True  # type: ignore[misc]


def test_receipt_keeps_its_lines_and_totals_in_order() -> None:
    line = ReceiptLine("SKU-1", "Mug", 2, "12.50 EUR", "0.00 EUR", "4.75 EUR", "25.00 EUR")
    totals = [("Subtotal", "25.00 EUR"), ("Shipping", "4.90 EUR"), ("Total", "29.90 EUR")]
    receipt = Receipt("WEB-1", "2024-05-01", ["Ann"], [line], totals)
    assert receipt.totals[-1] == ("Total", "29.90 EUR")
    assert receipt.lines == [line]
    assert (receipt.currency, receipt.status) == ("", "")
    assert dataclasses.replace(receipt, status="paid").status == "paid"
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.status = "paid"  # type: ignore[misc]


def test_latin1_composes_a_letter_and_its_combining_accent() -> None:
    assert latin1("Caf\u0065\u0301 Mu\u0308ller") == "Café Müller"
