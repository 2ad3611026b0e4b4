"""The A4 PDF of an issued invoice or credit note (fpdf2), as the buyer reads and files it.

Same house style as ``documents.render``: the core font Helvetica (Latin-1) and a fixed creation date, so the same
document always renders the same bytes. The line table breaks across pages and repeats its header; every page's
footer names the document and the page."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from oms_api.invoices import en16931
from oms_api.invoices.domain.document import Address, Document, DocumentKind, Party
from oms_api.kit.money import Money, quantum

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Fixed document date: the same document renders the same bytes."""
MARGIN = 15.0
WIDTH = 180.0
"""A4 less the margins."""
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("#", 7.0, "R"), ("Item", 57.0, "L"), ("SKU", 25.0, "L"), ("Qty", 10.0, "R"), ("Unit price", 18.0, "R"),
    ("Discount", 16.0, "R"), ("Net", 18.0, "R"), ("VAT", 11.0, "R"), ("Total", 18.0, "R"),
)  # fmt: skip
ROW = 5.0
TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.CREDIT_NOTE: "Credit note"}


_SPELLED = str.maketrans(
    {"\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe", "\u0131": "i",
     "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u20ac": "EUR"}
)  # fmt: skip
"""Letters outside Latin-1 with no decomposition, and typographic punctuation Latin-1 lacks."""


def latin1(text: str) -> str:
    """``text`` as the core font can draw it: every Latin-1 character kept as it is (legal names print exactly
    when they can: ß, Ø and Æ stay), other letters folded to their base (Ł -> L, ő -> o), anything else ``?``.
    Unlike ``documents.domain.latin1``, which spells ß as ss on labels, a name on an invoice is not respelled."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).translate(_SPELLED):
        if ord(char) < 256:
            out.append(char if char.isprintable() else " ")
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def figure(value: Money) -> str:
    """``1,234.50``: thousands separated, exactly the currency's decimals (the table names the currency once)."""
    return f"{value.amount.quantize(quantum(value.currency)):,f}"


def money(value: Money) -> str:
    """``1,234.50 EUR``."""
    return f"{figure(value)} {value.currency}"


def rate_text(rate: Decimal) -> str:
    """0.19 -> ``19 %``, 0.055 -> ``5.5 %``."""
    text = f"{en16931.percent(rate):f}"
    return f"{text.rstrip('0').rstrip('.')} %"


def day(value: date) -> str:
    return value.isoformat()


def address_lines(address: Address) -> list[str]:
    lines = [line for line in (address.line1, address.line2) if line]
    town = " ".join(part for part in (address.postal_code, address.city) if part)
    region = ", ".join(part for part in (town, address.region) if part)
    if region:
        lines.append(region)
    if address.country:
        lines.append(address.country)
    return lines


