"""Goods leaving a location: a shipment under a carrier label, or a store pickup.

In one transaction with the shipment: the label is bought (tracking number, cost), the
packages are marked shipped, the stock leaves (``on_hand`` and ``reserved`` both drop, a
``shipment`` movement in the ledger), the order lines count the shipped units, and payment
is captured for the value that left (``warehouse.capture_shipped_value``). A store pickup
does the same when the customer shows the one-time code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import Location
from oms.domain.errors import (
    FieldError,
    IdempotencyMismatch,
    IllegalTransition,
    InvalidRequest,
    NotFound,
)
from oms.domain.fulfilment import FulfillmentKind
from oms.domain.geo import GeoPoint
from oms.domain.ids import new_id
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.domain.packing import Package, PackageItem
from oms.domain.shipments import Shipment
from oms.domain.shipping import Parcel, rate_shop, ship_date
from oms.services.carrier_gateway import CarrierError, CarrierGateway, LabelRequest
from oms.services.common import CreateResult, retry_transient, utcnow
from oms.services.fulfilment import apply_progress, describe
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import save_order_changes
from oms.services.ports import TransientStorageError, UnitOfWork, UnitOfWorkFactory
from oms.services.routing_network import carrier_services, cutoff_of, priced_in
from oms.services.warehouse import (
    Locked,
    lock_fulfillment_order,
    take_off_shelf,
)

__all__ = [
    "CarrierProvider",
    "ShipRequest",
    "create_shipment",
    "get_shipment",
    "parcel_numbered",
    "shipments_of_order",
    "track_parcel",
]

CarrierProvider = Callable[[UnitOfWork], CarrierGateway]
"""Builds the carrier gateway for one unit of work (the table-rate carrier reads its rate
cards and tracking serials through it)."""


@dataclass(frozen=True)
class ShipRequest:
    package_ids: list[UUID] | None = None
    carrier: str | None = None
    service: str | None = None
    idempotency_key: str | None = None

    def fingerprint(self, fo_id: UUID) -> str:
        """What a repeated request must match to be the same request."""
        packages = "" if self.package_ids is None else ",".join(map(str, self.package_ids))
        text = f"{fo_id}|{packages}|{self.carrier}|{self.service}"
        return hashlib.sha256(text.encode()).hexdigest()


CREATE_SHIPMENT = "create_shipment"


def _repeated(
    uow: UnitOfWork, tenant_id: UUID, fo_id: UUID, request: ShipRequest, at: datetime
) -> Shipment | None:
    """The shipment an earlier request with the same Idempotency-Key made (a retry buys no
    second label), or None after claiming the key; 422 for the key on another request."""
    key = request.idempotency_key
    if key is None:
        return None
    fingerprint = request.fingerprint(fo_id)
    if uow.idempotency.claim(
        tenant_id, key, operation=CREATE_SHIPMENT, fingerprint=fingerprint, at=at
    ):
        return None
    record = uow.idempotency.get(tenant_id, key)
    if record is None or record.resource_id is None:
        raise TransientStorageError("idempotency key claimed but not yet attached")
    if record.operation != CREATE_SHIPMENT or record.fingerprint != fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request", key=key)
    shipment = uow.shipments.get(tenant_id, record.resource_id)
    if shipment is None:
        raise TransientStorageError("idempotent shipment not visible yet")
    return shipment


def _packages(uow: UnitOfWork, located: Locked, wanted: list[UUID] | None) -> list[Package]:
    fo = located.fo
    waiting = [p for p in uow.fulfilment.packages_of(fo.tenant_id, fo.id) if p.shipment_id is None]
    if wanted is None:
        chosen = waiting
    else:
        by_id = {p.id: p for p in waiting}
        errors = [
            FieldError(f"#/package_ids/{i}", "not a packed, unshipped package of this order")
            for i, package_id in enumerate(wanted)
            if package_id not in by_id
        ]
        if errors or len(set(wanted)) != len(wanted):
            raise InvalidRequest(
                "Those packages cannot ship", errors or [FieldError("#/package_ids", "repeated")]
            )
        chosen = [by_id[package_id] for package_id in wanted]
    if not chosen:
        raise IllegalTransition(
            "Nothing is packed to ship: pack the items first", fulfillment_order_id=str(fo.id)
        )
    return chosen


def _destination_point(routing: dict[str, object] | None) -> GeoPoint | None:
    destination = (routing or {}).get("destination")
    if isinstance(destination, dict):
        lat, lon = destination.get("latitude"), destination.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return GeoPoint(float(lat), float(lon))
    return None


def _given_point(address: Address) -> GeoPoint | None:
    if address.latitude is None or address.longitude is None:
        return None
    return GeoPoint(address.latitude, address.longitude)


def _cheapest_service(
    uow: UnitOfWork,
    currency: str,
    packages: list[Package],
    location: Location,
    origin: GeoPoint | None,
    ship_to: Address,
    destination: GeoPoint | None,
    at: datetime,
) -> tuple[str, str]:
    """The router planned no service (no rate cards then, or no place for the address): the
    cheapest service that serves the heaviest package, shopped now."""
    heaviest = max(packages, key=lambda p: p.weight_grams)
    quotes = rate_shop(
        priced_in(carrier_services(uow), currency),
        parcel=Parcel(
            heaviest.weight_grams, heaviest.length_mm, heaviest.width_mm, heaviest.height_mm
        ),
        origin=origin,
        origin_country=(location.address or ship_to).country,
        destination=destination,
        destination_country=ship_to.country,
        destination_region=ship_to.region,
        ship_on=ship_date(at, cutoff_of(location)),
    )
    if not quotes:
        raise InvalidRequest(
            "Name the carrier service",
            [FieldError("#/service", "no carrier service serves this destination by itself")],
        )
    return quotes[0].carrier, quotes[0].service


def _merged(packages: list[Package]) -> list[PackageItem]:
    units: dict[tuple[int, int, str], int] = {}
    for package in packages:
        for item in package.contents:
            key = (item.seq, item.line_no, item.sku)
            units[key] = units.get(key, 0) + item.quantity
    return [PackageItem(seq, line_no, sku, q) for (seq, line_no, sku), q in sorted(units.items())]


def create_shipment(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    carriers: CarrierProvider,
    tenant_id: UUID,
    fo_id: UUID,
    request: ShipRequest,
    actor: Actor,
    at: datetime | None = None,
) -> CreateResult[Shipment]:
    """Ship packed packages of a fulfilment order (all waiting ones unless named) under one
    label; partial shipments are simply shipments of some packages. A retry with the same
    Idempotency-Key finds the first call's shipment (``created`` False)."""
    when = at or utcnow()

    def attempt() -> CreateResult[Shipment]:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            earlier = _repeated(uow, tenant_id, fo_id, request, when)
            if earlier is not None:
                return CreateResult(earlier, created=False)
            order, fo = located.order, located.fo
            fo.ensure_workable("ship")
            if fo.kind is not FulfillmentKind.SHIP:
                raise IllegalTransition(
                    "A store pickup leaves with the customer, not by carrier",
                    fulfillment_order_id=str(fo.id),
                )
            packages = _packages(uow, located, request.package_ids)
            if order.shipping_address is None:
                raise IllegalTransition("The order has no shipping address", order_id=str(order.id))
            location = uow.locations.get(fo.location_id)
            assert location is not None
            origin = (
                GeoPoint(location.latitude, location.longitude)
                if location.latitude is not None and location.longitude is not None
                else None
            )
            destination = _destination_point(order.routing) or _given_point(order.shipping_address)
            carrier, service = request.carrier or fo.carrier, request.service or fo.service
            if carrier is None or service is None:
                carrier, service = _cheapest_service(
                    uow,
                    order.currency,
                    packages,
                    location,
                    origin,
                    order.shipping_address,
                    destination,
                    when,
                )
            try:
                label = carriers(uow).buy_label(
                    LabelRequest(
                        carrier=carrier,
                        service=service,
                        ship_from=location.sender_address(order.shipping_address.country),
                        ship_to=order.shipping_address,
                        parcels=[
                            Parcel(p.weight_grams, p.length_mm, p.width_mm, p.height_mm)
                            for p in packages
                        ],
                        ship_on=ship_date(when, cutoff_of(location)),
                        reference=str(fo.id),
                        origin_point=origin,
                        destination_point=destination,
                    )
                )
            except CarrierError as refusal:
                raise InvalidRequest(
                    "The carrier refused the label", [FieldError("#/service", str(refusal))]
                ) from refusal
            contents = _merged(packages)
            shipment = Shipment(
                id=new_id(),
                tenant_id=tenant_id,
                order_id=order.id,
                fulfillment_order_id=fo.id,
                carrier=label.carrier,
                service=label.service,
                tracking_number=label.tracking_number,
                tracking_url=label.tracking_url,
                cost=label.cost,
                currency=label.currency,
                contents=contents,
                package_ids=[p.id for p in packages],
                created_by=str(actor),
                created_at=when,
                updated_at=when,
                deliver_by=label.deliver_by,
            )
            uow.shipments.add(shipment)
            if request.idempotency_key is not None:
                uow.idempotency.attach(tenant_id, request.idempotency_key, shipment.id)
            uow.fulfilment.mark_shipped(tenant_id, shipment.package_ids, shipment.id)
            fo.ship((item.seq, item.quantity) for item in contents)
            take_off_shelf(
                uow,
                fo,
                [(fo.line(item.seq), item.quantity) for item in contents],
                kind=MovementKind.SHIPMENT,
                reason=f"shipped {label.carrier} {label.tracking_number}",
                reference=str(shipment.id),
                actor=actor,
                at=when,
            )
            with order.change("shipment.created", actor=actor, at=when) as data:
                apply_progress(uow, order, located.fulfilment)
                data.update(describe(fo))
                data.update(
                    shipment_id=str(shipment.id),
                    carrier=shipment.carrier,
                    service=shipment.service,
                    tracking_number=shipment.tracking_number,
                    packages=len(packages),
                    items=[{"sku": i.sku, "quantity": i.quantity} for i in contents],
                )
            policies = uow.tenants.policies(tenant_id)
            capture_shipped_value(order, gateways=gateways, policies=policies, actor=actor, at=when)
            fo.updated_at = when
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return CreateResult(shipment, created=True)

    return retry_transient(attempt)


