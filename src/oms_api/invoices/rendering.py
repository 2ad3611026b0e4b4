"""Every form an issued invoice or credit note is handed out in: the PDF, the Factur-X PDF (the same PDF with its
CII XML embedded, EN 16931 profile), the CII XML and the UBL 2.1 XML (Peppol BIS Billing 3.0).

Pure rendering from a ``Document``: no database, the same document gives the same PDF and XML bytes (the Factur-X
PDF excepted: the factur-x package stamps its metadata with the time of embedding)."""

from __future__ import annotations

from facturx import generate_from_binary

from oms_api.invoices.cii import cii_xml
from oms_api.invoices.domain.document import Document
from oms_api.invoices.pdf import TITLES, invoice_pdf
from oms_api.invoices.ubl import ubl_xml

__all__ = ["cii_xml", "facturx_pdf", "pdf", "ubl_xml"]

FACTURX_LEVEL = "en16931"


def pdf(doc: Document) -> bytes:
    """The A4 PDF."""
    return invoice_pdf(doc)


def facturx_pdf(doc: Document) -> bytes:
    """The PDF with the CII XML attached as ``factur-x.xml`` (AFRelationship Data) and the Factur-X XMP metadata
    (PDF/A-3 identification, conformance level EN 16931); the XML is checked against the Factur-X XSD on the way."""
    title = f"{TITLES[doc.kind]} {doc.number}"
    metadata = {
        "author": doc.seller.legal_name,
        "keywords": f"Factur-X, {TITLES[doc.kind]}",
        "title": f"{doc.seller.legal_name}: {title}",
        "subject": f"Factur-X {title.lower()} {doc.number} dated {doc.issue_date.isoformat()} issued by "
        f"{doc.seller.legal_name}",
    }
    result = generate_from_binary(
        invoice_pdf(doc),
        cii_xml(doc),
        flavor="factur-x",
        level=FACTURX_LEVEL,
        check_xsd=True,
        pdf_metadata=metadata,
        lang="en-GB",
    )
    return bytes(result)
