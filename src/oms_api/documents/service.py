"""Document use cases: gather what a label, a packing slip or a receipt shows, then draw it.

Reads only, through the services of the contexts that own the facts: the order (orders), the shipment and
its packages (fulfillment), the warehouse (stock).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.documents import domain, render
from oms_api.fulfillment import service as fulfillment
from oms_api.kit.errors import Conflict
from oms_api.kit.schemas import Address, Money
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order
from oms_api.stock import service as stock

#: Characters Code 128 can encode (ASCII 0 to 127); a tracking number with others gets no barcode.
_ASCII = frozenset(chr(i) for i in range(128))


def _amount(money: Money) -> str:
    return f"{money.amount} {money.currency}"


def _address(address: Address | None) -> dict[str, Any] | None:
    return address.model_dump(exclude_none=True) if address else None


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


async def _ship_from(session: AsyncSession, warehouse_id: uuid.UUID) -> list[str]:
    warehouse = await stock.get_warehouse(session, str(warehouse_id))
    lines = domain.address_lines(warehouse.address)
    return lines if lines and lines[0] == warehouse.name else [warehouse.name, *lines]


async def shipping_label(session: AsyncSession, package_id: uuid.UUID) -> domain.Label:
    """What the package's label says (409 ``no_tracking_number`` until the carrier gave one)."""
    shipment = await fulfillment.shipment_of_package(session, package_id)
    package = next(p for p in shipment.packages if p.id == package_id)
    if not package.tracking_number:
        raise Conflict("The package has no tracking number yet", code="no_tracking_number")
    if not set(package.tracking_number) <= _ASCII:
        raise Conflict("The tracking number cannot be drawn as Code 128", code="tracking_number_not_encodable")
    order = await orders.get_order(session, shipment.order_id)
    siblings = [p.id for p in shipment.packages]  # in id order
    return domain.Label(
        tracking_number=package.tracking_number,
        ship_from=await _ship_from(session, shipment.warehouse_id),
        ship_to=domain.address_lines(_address(order.shipping_address)),
        carrier=shipment.carrier,
        service=shipment.service,
        weight_g=package.weight_g,
        package_number=siblings.index(package.id) + 1,
        package_count=len(siblings),
        reference=order.external_ref,
    )


async def label_pdf(session: AsyncSession, package_id: uuid.UUID) -> bytes:
    return render.label_pdf(await shipping_label(session, package_id))


async def label_zpl(session: AsyncSession, package_id: uuid.UUID) -> str:
    return domain.zpl_label(await shipping_label(session, package_id))


async def packing_slip(session: AsyncSession, shipment_id: uuid.UUID) -> domain.PackingSlip:
    """What travels in the box: the shipment's units (less any short-picked), priced unless a gift."""
    shipment = await fulfillment.get_shipment(session, shipment_id)
    order = await orders.get_order(session, shipment.order_id)
    gift = domain.is_gift(order.tags)
    by_line = {line.id: line for line in order.lines}
    lines = []
    for sl in sorted(shipment.lines, key=lambda each: by_line[each.order_line_id].line_no):
        ordered = by_line[sl.order_line_id]
        quantity = sl.quantity - sl.short_quantity
        if quantity <= 0:
            continue
        unit = None if gift else _amount(ordered.unit_price)
        total = None
        if not gift:
            total = _amount(_share(ordered.total, quantity, ordered.quantity))
        lines.append(domain.SlipLine(ordered.sku, ordered.name, quantity, unit, total))
    return domain.PackingSlip(
        reference=order.external_ref,
        placed_on=_date(order.placed_at),
        ship_to=domain.address_lines(_address(order.shipping_address)),
        ship_from=await _ship_from(session, shipment.warehouse_id),
        lines=lines,
        gift=gift,
        gift_message=domain.gift_message(order.notes) if gift else None,
        shipment_id=str(shipment.id),
    )


def _share(total: Money, quantity: int, of: int) -> Money:
    """The part of a line total for ``quantity`` of its ``of`` units (exact when every unit ships)."""
    if quantity == of:
        return total
    return Money.of(total.to_money().times(Decimal(quantity) / Decimal(of)))


async def packing_slip_pdf(session: AsyncSession, shipment_id: uuid.UUID) -> bytes:
    return render.packing_slip_pdf(await packing_slip(session, shipment_id))


def _receipt_totals(order: Order) -> list[tuple[str, str]]:
    """Subtotal, discounts, shipping, the tax per rate (``VAT 19% on 100.00``), the tax total and the grand total;
    with prices that include tax, the tax is shown as included rather than added."""
    totals = order.totals
    included = " (included)" if order.prices_include_tax else ""
    rows = [
        ("Subtotal", _amount(totals.subtotal)),
        ("Discounts", _amount(totals.discount_total)),
        ("Shipping", _amount(totals.shipping_total)),
    ]
    for entry in totals.tax_breakdown:
        percent = (Decimal(entry.rate) * 100).normalize()
        label = f"Tax {percent:f}% on {_amount(entry.taxable)}{included}"
        rows.append((label, _amount(entry.tax)))
    rows.append((f"Tax{included}", _amount(totals.tax_total)))
    rows.append(("Total", _amount(totals.grand_total)))
    return rows


def receipt_of(order: Order) -> domain.Receipt:
    return domain.Receipt(
        reference=order.external_ref,
        placed_on=_date(order.placed_at),
        bill_to=domain.address_lines(_address(order.billing_address or order.shipping_address)),
        lines=[
            domain.ReceiptLine(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=_amount(line.unit_price),
                discount=_amount(line.discount),
                tax=_amount(line.tax),
                total=_amount(line.total),
            )
            for line in sorted(order.lines, key=lambda each: each.line_no)
        ],
        totals=_receipt_totals(order),
        currency=order.currency,
        status=order.status,
    )


async def receipt_pdf(session: AsyncSession, order_id: uuid.UUID) -> bytes:
    return render.receipt_pdf(receipt_of(await orders.get_order(session, order_id)))