def party_lines(party: Party) -> list[str]:
    lines = [party.legal_name]
    if party.company and party.name and party.name != party.company:
        lines.append(f"Attn. {party.name}")
    lines += address_lines(party.address)
    if party.vat_id:
        lines.append(f"VAT ID: {party.vat_id}")
    if party.registration_id:
        lines.append(f"Registration: {party.registration_id}")
    if party.email:
        lines.append(party.email)
    return lines


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        self.title_text = f"{TITLES[doc.kind]} {doc.number}"
        self.in_table = False
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_title(latin1(self.title_text))
        self.set_author(latin1(doc.seller.legal_name))
        self.set_subject(latin1(f"{self.title_text} issued {day(doc.issue_date)} to {doc.buyer.legal_name}"))
        self.set_creator("oms-api")
        self.set_lang("en")
        self.set_creation_date(_EPOCH)

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("helvetica", style="B", size=9)
            self.cell(0, 5, latin1(f"{self.title_text} - {self.doc.seller.legal_name}"), new_x=XPos.LMARGIN,
                      new_y=YPos.NEXT)  # fmt: skip
            self.ln(3)
            if self.in_table:
                self.table_header()

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("helvetica", size=7.5)
        self.cell(WIDTH / 2, 4, latin1(f"{self.title_text}  -  {day(self.doc.issue_date)}"))
        self.cell(WIDTH / 2, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    def text_line(self, text: str, size: float = 9.5, style: str = "", height: float | None = None) -> None:
        self.set_font("helvetica", style=style, size=size)
        self.multi_cell(0, height or size * 0.48, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fitted(self, text: str, width: float) -> str:
        """``text`` in Latin-1, cut with an ellipsis to fit ``width`` in the current font."""
        text = latin1(text)
        if self.get_string_width(text) <= width - 1.5:
            return text
        while text and self.get_string_width(text + "...") > width - 1.5:
            text = text[:-1]
        return text + "..."

    def row(self, cells: list[tuple[str, float, str]], *, bold: bool = False, size: float = 8.5) -> None:
        self.set_font("helvetica", style="B" if bold else "", size=size)
        for text, width, align in cells:
            self.cell(width, ROW, self.fitted(text, width), align=align)
        self.ln(ROW)

    def rule(self) -> None:
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)

    def table_header(self) -> None:
        self.set_fill_color(235, 235, 235)
        self.set_font("helvetica", style="B", size=8)
        for title, width, align in COLUMNS:
            self.cell(width, ROW + 1, title, align=align, fill=True)
        self.ln(ROW + 1.5)

    def blocks(self, left: tuple[str, list[str]], right: tuple[str, list[str]]) -> None:
        """Two labelled blocks side by side (seller and document facts, buyer and delivery)."""
        top = self.get_y()
        self.text_line(left[0], size=8, style="B")
        for line in left[1]:
            self.text_line(line)
        bottom = self.get_y()
        self.set_xy(MARGIN + WIDTH / 2 + 5, top)
        self.set_left_margin(MARGIN + WIDTH / 2 + 5)
        self.text_line(right[0], size=8, style="B")
        for line in right[1]:
            self.text_line(line)
        self.set_left_margin(MARGIN)
        self.set_xy(MARGIN, max(bottom, self.get_y()) + 4)

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def invoice_pdf(doc: Document) -> bytes:
    """The document as an A4 PDF."""
    pdf = _Pdf(doc)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.text_line(TITLES[doc.kind], size=20, style="B", height=10)
    pdf.text_line(f"No. {doc.number}", size=12, style="B", height=7)
    pdf.ln(3)
    pdf.blocks(("From", party_lines(doc.seller)), ("Details", _facts(doc)))
    ship_to = ("Delivered to", address_lines(doc.shipping_address)) if doc.shipping_address else ("", [])
    pdf.blocks(("Bill to", party_lines(doc.buyer)), ship_to)
    if doc.kind is DocumentKind.CREDIT_NOTE:
        _corrects(pdf, doc)
    _lines(pdf, doc)
    _tax_breakdown(pdf, doc)
    _totals(pdf, doc)
    _payment(pdf, doc)
    if doc.note:
        pdf.ln(2)
        pdf.text_line(doc.note, size=8.5)
    return pdf.output_bytes()


def _facts(doc: Document) -> list[str]:
    facts = [f"Issue date: {day(doc.issue_date)}"]
    if doc.due_date is not None:
        facts.append(f"Due date: {day(doc.due_date)}")
    if doc.order_ref:
        facts.append(f"Order reference: {doc.order_ref}")
    if doc.corrects is not None:
        facts.append(f"Corrects invoice: {doc.corrects.number}")
    facts.append(f"Currency: {doc.currency}")
    return facts


def _corrects(pdf: _Pdf, doc: Document) -> None:
    pdf.set_fill_color(245, 245, 245)
    pdf.set_font("helvetica", style="B", size=9.5)
    if doc.corrects is not None:
        text = f"This credit note corrects invoice {doc.corrects.number} of {day(doc.corrects.issue_date)}."
    else:
        text = "This credit note corrects an earlier invoice."
    pdf.multi_cell(0, 5.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, fill=True)
    if doc.reason:
        pdf.set_font("helvetica", size=9.5)
        pdf.multi_cell(0, 5.5, latin1(f"Reason: {doc.reason}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, fill=True)
    pdf.ln(4)


def _lines(pdf: _Pdf, doc: Document) -> None:
    pdf.text_line(f"Amounts in {doc.currency}", size=8, style="I")
    pdf.ln(1)
    pdf.table_header()
    pdf.in_table = True
    for line in doc.lines:
        if pdf.will_page_break(ROW):
            pdf.add_page()  # the header repeats the table header
        values = (
            str(line.line_no), line.name, line.sku or "", str(line.quantity), figure(line.unit_price),
            figure(line.discount) if line.discount.amount else "", figure(line.net), rate_text(line.tax_rate),
            figure(line.total),
        )  # fmt: skip
        pdf.row([(value, width, align) for value, (_, width, align) in zip(values, COLUMNS, strict=True)])
    pdf.in_table = False
    pdf.rule()
    pdf.ln(2)


def _keep(pdf: _Pdf, height: float) -> None:
    """Start a new page when a block of ``height`` would not fit (breakdown and totals stay in one piece)."""
    if pdf.will_page_break(height):
        pdf.add_page()


def _tax_breakdown(pdf: _Pdf, doc: Document) -> None:
    entries = en16931.breakdown(doc)
    _keep(pdf, ROW * (len(entries) + 2))
    pdf.text_line("VAT breakdown", size=8, style="B")
    columns = [("Rate", 25.0, "R"), ("Category", 55.0, "L"), ("Taxable amount", 35.0, "R"), ("VAT", 35.0, "R")]
    pdf.row(columns, bold=True, size=8)
    for entry in entries:
        label = {"S": "Standard", "Z": "Zero rated", "E": "Exempt", "AE": "Reverse charge"}.get(
            entry.category.code, entry.category.code
        )
        if entry.category.reason and entry.category.code == "E":
            label = f"Exempt: {entry.category.reason}"
        values = [f"{rate_text(entry.category.percent / 100)}", label, money(entry.taxable), money(entry.tax)]
        pdf.row([(value, width, align) for value, (_, width, align) in zip(values, columns, strict=True)])
    pdf.ln(3)


def _totals(pdf: _Pdf, doc: Document) -> None:
    rows = [("Net total", doc.net_total), ("VAT", doc.tax_total), ("Total", doc.grand_total)]
    credit = doc.kind is DocumentKind.CREDIT_NOTE
    if doc.paid.amount:
        rows.append(("Refunded" if credit else "Paid", doc.paid))
    rows.append(("Amount to refund" if credit else "Amount due", doc.amount_due))
    _keep(pdf, ROW * (len(rows) + 6))
    for index, (label, value) in enumerate(rows):
        emphasis = label == "Total" or index == len(rows) - 1
        pdf.row([("", 95.0, "L"), (label, 45.0, "R"), (money(value), 40.0, "R")], bold=emphasis, size=9.5)
    if doc.base is not None and doc.base.currency != doc.currency:
        base = doc.base
        pdf.ln(2)
        pdf.text_line(
            f"In {base.currency} (accounting currency), at 1 {doc.currency} = {base.fx_rate:f} {base.currency} "
            f"(rate of {day(base.fx_rate_date)}): net {money(base.net)}, VAT {money(base.tax)}, "
            f"total {money(base.total)}",
            size=8.5,
        )
    pdf.ln(3)


def _payment(pdf: _Pdf, doc: Document) -> None:
    lines: list[str] = []
    if doc.terms is not None:
        lines.append(f"Payment terms: {doc.terms.description}")
        if doc.terms.discount_percent and doc.terms.discount_until:
            lines.append(
                f"Early payment: {en16931.plain(doc.terms.discount_percent)} % discount if paid by "
                f"{day(doc.terms.discount_until)}"
            )
    if doc.due_date is not None and doc.amount_due.amount > 0:
        lines.append(f"Please pay {money(doc.amount_due)} by {day(doc.due_date)}.")
    if doc.seller.iban and doc.kind is DocumentKind.INVOICE and doc.amount_due.amount > 0:
        bank = f"Bank transfer to {doc.seller.legal_name}, IBAN {_grouped(doc.seller.iban)}"
        if doc.seller.bic:
            bank += f", BIC {doc.seller.bic}"
        lines.append(f"{bank}, reference {en16931.remittance(doc)}")
    if not lines:
        return
    _keep(pdf, ROW * (len(lines) + 1))
    pdf.text_line("Payment", size=8, style="B")
    for line in lines:
        pdf.text_line(line, size=9)


def _grouped(iban: str) -> str:
    """An IBAN in groups of four, as printed."""
    return " ".join(iban[index : index + 4] for index in range(0, len(iban), 4))