def get_shipment(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID) -> Shipment:
    """One shipment with its tracking events, or NotFound."""
    with uow_factory(readonly=True) as uow:
        shipment = uow.shipments.get(tenant_id, shipment_id, with_events=True)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}")
    return shipment


def parcel_numbered(uow: UnitOfWork, tracking_number: str) -> Shipment:
    """The shipment behind a tracking number, with its events, read in ``uow`` (NotFound
    when there is none; the number is the only key a customer has)."""
    found = uow.shipments.locate(tracking_number)
    shipment = (
        uow.shipments.get(found[0].tenant_id, found[0].shipment_id, with_events=True)
        if found
        else None
    )
    if shipment is None:
        raise NotFound(f"No parcel {tracking_number}")
    return shipment


def track_parcel(*, uow_factory: UnitOfWorkFactory, tracking_number: str) -> Shipment:
    """The shipment behind a tracking number, with its events (``parcel_numbered``)."""
    with uow_factory(readonly=True) as uow:
        return parcel_numbered(uow, tracking_number)


def shipments_of_order(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID
) -> list[Shipment]:
    """Every shipment of an order (NotFound for an unknown order)."""
    with uow_factory(readonly=True) as uow:
        if not uow.orders.exists(tenant_id, order_id):
            raise NotFound(f"No order {order_id}")
        return uow.shipments.for_order(tenant_id, order_id)
