"""Fulfilment orders, pick waves, packages, shipments and carrier events over the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import (
    BoxCode,
    CarrierCode,
    CarrierServiceCode,
    Code,
    Sku,
    Strict,
    UtcTime,
    money_text,
)
from oms.domain import lengths
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.packing import Package, PackageItem
from oms.domain.picking import PickWave, WaveStatus
from oms.domain.shipments import Shipment
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.picking import PickListView, WaveResult

__all__ = [
    "CarrierEventsIn",
    "FulfillmentOrderRead",
    "MoveIn",
    "PackageIn",
    "PackageRead",
    "PickConfirmIn",
    "PickupIn",
    "RejectIn",
    "ShipmentIn",
    "ShipmentRead",
    "TrackingRead",
    "WaveIn",
    "WaveRead",
]

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Scan = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Mm = Annotated[int, Field(gt=0, le=10_000)]


class FulfillmentLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    picked: int
    short: int
    packed: int
    shipped: int
    delivered: int
    cancelled: int


class FulfillmentOrderRead(BaseModel):
    id: UUID
    tenant_id: UUID
    order_id: UUID
    order_number: int
    location: str | None
    kind: FulfillmentKind
    status: FulfillmentOrderStatus
    on_hold: bool
    wave_id: UUID | None
    carrier: str | None
    service: str | None
    promised_ship_by: date | None
    priority: int
    rejected_reason: str | None
    ready_at: datetime | None
    pickup_expires_at: datetime | None
    lines: list[FulfillmentLineOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, fo: FulfillmentOrder) -> FulfillmentOrderRead:
        return cls(
            id=fo.id,
            tenant_id=fo.tenant_id,
            order_id=fo.order_id,
            order_number=fo.order_number,
            location=fo.location_code,
            kind=fo.kind,
            status=fo.status,
            on_hold=fo.on_hold,
            wave_id=fo.wave_id,
            carrier=fo.carrier,
            service=fo.service,
            promised_ship_by=fo.promised_ship_by,
            priority=fo.priority,
            rejected_reason=fo.rejected_reason,
            ready_at=fo.ready_at,
            pickup_expires_at=fo.pickup_expires_at,
            lines=[
                FulfillmentLineOut(
                    line_no=line.line_no,
                    sku=line.sku,
                    quantity=line.quantity,
                    picked=line.picked,
                    short=line.short,
                    packed=line.packed,
                    shipped=line.shipped,
                    delivered=line.delivered,
                    cancelled=line.cancelled,
                )
                for line in fo.lines
            ],
            created_at=fo.created_at,
            updated_at=fo.updated_at,
        )


class RejectIn(Strict):
    reason: Reason


class MoveIn(Strict):
    location: Code


class WaveIn(Strict):
    max_orders: int = Field(default=50, ge=1, le=500, description="Fulfilment orders at most")
    max_units: int | None = Field(default=None, ge=1, description="Units at most")


class PickListEntryOut(BaseModel):
    bin: str | None
    sku: str
    name: str | None
    quantity: int
    fulfillment_order_ids: list[UUID]


class WaveRead(BaseModel):
    id: UUID
    location: str | None
    status: WaveStatus
    created_by: str
    created_at: datetime
    completed_at: datetime | None
    fulfillment_order_ids: list[UUID]
    pick_list: list[PickListEntryOut] | None = Field(
        default=None, description="What is still to pick, in walking order by bin"
    )
    fulfillment_orders: list[FulfillmentOrderRead] | None = None
    shorts: list[dict[str, object]] | None = None
    pickup_codes: dict[str, str] | None = Field(
        default=None,
        description="One-time codes of store pickups that became ready: give each to its "
        "customer (shown once; stored hashed)",
    )

    @classmethod
    def of(cls, wave: PickWave, location: str | None) -> WaveRead:
        return cls(
            id=wave.id,
            location=location,
            status=wave.status,
            created_by=wave.created_by,
            created_at=wave.created_at,
            completed_at=wave.completed_at,
            fulfillment_order_ids=wave.fulfillment_order_ids,
        )

    @classmethod
    def of_result(cls, result: WaveResult, location: str | None) -> WaveRead:
        read = cls.of(result.wave, location)
        read.fulfillment_orders = [FulfillmentOrderRead.of(fo) for fo in result.fulfillment_orders]
        read.shorts = [
            {**short, "fulfillment_order_id": str(short["fulfillment_order_id"])}
            for short in result.shorts
        ]
        read.pickup_codes = {str(k): v for k, v in result.pickup_codes.items()}
        return read

    @classmethod
    def of_view(cls, view: PickListView) -> WaveRead:
        read = cls.of(view.wave, view.location_code)
        read.pick_list = [
            PickListEntryOut(
                bin=entry.bin,
                sku=entry.sku,
                name=view.names.get(entry.sku),
                quantity=entry.quantity,
                fulfillment_order_ids=list(entry.fulfillment_order_ids),
            )
            for entry in view.entries
        ]
        return read


class PickIn(Strict):
    fulfillment_order_id: UUID
    sku: Sku
    picked: int = Field(ge=0, description="Units found; fewer than asked is a short pick")


class PickConfirmIn(Strict):
    lines: list[PickIn] | None = Field(
        default=None,
        max_length=10_000,
        description="Only what differs from the pick list; everything not named was picked "
        "in full. Omit to confirm the whole list.",
    )


class PackageIn(Strict):
    scans: list[Scan] = Field(
        min_length=1,
        max_length=10_000,
        description="Each scanned barcode (GTIN) or SKU, once per unit",
    )
    box: BoxCode | None = Field(default=None, description="A box size of the location; else chosen")
    weight_grams: int | None = Field(default=None, gt=0, le=1_000_000, description="From the scale")
    length_mm: Mm | None = None
    width_mm: Mm | None = None
    height_mm: Mm | None = None


class PackageItemOut(BaseModel):
    line_no: int
    sku: str
    quantity: int

    @classmethod
    def of(cls, item: PackageItem) -> PackageItemOut:
        return cls(line_no=item.line_no, sku=item.sku, quantity=item.quantity)


class PackageRead(BaseModel):
    id: UUID
    fulfillment_order_id: UUID
    box: str | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    weight_grams: int
    contents: list[PackageItemOut]
    shipment_id: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, package: Package) -> PackageRead:
        return cls(
            id=package.id,
            fulfillment_order_id=package.fulfillment_order_id,
            box=package.box,
            length_mm=package.length_mm,
            width_mm=package.width_mm,
            height_mm=package.height_mm,
            weight_grams=package.weight_grams,
            contents=[PackageItemOut.of(i) for i in package.contents],
            shipment_id=package.shipment_id,
            created_at=package.created_at,
        )


class ShipmentIn(Strict):
    package_ids: list[UUID] | None = Field(
        default=None, max_length=500, description="Packages to ship; omit for every packed one"
    )
    carrier: CarrierCode | None = Field(default=None, description="Defaults to the routed carrier")
    service: CarrierServiceCode | None = Field(
        default=None, description="Defaults to the routed service"
    )


class TrackingEventOut(BaseModel):
    event_id: str
    status: ShipmentStatus
    occurred_at: datetime
    location: str | None
    description: str | None

    @classmethod
    def of(cls, event: TrackingEvent) -> TrackingEventOut:
        return cls(
            event_id=event.event_id,
            status=event.status,
            occurred_at=event.occurred_at,
            location=event.location,
            description=event.description,
        )


class ShipmentRead(BaseModel):
    id: UUID
    order_id: UUID
    fulfillment_order_id: UUID
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    cost: str
    currency: str
    status: ShipmentStatus
    deliver_by: date | None
    delivered_at: datetime | None
    package_ids: list[UUID]
    contents: list[PackageItemOut]
    events: list[TrackingEventOut]
    created_at: datetime

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentRead:
        return cls(
            id=shipment.id,
            order_id=shipment.order_id,
            fulfillment_order_id=shipment.fulfillment_order_id,
            carrier=shipment.carrier,
            service=shipment.service,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
            cost=money_text(shipment.cost, shipment.currency),
            currency=shipment.currency,
            status=shipment.status,
            deliver_by=shipment.deliver_by,
            delivered_at=shipment.delivered_at,
            package_ids=shipment.package_ids,
            contents=[PackageItemOut.of(i) for i in shipment.contents],
            events=[TrackingEventOut.of(e) for e in shipment.events],
            created_at=shipment.created_at,
        )


class PickupIn(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class CarrierEventIn(Strict):
    id: Annotated[str, StringConstraints(min_length=1, max_length=lengths.TRACKING_EVENT_ID)]
    tracking_number: Annotated[
        str, StringConstraints(min_length=1, max_length=lengths.TRACKING_NUMBER)
    ]
    status: ShipmentStatus
    occurred_at: UtcTime
    location: Annotated[str, StringConstraints(max_length=lengths.TRACKING_LOCATION)] | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None


class CarrierEventsIn(Strict):
    events: list[CarrierEventIn] = Field(min_length=1, max_length=1000)


class CarrierEventsOut(BaseModel):
    accepted: int
    duplicates: int
    unknown_tracking_numbers: list[str]


class DownloadOut(BaseModel):
    line_no: int
    sku: str
    url: str
    expires_at: datetime


class TrackingRead(BaseModel):
    """What anyone holding the tracking number may see: where the parcel is, nothing more."""

    tracking_number: str
    carrier: str
    service: str
    status: ShipmentStatus
    deliver_by: date | None
    delivered_at: datetime | None
    events: list[TrackingEventOut]

    @classmethod
    def of(cls, shipment: Shipment) -> TrackingRead:
        return cls(
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            service=shipment.service,
            status=shipment.status,
            deliver_by=shipment.deliver_by,
            delivered_at=shipment.delivered_at,
            events=[TrackingEventOut.of(e) for e in shipment.events],
        )
