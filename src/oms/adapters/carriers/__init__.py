"""Carriers: the built-in ``TableRateCarrier`` priced by rate cards, which implements the
port ``oms.services.carrier_gateway.CarrierGateway``; webhook signatures (``signature``);
and ``simulate_events``, which plays a carrier's tracking events for the table-rate carriers
in the demo and in tests."""

from oms.adapters.carriers.simulator import simulate_events
from oms.adapters.carriers.table_rate import TableRateCarrier, tracking_prefix

__all__ = ["TableRateCarrier", "simulate_events", "tracking_prefix"]
