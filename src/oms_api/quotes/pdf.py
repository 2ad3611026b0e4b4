"""The quote as an A4 PDF (fpdf2), in the house style of ``documents.render``: Helvetica (Latin-1, other
characters folded by ``documents.domain.latin1``), a fixed document date so the same quote renders the same bytes.

Shows the seller and the buyer (company and VAT id), the lines at their negotiated prices, the tax per rate, the
totals, the validity date and the payment terms the order would be on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from oms_api.documents.domain import latin1
from oms_api.kit.schemas import Money
from oms_api.quotes.schemas import Quote

A4 = (210.0, 297.0)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Fixed document date: the same quote renders the same bytes (cacheable, comparable in tests)."""


@dataclass(frozen=True, slots=True)
class QuoteSheet:
    """What the PDF prints besides the quote itself."""

    quote: Quote
    seller: list[str]
    """Name, then address and VAT id lines."""
    buyer: list[str]
    """Company (or name), contact, VAT id, address lines."""
    terms: str
    """The payment terms the order would be on."""


def _amount(money: Money) -> str:
    return f"{money.amount} {money.currency}"


def _percent(rate: str) -> str:
    """``0.19`` -> ``19 %``, ``0.075`` -> ``7.5 %``."""
    return f"{(Decimal(rate or 0) * 100).normalize():f} %"


class _Sheet(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format=A4)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.set_title(latin1(title))
        self.set_creator("oms-api")
        self.set_creation_date(_EPOCH)
        self.add_page()

    def text_line(self, text: str, size: float = 10, style: str = "", height: float | None = None) -> None:
        self.set_font("helvetica", style=style, size=size)
        self.multi_cell(0, height or size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def row(self, cells: list[tuple[str, float, str]], *, bold: bool = False, size: float = 9) -> None:
        self.set_font("helvetica", style="B" if bold else "", size=size)
        height = size * 0.55
        for text, width, align in cells:
            self.cell(width, height, latin1(text), align=align)
        self.ln(height + 0.8)

    def block(self, x: float, title: str, lines: list[str]) -> float:
        """A titled block of lines at column ``x``; returns where it ends."""
        self.set_left_margin(x)
        self.set_x(x)
        self.text_line(title, size=9, style="B")
        for line in lines:
            self.text_line(line, size=10)
        return self.get_y()


def render(sheet: QuoteSheet) -> bytes:
    quote = sheet.quote
    pdf = _Sheet(f"Quote {quote.number}")
    pdf.text_line("Quote", size=20, style="B", height=9)
    pdf.text_line(f"No. {quote.number}", size=11, style="B")
    issued = (quote.sent_at or quote.created_at).date().isoformat()
    pdf.text_line(f"Date {issued}  -  valid until {quote.valid_until.isoformat()}", size=10)
    pdf.ln(4)
    top = pdf.get_y()
    left_end = pdf.block(15, "From", sheet.seller)
    pdf.set_y(top)
    right_end = pdf.block(110, "For", sheet.buyer)
    pdf.set_left_margin(15)
    pdf.set_xy(15, max(left_end, right_end) + 6)

    columns = [("SKU", 28.0, "L"), ("Item", 52.0, "L"), ("Qty", 12.0, "R"), ("Unit price", 24.0, "R"),
               ("Discount", 20.0, "R"), ("Tax", 18.0, "R"), ("Total", 26.0, "R")]  # fmt: skip
    pdf.row(columns, bold=True, size=8.5)
    pdf.rule()
    for line in quote.lines:
        rate = f" ({_percent(line.tax_rate)})" if line.tax_rate else ""
        values = [line.sku, line.name[:32], str(line.quantity), _amount(line.unit_price), _amount(line.discount),
                  _amount(line.tax) + rate, _amount(line.total)]  # fmt: skip
        pdf.row([(v, w, a) for v, (_, w, a) in zip(values, columns, strict=True)], size=8.5)
    pdf.rule()

    totals = quote.totals
    basis = "Prices include tax" if quote.prices_include_tax else "Prices exclude tax"
    rows = [
        ("Subtotal", _amount(totals.subtotal)),
        ("Discounts", _amount(totals.discount_total)),
        ("Shipping", _amount(totals.shipping_total)),
        ("Tax", _amount(totals.tax_total)),
        ("Total", _amount(totals.grand_total)),
    ]
    for index, (label, amount) in enumerate(rows):
        last = index == len(rows) - 1
        pdf.row([("", 100.0, "L"), (label, 45.0, "R"), (amount, 35.0, "R")], bold=last, size=10 if last else 9)
    pdf.ln(3)
    if totals.tax_breakdown:
        pdf.text_line("Tax per rate", size=9, style="B")
        for entry in totals.tax_breakdown:
            category = f" {entry.category}" if entry.category else ""
            pdf.text_line(f"{_percent(entry.rate)}{category}: {_amount(entry.tax)} on {_amount(entry.taxable)}", size=9)
        pdf.ln(2)
    pdf.text_line(basis, size=9)
    pdf.ln(3)
    pdf.text_line("Terms", size=9, style="B")
    pdf.text_line(f"This quote is valid until {quote.valid_until.isoformat()}.", size=9)
    if quote.reserve_stock:
        pdf.text_line("The goods are reserved for you until then.", size=9)
    pdf.text_line(f"Payment: {sheet.terms}", size=9)
    if quote.notes:
        pdf.ln(2)
        pdf.text_line("Notes", size=9, style="B")
        pdf.text_line(quote.notes, size=9)
    return bytes(pdf.output())
