"""UN/CEFACT Cross Industry Invoice (D16B, as Factur-X and ZUGFeRD carry it) at the EN 16931 profile.

Element order follows the Factur-X EN 16931 XSD. A line's discount is a line allowance (BG-27), so that the line
net amount is quantity x net price - allowance as EN 16931 computes it; the header has no allowances or charges
(shipping is a line), so the tax basis equals the sum of the lines. When the document currency is not the base
currency, the base currency is the VAT accounting currency (BT-6) and the tax total is given in it too (BT-111)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from oms_api.invoices import en16931
from oms_api.invoices.domain.document import Address, Document, DocumentKind, DocumentLine, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
TYPE_CODES = {DocumentKind.INVOICE: "380", DocumentKind.CREDIT_NOTE: "381"}
"""UNTDID 1001: commercial invoice, credit note."""

Element = Any
"""lxml's element (untyped in lxml itself)."""


def _sub(parent: Element, tag: str, text: str | None = None, ns: str = RAM, **attributes: str) -> Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attributes)
    if text is not None:
        element.text = en16931.xml_text(text)
    return element


def cii_xml(doc: Document) -> bytes:
    """The document as CII XML (UTF-8, with declaration)."""
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _sub(root, "ExchangedDocumentContext", ns=RSM)
    _sub(_sub(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", en16931.GUIDELINE)
    _exchanged_document(_sub(root, "ExchangedDocument", ns=RSM), doc)
    transaction = _sub(root, "SupplyChainTradeTransaction", ns=RSM)
    for line in doc.lines:
        _line(_sub(transaction, "IncludedSupplyChainTradeLineItem"), doc, line)
    _agreement(_sub(transaction, "ApplicableHeaderTradeAgreement"), doc)
    _delivery(_sub(transaction, "ApplicableHeaderTradeDelivery"), doc)
    _settlement(_sub(transaction, "ApplicableHeaderTradeSettlement"), doc)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _date(parent: Element, tag: str, value: str, ns: str = UDT) -> None:
    _sub(_sub(parent, tag), "DateTimeString", value, ns=ns, format="102")


def _exchanged_document(document: Element, doc: Document) -> None:
    _sub(document, "ID", doc.number)
    _sub(document, "TypeCode", TYPE_CODES[doc.kind])
    _date(document, "IssueDateTime", en16931.cii_date(doc.issue_date))
    for note in en16931.notes(doc):
        _sub(_sub(document, "IncludedNote"), "Content", note)


def _line(item: Element, doc: Document, line: DocumentLine) -> None:
    _sub(_sub(item, "AssociatedDocumentLineDocument"), "LineID", str(line.line_no))
    product = _sub(item, "SpecifiedTradeProduct")
    if line.sku:
        _sub(product, "SellerAssignedID", line.sku)
    _sub(product, "Name", en16931.item_name(line))
    agreement = _sub(item, "SpecifiedLineTradeAgreement")
    _sub(_sub(agreement, "NetPriceProductTradePrice"), "ChargeAmount", en16931.amount(line.unit_price))
    _sub(_sub(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", str(line.quantity), unitCode=en16931.UNIT_CODE)
    settlement = _sub(item, "SpecifiedLineTradeSettlement")
    _tax(settlement, en16931.line_category(doc, line))
    if line.discount.amount:
        allowance = _sub(settlement, "SpecifiedTradeAllowanceCharge")
        _sub(_sub(allowance, "ChargeIndicator"), "Indicator", "false", ns=UDT)
        _sub(allowance, "BasisAmount", en16931.amount(en16931.gross_line(line)))
        _sub(allowance, "ActualAmount", en16931.amount(line.discount))
        _sub(allowance, "ReasonCode", en16931.DISCOUNT_REASON_CODE)
        _sub(allowance, "Reason", "Discount")
    summation = _sub(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "LineTotalAmount", en16931.amount(line.net))


def _tax(parent: Element, category: en16931.VatCategory, breakdown: en16931.Breakdown | None = None) -> None:
    tax = _sub(parent, "ApplicableTradeTax")
    if breakdown is not None:
        _sub(tax, "CalculatedAmount", en16931.amount(breakdown.tax))
    _sub(tax, "TypeCode", "VAT")
    if breakdown is not None and category.reason:
        _sub(tax, "ExemptionReason", category.reason)
    if breakdown is not None:
        _sub(tax, "BasisAmount", en16931.amount(breakdown.taxable))
    _sub(tax, "CategoryCode", category.code)
    if breakdown is not None and category.reason_code:
        _sub(tax, "ExemptionReasonCode", category.reason_code)
    _sub(tax, "RateApplicablePercent", en16931.plain(category.percent))


def _party(parent: Element, tag: str, party: Party) -> None:
    element = _sub(parent, tag)
    _sub(element, "Name", party.legal_name)
    if party.registration_id:
        _sub(_sub(element, "SpecifiedLegalOrganization"), "ID", party.registration_id)
    if party.company and party.name and party.name != party.company:
        _sub(_sub(element, "DefinedTradeContact"), "PersonName", party.name)
    _address(element, "PostalTradeAddress", party.address)
    if party.email:
        _sub(_sub(element, "URIUniversalCommunication"), "URIID", party.email, schemeID="EM")
    if party.vat_id:
        _sub(_sub(element, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")


def _address(parent: Element, tag: str, address: Address) -> None:
    element = _sub(parent, tag)
    if address.postal_code:
        _sub(element, "PostcodeCode", address.postal_code)
    if address.line1:
        _sub(element, "LineOne", address.line1)
    if address.line2:
        _sub(element, "LineTwo", address.line2)
    if address.city:
        _sub(element, "CityName", address.city)
    if address.country:
        _sub(element, "CountryID", address.country)
    if address.region:
        _sub(element, "CountrySubDivisionName", address.region)


def _agreement(agreement: Element, doc: Document) -> None:
    if doc.order_ref:
        _sub(agreement, "BuyerReference", doc.order_ref)
    _party(agreement, "SellerTradeParty", doc.seller)
    _party(agreement, "BuyerTradeParty", doc.buyer)
    if doc.order_ref:
        _sub(_sub(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", doc.order_ref)


def _delivery(delivery: Element, doc: Document) -> None:
    if doc.shipping_address is not None:
        ship_to = _sub(delivery, "ShipToTradeParty")
        _sub(ship_to, "Name", doc.buyer.legal_name)
        _address(ship_to, "PostalTradeAddress", doc.shipping_address)


def _settlement(settlement: Element, doc: Document) -> None:
    if doc.seller.iban:
        _sub(settlement, "PaymentReference", en16931.remittance(doc))
    if doc.base is not None and doc.base.currency != doc.currency:
        _sub(settlement, "TaxCurrencyCode", doc.base.currency)
    _sub(settlement, "InvoiceCurrencyCode", doc.currency)
    means = _sub(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "TypeCode", en16931.SEPA_CREDIT_TRANSFER if doc.seller.iban else en16931.NOT_DEFINED)
    if doc.seller.iban:
        _sub(_sub(means, "PayeePartyCreditorFinancialAccount"), "IBANID", doc.seller.iban)
        if doc.seller.bic:
            _sub(_sub(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", doc.seller.bic)
    for entry in en16931.breakdown(doc):
        _tax(settlement, entry.category, entry)
    if doc.terms is not None or doc.due_date is not None:
        terms = _sub(settlement, "SpecifiedTradePaymentTerms")
        if doc.terms is not None:
            _sub(terms, "Description", _terms_text(doc))
        if doc.due_date is not None:
            _date(terms, "DueDateDateTime", en16931.cii_date(doc.due_date))
    _summation(_sub(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation"), doc)
    if doc.corrects is not None:
        referenced = _sub(settlement, "InvoiceReferencedDocument")
        _sub(referenced, "IssuerAssignedID", doc.corrects.number)
        _date(referenced, "FormattedIssueDateTime", en16931.cii_date(doc.corrects.issue_date), ns=QDT)


def _terms_text(doc: Document) -> str:
    """BT-20 as printed, with the early-payment discount (EN 16931 has no structured element for it)."""
    assert doc.terms is not None
    text = doc.terms.description
    if doc.terms.discount_percent and doc.terms.discount_until:
        text += f"; {en16931.plain(doc.terms.discount_percent)} % discount if paid by {doc.terms.discount_until}"
    return text


def _summation(summation: Element, doc: Document) -> None:
    _sub(summation, "LineTotalAmount", en16931.amount(en16931.line_total(doc)))
    _sub(summation, "TaxBasisTotalAmount", en16931.amount(doc.net_total))
    _sub(summation, "TaxTotalAmount", en16931.amount(doc.tax_total), currencyID=doc.currency)
    if doc.base is not None and doc.base.currency != doc.currency:
        _sub(summation, "TaxTotalAmount", en16931.amount(doc.base.tax), currencyID=doc.base.currency)
    _sub(summation, "GrandTotalAmount", en16931.amount(doc.grand_total))
    _sub(summation, "TotalPrepaidAmount", en16931.amount(doc.paid))
    _sub(summation, "DuePayableAmount", en16931.amount(doc.amount_due))
