"""Fulfilment orders, waves and packages as rows, and back (for the repository)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.engine import Row

from oms.domain.fulfilment import (
    FulfillmentKind,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderStatus,
)
from oms.domain.packing import Package, PackageItem
from oms.domain.picking import PickWave, WaveStatus

__all__ = [
    "COUNTS",
    "counts_of",
    "fulfillment_order_from_row",
    "header_values",
    "line_values",
    "package_from_row",
    "wave_from_row",
]

COUNTS = ("picked", "short", "packed", "shipped", "delivered", "cancelled")


def header_values(fo: FulfillmentOrder) -> dict[str, Any]:
    return {
        "status": fo.status.value,
        "on_hold": fo.on_hold,
        "wave_id": fo.wave_id,
        "carrier": fo.carrier,
        "service": fo.service,
        "promised_ship_by": fo.promised_ship_by,
        "priority": fo.priority,
        "rejected_reason": fo.rejected_reason,
        "pickup_code_hash": fo.pickup_code_hash,
        "ready_at": fo.ready_at,
        "pickup_expires_at": fo.pickup_expires_at,
        "pickup_wrong_codes": fo.pickup_wrong_codes,
        "pickup_locked_until": fo.pickup_locked_until,
        "version": fo.version,
        "updated_at": fo.updated_at,
    }


def line_values(fo: FulfillmentOrder, line: FulfillmentLine) -> dict[str, Any]:
    return {
        "tenant_id": fo.tenant_id,
        "fulfillment_order_id": fo.id,
        "seq": line.seq,
        "allocation_id": line.allocation_id,
        "line_no": line.line_no,
        "sku": line.sku,
        "quantity": line.quantity,
        **{name: getattr(line, name) for name in COUNTS},
    }


def fulfillment_order_from_row(row: Row[Any]) -> FulfillmentOrder:
    return FulfillmentOrder(
        id=row.id,
        tenant_id=row.tenant_id,
        order_id=row.order_id,
        order_number=row.order_number,
        location_id=row.location_id,
        location_code=row.location_code,
        kind=FulfillmentKind(row.kind),
        lines=[],
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=FulfillmentOrderStatus(row.status),
        on_hold=row.on_hold,
        wave_id=row.wave_id,
        carrier=row.carrier,
        service=row.service,
        promised_ship_by=row.promised_ship_by,
        priority=row.priority,
        rejected_reason=row.rejected_reason,
        pickup_code_hash=row.pickup_code_hash,
        ready_at=row.ready_at,
        pickup_expires_at=row.pickup_expires_at,
        pickup_wrong_codes=row.pickup_wrong_codes,
        pickup_locked_until=row.pickup_locked_until,
        version=row.version,
    )


def package_from_row(row: Row[Any]) -> Package:
    return Package(
        id=row.id,
        fulfillment_order_id=row.fulfillment_order_id,
        weight_grams=row.weight_grams,
        contents=[PackageItem(**item) for item in row.contents],
        created_by=row.created_by,
        created_at=row.created_at,
        box=row.box,
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        height_mm=row.height_mm,
        shipment_id=row.shipment_id,
    )


def wave_from_row(row: Row[Any]) -> PickWave:
    return PickWave(
        id=row.id,
        tenant_id=row.tenant_id,
        location_id=row.location_id,
        fulfillment_order_ids=[UUID(value) for value in row.fulfillment_order_ids],
        created_by=row.created_by,
        created_at=row.created_at,
        status=WaveStatus(row.status),
        completed_at=row.completed_at,
    )


def counts_of(line: FulfillmentLine) -> tuple[int, ...]:
    return tuple(getattr(line, name) for name in COUNTS)
