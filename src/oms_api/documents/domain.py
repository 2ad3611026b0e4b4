"""Document rules (pure): what a label, a packing slip and a receipt say, and the label as ZPL.

The PDFs are drawn in ``render.py``; everything a test or a printer could disagree about — which
address lines appear, the gift message, ZPL escaping, 4x6 in at 203 dpi — is decided here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LABEL_WIDTH_IN = 4
LABEL_HEIGHT_IN = 6
ZPL_DPI = 203
ZPL_WIDTH_DOTS = LABEL_WIDTH_IN * ZPL_DPI  # 812
ZPL_HEIGHT_DOTS = LABEL_HEIGHT_IN * ZPL_DPI  # 1218

_GIFT_LINE = re.compile(r"^\s*gift(?:\s+message)?\s*:\s*(?P<message>.+)$", re.IGNORECASE)

#: Letters with no decomposition that readers still expect spelled out (sharp s, L with stroke, ...),
#: and typographic punctuation that Latin-1 lacks.
_SPELLED = str.maketrans(
    {
        "\u00df": "ss",
        "\u0141": "L",
        "\u0142": "l",
        "\u00d8": "O",
        "\u00f8": "o",
        "\u0110": "D",
        "\u0111": "d",
        "\u00c6": "AE",
        "\u00e6": "ae",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u00de": "Th",
        "\u00fe": "th",
        "\u0131": "i",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u20ac": "EUR",
    }
)


def latin1(text: str) -> str:
    """``text`` in Latin-1 (what the PDF core fonts draw): accents kept where Latin-1 has them,
    other letters decomposed to their base (Ł → L, ő → o), anything else as ``?``. Text typed as a letter
    followed by a combining accent (as macOS often sends it) is composed first, so "e" + "◌́" is "é"."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).translate(_SPELLED):
        if ord(char) < 256:
            out.append(char if char.isprintable() else " ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def gift_message(notes: str | None) -> str | None:
    """The gift message of an order: a ``Gift message: …`` (or ``Gift: …``) line of its notes, else the
    whole notes (a gift order's notes are the message the shopper typed)."""
    if not notes or not notes.strip():
        return None
    for line in notes.splitlines():
        found = _GIFT_LINE.match(line)
        if found:
            return found.group("message").strip()
    return notes.strip()


def is_gift(tags: Sequence[str]) -> bool:
    return "gift" in tags


def address_lines(address: Mapping[str, Any] | None) -> list[str]:
    """The lines of a postal address as printed on a parcel (name first, country last)."""
    if not address:
        return []
    city = " ".join(str(part) for part in (address.get("postal_code"), address.get("city")) if part)
    lines = [
        address.get("name"),
        address.get("company"),
        address.get("line1"),
        address.get("line2"),
        ", ".join(str(part) for part in (city, address.get("region")) if part),
        address.get("country"),
        f"Tel. {address['phone']}" if address.get("phone") else None,
    ]
    return [str(line) for line in lines if line]


@dataclass(frozen=True, slots=True)
class Label:
    """What a shipping label shows."""

    tracking_number: str
    ship_from: list[str]
    ship_to: list[str]
    carrier: str | None = None
    service: str | None = None
    weight_g: int = 0
    package_number: int = 1
    package_count: int = 1
    reference: str | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def carrier_line(self) -> str:
        return " ".join(part.upper() for part in (self.carrier, self.service) if part) or "SHIPMENT"

    @property
    def details(self) -> list[str]:
        weight = f"{self.weight_g / 1000:.2f} kg"
        parts = [f"Package {self.package_number} of {self.package_count}", weight]
        if self.reference:
            parts.append(f"Ref {self.reference}")
        return parts


def zpl_escape(text: str) -> str:
    """A field's data for ``^FH_``: control and ZPL command characters (and non-ASCII, as UTF-8 bytes
    under ``^CI28``) written as ``_XX`` hex, so no text can end the field or start a command."""
    out: list[str] = []
    for char in text:
        if char in "^~_\\" or not (32 <= ord(char) < 127):
            out.extend(f"_{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
    return "".join(out)


def _field(x: int, y: int, size: int, text: str, *, width: int = ZPL_WIDTH_DOTS - 60, lines: int = 1) -> str:
    block = f"^FB{width},{lines},0,L,0" if lines > 1 else ""
    return f"^FO{x},{y}^A0N,{size},{size}{block}^FH_^FD{text}^FS"


def _block(lines: Sequence[str]) -> str:
    return "\\&".join(zpl_escape(line) for line in lines)


def code128_module_width(data: str, width_dots: int) -> int:
    """Narrowest bar in dots (1 to 3) so that the Code 128 symbol of ``data`` fits ``width_dots``.

    A symbol takes 11 modules per character (fewer for digit pairs) plus 35 for start, check digit,
    stop and quiet zones; the estimate assumes no digit compression, so it never overflows.
    """
    modules = 11 * len(data) + 35 + 20
    for width in (3, 2):
        if modules * width <= width_dots:
            return width
    return 1


def zpl_label(label: Label) -> str:
    """The label as ZPL II for a 4x6 in, 203 dpi thermal printer (UTF-8, ``^CI28``)."""
    module = code128_module_width(label.tracking_number, ZPL_WIDTH_DOTS - 60)
    tracking = zpl_escape(label.tracking_number)
    commands = [
        "^XA",
        "^CI28",
        f"^PW{ZPL_WIDTH_DOTS}",
        f"^LL{ZPL_HEIGHT_DOTS}",
        "^LH0,0",
        _field(30, 30, 22, "FROM"),
        _field(30, 58, 24, _block(label.ship_from), lines=6),
        f"^FO30,230^GB{ZPL_WIDTH_DOTS - 60},3,3^FS",
        _field(30, 250, 26, "SHIP TO"),
        _field(30, 285, 40, _block(label.ship_to), lines=7),
        f"^FO30,610^GB{ZPL_WIDTH_DOTS - 60},3,3^FS",
        _field(30, 630, 34, zpl_escape(label.carrier_line)),
        _field(30, 675, 26, zpl_escape("  |  ".join(label.details))),
        f"^FO30,720^GB{ZPL_WIDTH_DOTS - 60},3,3^FS",
        _field(30, 740, 24, "TRACKING"),
        f"^FO30,780^BY{module},3,200^BCN,200,Y,N,N,A^FH_^FD{tracking}^FS",
        "^XZ",
    ]
    return "\n".join(commands) + "\n"


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str
    name: str
    quantity: int
    unit_price: str | None = None  # formatted, e.g. "12.50 EUR"; None on a gift slip
    total: str | None = None


@dataclass(frozen=True, slots=True)
class PackingSlip:
    reference: str
    placed_on: str
    ship_to: list[str]
    ship_from: list[str]
    lines: list[SlipLine]
    gift: bool = False
    gift_message: str | None = None
    shipment_id: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    sku: str
    name: str
    quantity: int
    unit_price: str
    discount: str
    tax: str
    total: str


@dataclass(frozen=True, slots=True)
class Receipt:
    reference: str
    placed_on: str
    bill_to: list[str]
    lines: list[ReceiptLine]
    totals: list[tuple[str, str]]  # (label, formatted amount), grand total last
    currency: str = ""
    status: str = ""
