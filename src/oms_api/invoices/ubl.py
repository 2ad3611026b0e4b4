"""UBL 2.1 ``Invoice`` / ``CreditNote`` for Peppol BIS Billing 3.0 (EN 16931 with Peppol's customisation).

Every element is appended in the order of the UBL 2.1 XSD sequence of its parent (an out-of-order element makes
the whole document invalid). Categories, amounts and the breakdown come from ``en16931`` so that the UBL and the
CII of one document agree. A credit note has no header due date in UBL 2.1: EN 16931 puts BT-9 into the payment
means there."""

from __future__ import annotations

from typing import Any

from lxml import etree

from oms_api.invoices import en16931
from oms_api.invoices.domain.document import Address, Document, DocumentKind, DocumentLine, Party
from oms_api.kit.money import Money
from oms_api.kit.vat import country_of

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

VAT_ENDPOINT_SCHEMES = {
    "AD": "9922", "AL": "9923", "AT": "9914", "BA": "9924", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928",
    "CZ": "9929", "DE": "9930", "EE": "9931", "ES": "9920", "FR": "9957", "GB": "9932", "GR": "9933", "HR": "9934",
    "HU": "9910", "IE": "9935", "IT": "9906", "LI": "9936", "LT": "9937", "LU": "9938", "LV": "9939", "MC": "9940",
    "ME": "9941", "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947", "RS": "9948",
    "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952", "VA": "9953",
}  # fmt: skip
"""Peppol electronic address schemes (EAS code list) that identify a party by its VAT id, per country."""
EMAIL_SCHEME = "EM"

Element = Any
"""lxml's element (untyped in lxml itself)."""


def _cbc(parent: Element, tag: str, text: str, **attributes: str) -> Element:
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", attributes)
    element.text = en16931.xml_text(text)
    return element


def _cac(parent: Element, tag: str) -> Element:
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def _money(parent: Element, tag: str, value: Money) -> Element:
    return _cbc(parent, tag, en16931.amount(value), currencyID=value.currency)


