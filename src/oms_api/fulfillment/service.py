"""The fulfilment context's service: what other contexts may ask of fulfilment (other contexts import only this).

Inside, the use cases live in modules named after them: ``shipments`` (make shipments and move them through
their lifecycle), ``shipping`` (rates and handing over to a carrier), ``tracking`` (the carrier's reports),
``floor`` (what picking and packing do to shipments), and the sub-packages ``picking`` and ``packing``.
"""

from __future__ import annotations

from oms_api.fulfillment.domain import Report, ShipmentStatus
from oms_api.fulfillment.shipments import get_shipment, shipment_of_package
from oms_api.fulfillment.tracking import receive as receive_carrier_report

__all__ = ["Report", "ShipmentStatus", "get_shipment", "receive_carrier_report", "shipment_of_package"]
