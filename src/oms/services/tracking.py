"""Carrier tracking: events in, shipment status derived, deliveries counted on the order.

Carriers post events to ``POST /v1/carriers/{carrier}/events`` signed with HMAC-SHA256;
the API checks the signature before anything is read. A carrier names a parcel by its
tracking number only: the tracking numbers all tenants share say whose shipment it is, and
everything after is read and written as that tenant's. Each event is kept once per
``(carrier, event id)`` of the tenant, so a redelivered event changes nothing. The
shipment's status is derived from all its events
(``oms.domain.tracking.derive_shipment_status``), so events may arrive in any order and a
late "in transit" never undoes "delivered". A delivery marks the shipment's units
delivered on the order, which closes it once everything is. A tracking number that is no
shipment's may be a return label's: ``oms.services.return_tracking`` moves that return.
A shipment that turns ``exception`` is handed to ``on_exception`` (the automatic claims of
``oms.services.parcel_claims``) after its transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from oms.domain.orders import SYSTEM, Actor
from oms.domain.shipments import Shipment
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import apply_progress, describe
from oms.services.persistence import save_order_changes
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.return_tracking import track_return_parcel
from oms.services.warehouse import lock_fulfillment_order

__all__ = [
    "CarrierEvent",
    "TrackingReport",
    "record_carrier_events",
    "simulate_carriers",
]

SIMULATION_BATCH = 500


@dataclass(frozen=True)
class CarrierEvent:
    """One event as a carrier reports it: which parcel, and what happened."""

    tracking_number: str
    event: TrackingEvent


@dataclass
class TrackingReport:
    accepted: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)
    status_changes: int = 0


def _apply(uow: UnitOfWork, shipment: Shipment, at: datetime, actor: Actor) -> bool:
    """Derive the shipment's status from all its events; record a change on the order."""
    was_delivered = shipment.status is ShipmentStatus.DELIVERED
    if not shipment.track(uow.shipments.events_of(shipment.tenant_id, shipment.id)):
        return False
    shipment.updated_at = at
    uow.shipments.save(shipment)
    located = lock_fulfillment_order(uow, shipment.tenant_id, shipment.fulfillment_order_id)
    order, fo = located.order, located.fo
    with order.change(f"shipment.{shipment.status.value}", actor=actor, at=at) as data:
        if shipment.status is ShipmentStatus.DELIVERED and not was_delivered:
            fo.deliver((item.seq, item.quantity) for item in shipment.contents)
            apply_progress(uow, order, located.fulfilment)
        data.update(describe(fo))
        data.update(
            shipment_id=str(shipment.id),
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            shipment_status=shipment.status.value,
        )
        latest = max(shipment.events, key=lambda e: e.occurred_at, default=None)
        if latest is not None:
            data.update(occurred_at=latest.occurred_at.isoformat(), where=latest.location)
    fo.updated_at = at
    save_order_changes(uow, order, at=at, fulfilment=located.fulfilment)
    return True


def _shipment_numbered(uow: UnitOfWork, carrier: str, tracking_number: str) -> Shipment | None:
    """The shipment a carrier calls ``tracking_number``: its tenant from the tracking numbers
    all tenants share, then the shipment read as that tenant's."""
    found = uow.shipments.locate(tracking_number, carrier=carrier)
    if not found:
        return None
    return uow.shipments.get(found[0].tenant_id, found[0].shipment_id)


def record_carrier_events(
    *,
    uow_factory: UnitOfWorkFactory,
    carrier: str,
    events: Sequence[CarrierEvent],
    actor: Actor | None = None,
    at: datetime | None = None,
    on_exception: ExceptionHook | None = None,
) -> TrackingReport:
    """Keep a carrier's events (each once) and move the shipments (and return parcels) they
    concern; one transaction per parcel, so one bad parcel cannot block the others."""
    when = at or utcnow()
    who = actor or Actor("carrier", carrier)
    by_number: dict[str, list[TrackingEvent]] = defaultdict(list)
    for item in events:
        by_number[item.tracking_number].append(item.event)
    report = TrackingReport()
    for number, batch in sorted(by_number.items()):

        def attempt(
            number: str = number, batch: list[TrackingEvent] = batch
        ) -> tuple[int, int, int, Shipment | None]:
            with uow_factory() as uow:
                shipment = _shipment_numbered(uow, carrier, number)
                if shipment is None:
                    parcel = track_return_parcel(
                        uow,
                        carrier=carrier,
                        tracking_number=number,
                        events=batch,
                        actor=who,
                        at=when,
                    )
                    if parcel is None:
                        return -1, 0, 0, None
                    uow.commit()
                    return parcel[0], parcel[1], int(parcel[2]), None
                new = sum(uow.shipments.add_event(shipment, e, received_at=when) for e in batch)
                moved = _apply(uow, shipment, when, who) if new else False
                uow.commit()
                return new, len(batch) - new, int(moved), shipment

        new, repeated, moved, shipment = retry_transient(attempt)
        if new < 0:
            report.unknown.append(number)
            continue
        if (
            on_exception is not None
            and moved
            and shipment is not None
            and shipment.status is ShipmentStatus.EXCEPTION
        ):
            on_exception(shipment)
        report.accepted += new
        report.duplicates += repeated
        report.status_changes += moved
    return report


# Told of each shipment a batch of events turned ``exception`` (after its commit).
ExceptionHook = Callable[[Shipment], object]

Simulator = Callable[[Shipment, datetime], list[TrackingEvent]]


def simulate_carriers(
    *,
    uow_factory: UnitOfWorkFactory,
    simulator: Simulator,
    now: datetime | None = None,
) -> TrackingReport:
    """Feed every shipment still on its way the events ``simulator`` says its carrier would
    have sent by ``now`` (the demo's and tests' stand-in for carrier webhooks)."""
    when = now or utcnow()
    with uow_factory(readonly=True) as uow:
        flying = uow.shipments.in_flight(limit=SIMULATION_BATCH)
    report = TrackingReport()
    by_carrier: dict[str, list[CarrierEvent]] = defaultdict(list)
    for shipment in flying:
        for event in simulator(shipment, when):
            by_carrier[shipment.carrier].append(CarrierEvent(shipment.tracking_number, event))
    for carrier, events in sorted(by_carrier.items()):
        part = record_carrier_events(
            uow_factory=uow_factory, carrier=carrier, events=events, actor=SYSTEM, at=when
        )
        report.accepted += part.accepted
        report.duplicates += part.duplicates
        report.status_changes += part.status_changes
        report.unknown.extend(part.unknown)
    return report
