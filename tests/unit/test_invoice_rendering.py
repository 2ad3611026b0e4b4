"""The invoice and credit note PDFs, read back as text: what a buyer (and a tax auditor) must find on them."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest
from pypdf import PdfReader

from oms_api.invoices import rendering
from oms_api.invoices.domain.document import Address, Document, Party
from oms_api.invoices.pdf import latin1, rate_text
from tests.support.invoice_documents import SELLER, Spec, credit_note, document, many_lines

A4_POINTS = (595.28, 841.89)


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def text(doc: Document) -> str:
    return "\n".join(pages(rendering.pdf(doc)))


def test_invoice_shows_parties_dates_terms_and_payment_details() -> None:
    shown = text(document(paid="100"))
    for expected in (
        "Invoice",
        "No. INV-2026-000042",
        "Nordlicht Handel GmbH",
        "VAT ID: DE136695976",
        "Weiß & Söhne KG",
        "VAT ID: DE811128135",
        "Issue date: 2026-11-20",
        "Due date: 2026-12-20",
        "Order reference: ORD-10077",
        "Payment terms: Net 30",
        "2 % discount if paid by 2026-11-30",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "Lager 4, Industriestraße 9",
    ):
        assert expected in shown, expected


def test_invoice_shows_lines_breakdown_and_totals() -> None:
    shown = text(document(paid="100"))
    assert "1 Espresso machine ESP-01 1 499.00 49.90 449.10 19 % 534.43" in shown
    assert "2 Coffee beans 1 kg BEAN-1KG 3 18.69 56.07 7 % 59.99" in shown
    assert "19 % Standard 455.00 EUR 86.45 EUR" in shown
    assert "7 % Standard 56.07 EUR 3.92 EUR" in shown
    assert "0 % Exempt: Exempt from VAT 240.00 EUR 0.00 EUR" in shown
    for label, amount in (
        ("Net total", "751.07 EUR"),
        ("VAT", "90.37 EUR"),
        ("Total", "841.44 EUR"),
        ("Paid", "100.00 EUR"),
        ("Amount due", "741.44 EUR"),
    ):
        assert f"{label} {amount}" in shown, label


def test_base_currency_totals_with_rate_and_date_when_currencies_differ() -> None:
    shown = text(document(base_currency="USD"))
    assert "In USD (accounting currency), at 1 EUR = 1.0850 USD (rate of 2026-11-20)" in shown
    assert "net 814.91 USD, VAT 98.05 USD, total 912.96 USD" in shown
    assert "accounting currency" not in text(document())


def test_credit_note_names_the_invoice_it_corrects_and_why() -> None:
    shown = text(credit_note())
    assert shown.startswith("Credit note")
    assert "No. CN-2026-000007" in shown
    assert "This credit note corrects invoice INV-2026-000042 of 2026-11-20." in shown
    assert "Reason: Returned damaged goods" in shown
    assert "Amount to refund 534.43 EUR" in shown
    assert "IBAN" not in shown  # nothing to transfer to the seller


def test_paid_invoice_asks_for_no_transfer() -> None:
    shown = text(document(paid="841.44"))
    assert "Amount due 0.00 EUR" in shown
    assert "Please pay" not in shown
    assert "IBAN" not in shown


def test_long_invoices_break_pages_and_repeat_the_table_header() -> None:
    doc = many_lines(120)
    shown = pages(rendering.pdf(doc))
    assert len(shown) >= 3
    for number, page in enumerate(shown, start=1):
        assert f"Page {number} of {len(shown)}" in page
        if number < len(shown):
            assert "# Item SKU Qty Unit price Discount Net VAT Total" in page
    everything = "\n".join(shown)
    for line in doc.lines:
        assert f"{line.line_no} {line.name} {line.sku} " in everything
    assert f"Amount due {doc.amount_due.amount:,f} EUR" in shown[-1]


def test_pdf_is_a4_and_deterministic() -> None:
    doc = document(base_currency="USD")
    first = rendering.pdf(doc)
    assert first == rendering.pdf(doc)
    reader = PdfReader(io.BytesIO(first))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=0.1)
    assert reader.metadata is not None
    assert reader.metadata.title == "Invoice INV-2026-000042"


def test_names_outside_latin1_are_folded_not_refused() -> None:
    buyer = Party(name="Łukasz Wróbel", company="Zakład Łódź 株式会社", address=Address(city="Łódź", country="PL"))
    shown = text(replace(document(), buyer=buyer, seller=replace(SELLER, name="Ødegård")))
    assert "Zaklad Lódz ????" in shown
    assert "Attn. Lukasz Wróbel" in shown
    assert "Attn. Ødegård" in shown


def test_long_item_names_are_cut_to_their_column() -> None:
    doc = document()
    long_line = replace(doc.lines[0], name="An espresso machine with a very long marketing name " * 3)
    shown = text(replace(doc, lines=(long_line, *doc.lines[1:])))
    assert "1 An espresso machine with a very long ... ESP-01 1 499.00" in shown


@pytest.mark.parametrize(
    ("text_in", "expected"), [("Weiß \u201cx\u201d \u2013 5 \u20ac", 'Weiß "x" - 5 EUR'), ("e\u0301", "é")]
)
def test_latin1_keeps_every_latin1_letter(text_in: str, expected: str) -> None:
    assert latin1(text_in) == expected


def test_rate_text() -> None:
    assert [rate_text(Decimal(r)) for r in ("0.19", "0.07", "0.055", "0", "0.1")] == ["19 %", "7 %", "5.5 %", "0 %",
                                                                                      "10 %"]  # fmt: skip


def test_zero_decimal_currency_prints_no_decimals() -> None:
    specs = (Spec("Tea set", 2, "4500", "0.10", "standard", discount="500", sku="TEA"),)
    doc = document(specs, currency="JPY", base_currency="EUR", fx_rate="0.0061")
    shown = text(doc)
    assert "1 Tea set TEA 2 4,500 500 8,500 10 % 9,350" in shown
    assert "Total 9,350 JPY" in shown
    assert "net 51.85 EUR, VAT 5.19 EUR, total 57.04 EUR" in shown
