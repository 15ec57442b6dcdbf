"""Carriers: the port (``base``), the built-in ``TableRateCarrier`` priced by rate cards,
webhook signatures (``signature``) and ``simulate_events``, which plays a carrier's
tracking events for the table-rate carriers in the demo and in tests."""

from oms.adapters.carriers.base import CarrierError, CarrierGateway, LabelRequest, PurchasedLabel
from oms.adapters.carriers.simulator import simulate_events
from oms.adapters.carriers.table_rate import TableRateCarrier, tracking_prefix

__all__ = [
    "CarrierError",
    "CarrierGateway",
    "LabelRequest",
    "PurchasedLabel",
    "TableRateCarrier",
    "simulate_events",
    "tracking_prefix",
]