def ubl_xml(doc: Document) -> bytes:
    """The document as UBL 2.1 XML (UTF-8, with declaration)."""
    credit = doc.kind is DocumentKind.CREDIT_NOTE
    namespace, root_tag = (CREDIT_NOTE_NS, "CreditNote") if credit else (INVOICE_NS, "Invoice")
    root = etree.Element(f"{{{namespace}}}{root_tag}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    _cbc(root, "CustomizationID", en16931.PEPPOL_CUSTOMIZATION)
    _cbc(root, "ProfileID", en16931.PEPPOL_PROFILE)
    _cbc(root, "ID", doc.number)
    _cbc(root, "IssueDate", doc.issue_date.isoformat())
    if not credit and doc.due_date is not None:
        _cbc(root, "DueDate", doc.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    for note in en16931.notes(doc):
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", doc.currency)
    other_currency = doc.base is not None and doc.base.currency != doc.currency
    if doc.base is not None and other_currency:
        _cbc(root, "TaxCurrencyCode", doc.base.currency)
    if doc.order_ref:
        _cbc(root, "BuyerReference", doc.order_ref)
        _cbc(_cac(root, "OrderReference"), "ID", doc.order_ref)
    if doc.corrects is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", doc.corrects.number)
        _cbc(reference, "IssueDate", doc.corrects.issue_date.isoformat())
    _party(_cac(root, "AccountingSupplierParty"), doc.seller)
    _party(_cac(root, "AccountingCustomerParty"), doc.buyer)
    if doc.shipping_address is not None:
        delivery = _cac(root, "Delivery")
        _address(_cac(_cac(delivery, "DeliveryLocation"), "Address"), doc.shipping_address)
        _cbc(_cac(_cac(delivery, "DeliveryParty"), "PartyName"), "Name", doc.buyer.legal_name)
    _payment_means(root, doc, credit)
    if doc.terms is not None:
        _cbc(_cac(root, "PaymentTerms"), "Note", _terms_text(doc))
    _tax_totals(root, doc)
    _monetary_total(_cac(root, "LegalMonetaryTotal"), doc)
    for line in doc.lines:
        _line(_cac(root, "CreditNoteLine" if credit else "InvoiceLine"), doc, line, credit)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _endpoint(party: Party) -> tuple[str, str] | None:
    """BT-34/BT-49 (scheme, id): the VAT id under its country's Peppol scheme, else the e-mail address."""
    if party.vat_id:
        scheme = VAT_ENDPOINT_SCHEMES.get(country_of(party.vat_id))
        if scheme:
            return scheme, party.vat_id
    if party.email:
        return EMAIL_SCHEME, party.email
    return None


def _party(parent: Element, party: Party) -> None:
    element = _cac(parent, "Party")
    endpoint = _endpoint(party)
    if endpoint is not None:
        _cbc(element, "EndpointID", endpoint[1], schemeID=endpoint[0])
    if party.company and party.name != party.company:
        _cbc(_cac(element, "PartyName"), "Name", party.company)
    _address(_cac(element, "PostalAddress"), party.address)
    if party.vat_id:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.vat_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.legal_name)
    if party.registration_id:
        _cbc(legal, "CompanyID", party.registration_id)
    if (party.company and party.name != party.company) or party.email:
        contact = _cac(element, "Contact")
        if party.company and party.name != party.company:
            _cbc(contact, "Name", party.name)
        if party.email:
            _cbc(contact, "ElectronicMail", party.email)


def _address(element: Element, address: Address) -> None:
    if address.line1:
        _cbc(element, "StreetName", address.line1)
    if address.line2:
        _cbc(element, "AdditionalStreetName", address.line2)
    if address.city:
        _cbc(element, "CityName", address.city)
    if address.postal_code:
        _cbc(element, "PostalZone", address.postal_code)
    if address.region:
        _cbc(element, "CountrySubentity", address.region)
    if address.country:
        _cbc(_cac(element, "Country"), "IdentificationCode", address.country)


def _payment_means(root: Element, doc: Document, credit: bool) -> None:
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", en16931.SEPA_CREDIT_TRANSFER if doc.seller.iban else en16931.NOT_DEFINED)
    if credit and doc.due_date is not None:
        _cbc(means, "PaymentDueDate", doc.due_date.isoformat())
    _cbc(means, "PaymentID", en16931.remittance(doc))
    if doc.seller.iban:
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", doc.seller.iban)
        _cbc(account, "Name", doc.seller.legal_name)
        if doc.seller.bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", doc.seller.bic)


def _terms_text(doc: Document) -> str:
    assert doc.terms is not None
    text = doc.terms.description
    if doc.terms.discount_percent and doc.terms.discount_until:
        text += f"; {en16931.plain(doc.terms.discount_percent)} % discount if paid by {doc.terms.discount_until}"
    return text


def _tax_category(parent: Element, category: en16931.VatCategory, tag: str = "TaxCategory") -> None:
    element = _cac(parent, tag)
    _cbc(element, "ID", category.code)
    _cbc(element, "Percent", en16931.plain(category.percent))
    if tag == "TaxCategory" and category.reason_code:
        _cbc(element, "TaxExemptionReasonCode", category.reason_code)
    if tag == "TaxCategory" and category.reason:
        _cbc(element, "TaxExemptionReason", category.reason)
    _cbc(_cac(element, "TaxScheme"), "ID", "VAT")


def _tax_totals(root: Element, doc: Document) -> None:
    """One TaxTotal with the breakdown in the document currency, and one with only the amount in the VAT accounting
    currency (BT-111) when that differs."""
    total = _cac(root, "TaxTotal")
    _money(total, "TaxAmount", doc.tax_total)
    for entry in en16931.breakdown(doc):
        subtotal = _cac(total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", entry.taxable)
        _money(subtotal, "TaxAmount", entry.tax)
        _tax_category(subtotal, entry.category)
    if doc.base is not None and doc.base.currency != doc.currency:
        _money(_cac(root, "TaxTotal"), "TaxAmount", doc.base.tax)


def _monetary_total(total: Element, doc: Document) -> None:
    _money(total, "LineExtensionAmount", en16931.line_total(doc))
    _money(total, "TaxExclusiveAmount", doc.net_total)
    _money(total, "TaxInclusiveAmount", doc.grand_total)
    _money(total, "PrepaidAmount", doc.paid)
    _money(total, "PayableAmount", doc.amount_due)


def _line(element: Element, doc: Document, line: DocumentLine, credit: bool) -> None:
    _cbc(element, "ID", str(line.line_no))
    _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", str(line.quantity), unitCode=en16931.UNIT_CODE)
    _money(element, "LineExtensionAmount", line.net)
    if line.discount.amount:
        allowance = _cac(element, "AllowanceCharge")
        _cbc(allowance, "ChargeIndicator", "false")
        _cbc(allowance, "AllowanceChargeReasonCode", en16931.DISCOUNT_REASON_CODE)
        _cbc(allowance, "AllowanceChargeReason", "Discount")
        _money(allowance, "Amount", line.discount)
        _money(allowance, "BaseAmount", en16931.gross_line(line))
    item = _cac(element, "Item")
    _cbc(item, "Name", en16931.item_name(line))
    if line.sku:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.sku)
    _tax_category(item, en16931.line_category(doc, line), "ClassifiedTaxCategory")
    _money(_cac(element, "Price"), "PriceAmount", line.unit_price)
