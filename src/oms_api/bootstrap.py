"""Start-up wiring of a process: every public event type declared, every reaction between contexts subscribed.

Every entry point calls ``bootstrap()`` before it serves anything: the API app, the worker, the CLI (and the
tests). Until then the event bus refuses to publish and the catalogue refuses to be read, so a process that
forgot cannot silently drop a reaction or publish half a catalogue. Calling it again changes nothing.
"""

from __future__ import annotations

from oms_api.accounting import events as accounting_events
from oms_api.accounting import handlers as accounting_handlers
from oms_api.carriers import events as carriers_events
from oms_api.carts import events as carts_events
from oms_api.catalog import events as catalog_events
from oms_api.catalog import handlers as catalog_handlers
from oms_api.channels import events as channels_events
from oms_api.customers import events as customers_events
from oms_api.fulfillment import events as fulfillment_events
from oms_api.fulfillment import handlers as fulfillment_handlers
from oms_api.fulfillment.events import ShipmentShipped
from oms_api.fulfillment.packing import events as packing_events
from oms_api.fulfillment.picking import events as picking_events
from oms_api.fx import events as fx_events
from oms_api.invoices import credit as invoices_credit
from oms_api.invoices import events as invoices_events
from oms_api.invoices import handlers as invoices_handlers
from oms_api.invoices import receivables as invoices_receivables
from oms_api.invoices.events import DocumentIssued, InvoiceWrittenOff, ReceiptRecorded
from oms_api.kit import bus, event_types
from oms_api.kit.bus import Handler
from oms_api.orders import events as orders_events
from oms_api.orders.events import OrderCancelled, OrderPlaced
from oms_api.payments import events as payments_events
from oms_api.payments import handlers as payments_handlers
from oms_api.payments.events import PaymentMoved
from oms_api.quotes import events as quotes_events
from oms_api.stock import events as stock_events
from oms_api.taxes import events as taxes_events
from oms_api.taxes.events import TaxCategoryDeleting
from oms_api.webhooks import events as webhooks_events

EVENT_MODULES = (
    accounting_events,
    carriers_events,
    carts_events,
    catalog_events,
    channels_events,
    customers_events,
    fulfillment_events,
    fx_events,
    invoices_events,
    orders_events,
    packing_events,
    payments_events,
    picking_events,
    quotes_events,
    stock_events,
    taxes_events,
    webhooks_events,
)
"""Every module that declares public event types (one per context that owns a prefix)."""

SUBSCRIPTIONS: dict[type, list[Handler]] = {
    OrderCancelled: [fulfillment_handlers.on_order_cancelled, payments_handlers.on_order_cancelled],
    OrderPlaced: [payments_handlers.on_order_placed, invoices_credit.on_order_placed],
    PaymentMoved: [invoices_receivables.on_payment_moved, accounting_handlers.on_payment_moved],
    # accounting posts last: every other reaction to a fact has run when its journal entry is written
    DocumentIssued: [accounting_handlers.on_document_issued],
    ReceiptRecorded: [accounting_handlers.on_receipt_recorded],
    InvoiceWrittenOff: [accounting_handlers.on_invoice_written_off],
    ShipmentShipped: [payments_handlers.on_shipment_shipped, invoices_handlers.on_shipment_shipped],
    TaxCategoryDeleting: [catalog_handlers.on_tax_category_deleting],
}
"""Domain event class -> the handlers of other contexts that react to it, in the order they run."""


def bootstrap() -> None:
    """Seal the event type catalogue and wire the event bus (idempotent)."""
    event_types.seal()
    bus.wire(SUBSCRIPTIONS)
