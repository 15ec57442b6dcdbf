"""A shipment: packages of one fulfilment order handed to a carrier under one label."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.packing import PackageItem
from oms.domain.tracking import ShipmentStatus, TrackingEvent, delivered_at, derive_shipment_status

__all__ = ["Shipment"]


@dataclass
class Shipment:
    """What left a location under one tracking number, and where it is now."""

    id: UUID
    tenant_id: UUID
    order_id: UUID
    fulfillment_order_id: UUID
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    cost: Decimal
    currency: str
    contents: list[PackageItem]
    package_ids: list[UUID]
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: ShipmentStatus = ShipmentStatus.LABEL_CREATED
    deliver_by: date | None = None
    delivered_at: datetime | None = None
    events: list[TrackingEvent] = field(default_factory=list)

    def track(self, events: list[TrackingEvent]) -> bool:
        """Take the carrier's events (all of them, in any order); True if the status moved.

        The status is derived from every event ever received, so a late or repeated event
        can never move a delivered parcel back to "in transit"."""
        self.events = events
        status = derive_shipment_status(events)
        self.delivered_at = delivered_at(events)
        if status is self.status:
            return False
        self.status = status
        return True

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.contents)
