"""Shipments, the carrier tracking events they received, and tracking serial numbers.

A carrier names a parcel by its tracking number only: ``tracking_numbers`` (shared by all
tenants, written with the shipment) says whose shipment it is, so every other read here
is by tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, insert, select, text, tuple_, update
from sqlalchemy.engine import Row

from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import carrier_counters, shipments, tracking_events, tracking_numbers
from oms.domain.packing import PackageItem
from oms.domain.shipments import Shipment
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.ports import TrackedParcel

__all__ = ["SqlShipmentRepository"]

_sh = shipments.c
_te = tracking_events.c
_cc = carrier_counters.c
_tn = tracking_numbers.c
_FINAL = [ShipmentStatus.DELIVERED.value, ShipmentStatus.RETURNED_TO_SENDER.value]


def _from_row(row: Row[Any]) -> Shipment:
    return Shipment(
        id=row.id,
        tenant_id=row.tenant_id,
        order_id=row.order_id,
        fulfillment_order_id=row.fulfillment_order_id,
        carrier=row.carrier,
        service=row.service,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        cost=row.cost,
        currency=row.currency,
        contents=[PackageItem(**item) for item in row.contents],
        package_ids=[UUID(value) for value in row.package_ids],
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=ShipmentStatus(row.status),
        deliver_by=row.deliver_by,
        delivered_at=row.delivered_at,
    )


class SqlShipmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, shipment: Shipment) -> None:
        # The lookup row first: a tracking number another tenant holds fails here.
        self._conn.execute(
            insert(tracking_numbers).values(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tenant_id=shipment.tenant_id,
                shipment_id=shipment.id,
            )
        )
        self._conn.execute(
            insert(shipments).values(
                tenant_id=shipment.tenant_id,
                id=shipment.id,
                order_id=shipment.order_id,
                fulfillment_order_id=shipment.fulfillment_order_id,
                carrier=shipment.carrier,
                service=shipment.service,
                tracking_number=shipment.tracking_number,
                tracking_url=shipment.tracking_url,
                cost=shipment.cost,
                currency=shipment.currency,
                status=shipment.status.value,
                contents=[item.to_dict() for item in shipment.contents],
                package_ids=[str(p) for p in shipment.package_ids],
                deliver_by=shipment.deliver_by,
                created_by=shipment.created_by,
                created_at=shipment.created_at,
                delivered_at=shipment.delivered_at,
                updated_at=shipment.updated_at,
            )
        )

    def save(self, shipment: Shipment) -> None:
        self._conn.execute(
            update(shipments)
            .where(_sh.tenant_id == shipment.tenant_id, _sh.id == shipment.id)
            .values(
                status=shipment.status.value,
                delivered_at=shipment.delivered_at,
                updated_at=shipment.updated_at,
            )
        )

    def get(
        self, tenant_id: UUID, shipment_id: UUID, *, with_events: bool = False
    ) -> Shipment | None:
        row = self._conn.execute(
            select(shipments).where(_sh.tenant_id == tenant_id, _sh.id == shipment_id)
        ).first()
        if row is None:
            return None
        shipment = _from_row(row)
        if with_events:
            shipment.events = self.events_of(tenant_id, shipment_id)
        return shipment

    def locate(self, tracking_number: str, *, carrier: str | None = None) -> list[TrackedParcel]:
        """Whose shipment ``tracking_number`` is (of ``carrier``, or of any carrier)."""
        query = select(tracking_numbers).where(_tn.tracking_number == tracking_number)
        if carrier is not None:
            query = query.where(_tn.carrier == carrier)
        rows = self._conn.execute(query.order_by(_tn.carrier))
        return [
            TrackedParcel(
                carrier=row.carrier,
                tracking_number=row.tracking_number,
                tenant_id=row.tenant_id,
                shipment_id=row.shipment_id,
            )
            for row in rows
        ]

    def for_order(self, tenant_id: UUID, order_id: UUID) -> list[Shipment]:
        rows = self._conn.execute(
            select(shipments)
            .where(_sh.tenant_id == tenant_id, _sh.order_id == order_id)
            .order_by(_sh.created_at, _sh.id)
        )
        return [_from_row(row) for row in rows]

    def in_flight(self, *, limit: int) -> list[Shipment]:
        """Shipments of every tenant that have not reached a final status, oldest first."""
        rows = self._conn.execute(
            select(shipments)
            .where(_sh.status.not_in(_FINAL))
            .order_by(_sh.created_at, _sh.id)
            .limit(limit)
        )
        return [_from_row(row) for row in rows]

    def unscanned_since(self, tenant_id: UUID, *, before: datetime, limit: int) -> list[UUID]:
        latest = (
            select(func.max(_te.occurred_at))
            .where(_te.tenant_id == _sh.tenant_id, _te.shipment_id == _sh.id)
            .scalar_subquery()
        )
        last_seen = func.coalesce(latest, _sh.created_at)
        rows = self._conn.execute(
            select(_sh.id)
            .where(
                _sh.tenant_id == tenant_id,
                _sh.status.not_in(_FINAL),
                _sh.created_at < before,
                last_seen < before,
            )
            .order_by(_sh.created_at, _sh.id)
            .limit(limit)
        )
        return [row.id for row in rows]

    def created_page(
        self, tenant_id: UUID, *, since: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[Shipment]:
        """Shipments made at or after ``since``, oldest first (an export's pages)."""
        query = select(shipments).where(_sh.tenant_id == tenant_id, _sh.created_at >= since)
        if after is not None:
            query = query.where(tuple_(_sh.created_at, _sh.id) > tuple_(*after))
        rows = self._conn.execute(query.order_by(_sh.created_at, _sh.id).limit(limit))
        return [_from_row(row) for row in rows]

    def add_event(self, shipment: Shipment, event: TrackingEvent, *, received_at: datetime) -> bool:
        """Keep a carrier event once; False when its id was seen before (a redelivery)."""
        return insert_if_absent(
            self._conn,
            tracking_events,
            {
                "carrier": shipment.carrier,
                "event_id": event.event_id,
                "tenant_id": shipment.tenant_id,
                "shipment_id": shipment.id,
                "status": event.status.value,
                "occurred_at": event.occurred_at,
                "location": event.location,
                "description": event.description,
                "received_at": received_at,
            },
        )

    def events_of(self, tenant_id: UUID, shipment_id: UUID) -> list[TrackingEvent]:
        rows = self._conn.execute(
            select(tracking_events)
            .where(_te.tenant_id == tenant_id, _te.shipment_id == shipment_id)
            .order_by(_te.occurred_at, _te.event_id)
        )
        return [
            TrackingEvent(
                event_id=row.event_id,
                status=ShipmentStatus(row.status),
                occurred_at=row.occurred_at,
                location=row.location,
                description=row.description,
            )
            for row in rows
        ]

    def next_serial(self, counter: str) -> int:
        """The next tracking serial: a sequence on PostgreSQL (no lock held until commit;
        numbers may have gaps), a counter row on SQLite (writes are serial there anyway)."""
        if self._conn.dialect.name == "postgresql":
            return int(self._conn.execute(text("SELECT nextval('tracking_serial')")).scalar_one())
        insert_if_absent(self._conn, carrier_counters, {"carrier": counter, "last_serial": 0})
        value = self._conn.execute(
            update(carrier_counters)
            .where(_cc.carrier == counter)
            .values(last_serial=_cc.last_serial + 1)
            .returning(_cc.last_serial)
        ).scalar_one()
        return int(value)
