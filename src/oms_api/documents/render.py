"""PDF drawing of labels, packing slips and receipts (fpdf2), with Code 128 from python-barcode.

The barcode is drawn as vector bars (one filled rectangle per bar), so it stays sharp at any print
resolution; python-barcode only supplies the symbol's module pattern (start code, data with its
automatic A/B/C code-set switching, check character, stop). Text uses the PDF core font Helvetica,
which covers Latin-1; other characters are folded by ``domain.latin1``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from barcode.codex import Code128
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from oms_api.documents.domain import LABEL_HEIGHT_IN, LABEL_WIDTH_IN, Label, PackingSlip, Receipt, latin1

MM_PER_IN = 25.4
QUIET_ZONE_MODULES = 10
#: Fixed document date: the same data renders the same bytes (cacheable, comparable in tests).
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def code128_modules(data: str) -> str:
    """The symbol as a string of modules, ``1`` bar and ``0`` space (python-barcode's encoder)."""
    return str(Code128(data).build()[0])


def bars(modules: str) -> list[tuple[int, int]]:
    """Runs of bar modules as (first module, width in modules)."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, module in enumerate(modules + "0"):
        if module == "1" and start is None:
            start = index
        elif module == "0" and start is not None:
            runs.append((start, index - start))
            start = None
    return runs


class _Document(FPDF):
    def __init__(self, width_mm: float, height_mm: float, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format=(width_mm, height_mm))
        self.set_auto_page_break(auto=True, margin=12)
        self.set_margins(10, 10, 10)
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

    def code128(self, data: str, x: float, y: float, width: float, height: float) -> float:
        """Draw ``data`` as Code 128 centred in ``width``; returns the module width used (mm)."""
        modules = code128_modules(data)
        module = width / (len(modules) + 2 * QUIET_ZONE_MODULES)
        left = x + (width - module * len(modules)) / 2
        self.set_fill_color(0, 0, 0)
        for start, run in bars(modules):
            self.rect(left + start * module, y, run * module, height, style="F")
        return module

    def bytes(self) -> bytes:
        return bytes(self.output())


def label_pdf(label: Label) -> bytes:
    """A 4x6 in shipping label: sender, recipient, carrier and service, and the tracking barcode."""
    pdf = _Document(LABEL_WIDTH_IN * MM_PER_IN, LABEL_HEIGHT_IN * MM_PER_IN, f"Label {label.tracking_number}")
    pdf.set_margins(5, 5, 5)
    pdf.set_auto_page_break(auto=False)
    pdf.set_xy(5, 5)
    pdf.text_line("FROM", size=7, style="B")
    for line in label.ship_from:
        pdf.text_line(line, size=8, height=3.6)
    pdf.ln(1)
    pdf.rule()
    pdf.text_line("SHIP TO", size=8, style="B")
    for line in label.ship_to:
        pdf.text_line(line, size=13, style="B", height=6)
    pdf.ln(1)
    pdf.rule()
    pdf.text_line(label.carrier_line, size=12, style="B")
    pdf.text_line("  |  ".join(label.details), size=9)
    for line in label.extra:
        pdf.text_line(line, size=8)
    top = max(pdf.get_y() + 3, 100)
    pdf.line(5, top - 2, pdf.w - 5, top - 2)
    pdf.set_xy(5, top)
    pdf.text_line("TRACKING NUMBER", size=7, style="B")
    pdf.code128(label.tracking_number, 5, top + 5, pdf.w - 10, 28)
    pdf.set_xy(5, top + 35)
    pdf.set_font("helvetica", style="B", size=12)
    pdf.cell(pdf.w - 10, 6, latin1(label.tracking_number), align="C")
    return pdf.bytes()


def _row(pdf: _Document, cells: list[tuple[str, float, str]], *, bold: bool = False, size: float = 9) -> None:
    pdf.set_font("helvetica", style="B" if bold else "", size=size)
    height = size * 0.55
    for text, width, align in cells:
        pdf.cell(width, height, latin1(text), align=align)
    pdf.ln(height + 0.8)


A4 = (210.0, 297.0)


def packing_slip_pdf(slip: PackingSlip) -> bytes:
    """An A4 packing slip; a gift slip shows the gift message and no prices."""
    pdf = _Document(*A4, f"Packing slip {slip.reference}")
    pdf.text_line("Gift packing slip" if slip.gift else "Packing slip", size=18, style="B")
    pdf.text_line(f"Order {slip.reference}  -  placed {slip.placed_on}", size=10)
    if slip.shipment_id:
        pdf.text_line(f"Shipment {slip.shipment_id}", size=8)
    pdf.ln(3)
    y = pdf.get_y()
    pdf.text_line("Ship to", size=9, style="B")
    for address_line in slip.ship_to:
        pdf.text_line(address_line, size=10)
    bottom = pdf.get_y()
    pdf.set_xy(110, y)
    pdf.set_left_margin(110)
    pdf.text_line("Shipped from", size=9, style="B")
    for address_line in slip.ship_from:
        pdf.text_line(address_line, size=10)
    pdf.set_left_margin(10)
    pdf.set_xy(10, max(bottom, pdf.get_y()) + 4)
    if slip.gift and slip.gift_message:
        pdf.set_fill_color(240, 240, 240)
        pdf.set_font("helvetica", style="B", size=10)
        pdf.cell(0, 6, "Gift message", new_x=XPos.LMARGIN, new_y=YPos.NEXT, fill=True)
        pdf.set_font("helvetica", style="I", size=11)
        pdf.multi_cell(0, 6, latin1(slip.gift_message), new_x=XPos.LMARGIN, new_y=YPos.NEXT, fill=True)
        pdf.ln(4)
    if slip.gift:
        columns = [("SKU", 45.0, "L"), ("Item", 115.0, "L"), ("Qty", 30.0, "R")]
    else:
        columns = [("SKU", 35.0, "L"), ("Item", 80.0, "L"), ("Qty", 15.0, "R"), ("Price", 30.0, "R"),
                   ("Total", 30.0, "R")]  # fmt: skip
    _row(pdf, columns, bold=True)
    pdf.rule()
    for line in slip.lines:
        values = [line.sku, line.name[:48], str(line.quantity)]
        if not slip.gift:
            values += [line.unit_price or "", line.total or ""]
        _row(pdf, [(value, width, align) for value, (_, width, align) in zip(values, columns, strict=True)])
    pdf.rule()
    units = sum(line.quantity for line in slip.lines)
    pdf.text_line(f"{units} item(s) in this shipment", size=9)
    return pdf.bytes()


def receipt_pdf(receipt: Receipt) -> bytes:
    """An A4 receipt: lines with prices, discounts and tax, and the order's totals."""
    pdf = _Document(*A4, f"Receipt {receipt.reference}")
    pdf.text_line("Receipt", size=18, style="B")
    pdf.text_line(f"Order {receipt.reference}  -  placed {receipt.placed_on}", size=10)
    if receipt.status:
        pdf.text_line(f"Status: {receipt.status}", size=8)
    pdf.ln(3)
    pdf.text_line("Bill to", size=9, style="B")
    for address_line in receipt.bill_to:
        pdf.text_line(address_line, size=10)
    pdf.ln(4)
    columns = [("SKU", 30.0, "L"), ("Item", 55.0, "L"), ("Qty", 12.0, "R"), ("Unit price", 24.0, "R"),
               ("Discount", 22.0, "R"), ("Tax", 22.0, "R"), ("Total", 25.0, "R")]  # fmt: skip
    _row(pdf, columns, bold=True, size=8.5)
    pdf.rule()
    for line in receipt.lines:
        values = [line.sku, line.name[:34], str(line.quantity), line.unit_price, line.discount, line.tax, line.total]
        _row(pdf, [(v, w, a) for v, (_, w, a) in zip(values, columns, strict=True)], size=8.5)
    pdf.rule()
    for index, (label, amount) in enumerate(receipt.totals):
        last = index == len(receipt.totals) - 1
        _row(pdf, [("", 110.0, "L"), (label, 45.0, "R"), (amount, 35.0, "R")], bold=last, size=10 if last else 9)
    return pdf.bytes()
