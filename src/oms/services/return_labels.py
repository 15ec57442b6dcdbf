"""Return labels: the customer sends the units back on a label bought through the carrier
port (``CarrierGateway.buy_label``), from the order's shipping address to the receiving
location, with the carrier and service of the order's latest shipment unless told others.
Prepaid by the merchant, or paid by the customer (its cost comes off the refund) by the
tenant's ``customer_pays_label`` policy. A return has at most one label: asking again
answers the one bought."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.geo import GeoPoint
from oms.domain.orders import Actor, Order
from oms.domain.returns import ReturnLabel, ReturnRequest, ReturnStatus
from oms.domain.shipping import Parcel
from oms.services.carrier_gateway import CarrierError, LabelRequest
from oms.services.common import retry_transient, utcnow
from oms.services.persistence import save_order_changes
from oms.services.ports import UnitOfWorkFactory
from oms.services.return_stock import receiving_location
from oms.services.returns import lock_return, record_step
from oms.services.shipping import CarrierProvider

__all__ = ["buy_return_label"]

MIN_PARCEL_GRAMS = 100  # a product without a weight still weighs something in a parcel


def _customer_point(order: Order) -> GeoPoint | None:
    destination = (order.routing or {}).get("destination")
    if isinstance(destination, dict):
        lat, lon = destination.get("latitude"), destination.get("longitude")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return GeoPoint(float(lat), float(lon))
    address = order.shipping_address
    if address is None or address.latitude is None or address.longitude is None:
        return None
    return GeoPoint(address.latitude, address.longitude)


def buy_return_label(
    *,
    uow_factory: UnitOfWorkFactory,
    carriers: CarrierProvider,
    tenant_id: UUID,
    return_id: UUID,
    location: str,
    actor: Actor,
    carrier: str | None = None,
    service: str | None = None,
    at: datetime | None = None,
) -> ReturnRequest:
    """Buy the label of an approved return to ``location`` (its code or id)."""
    when = at or utcnow()

    def attempt() -> ReturnRequest:
        with uow_factory() as uow:
            order, request = lock_return(uow, tenant_id, return_id)
            if request.label is not None:
                return request
            if request.status is not ReturnStatus.APPROVED:
                raise IllegalTransition(
                    f"A {request.status.value} return gets no label; approve it first",
                    return_id=str(request.id),
                )
            if order.shipping_address is None:
                raise IllegalTransition("The order has no address to send the return from")
            place = receiving_location(uow, tenant_id, location)
            if carrier is None or service is None:
                shipments = uow.shipments.for_order(tenant_id, order.id)
                if not shipments:
                    raise InvalidRequest(
                        "Name the carrier and service", [FieldError("#/service", "required")]
                    )
                latest = max(shipments, key=lambda s: s.created_at)
                chosen = (latest.carrier, latest.service)
            else:
                chosen = (carrier, service)
            products = uow.products.by_skus(tenant_id, [ln.sku for ln in request.lines])
            grams = sum(
                (products[ln.sku].weight_grams if ln.sku in products else 0) * ln.quantity
                for ln in request.lines
            )
            try:
                bought = carriers(uow).buy_label(
                    LabelRequest(
                        carrier=chosen[0],
                        service=chosen[1],
                        ship_from=order.shipping_address,
                        ship_to=place.sender_address(order.shipping_address.country),
                        parcels=[Parcel(max(grams, MIN_PARCEL_GRAMS))],
                        ship_on=when.date(),
                        reference=f"return:{request.id}",
                        # Zone-priced carriers need both ends as points: the customer's
                        # (where routing geocoded it) and the location's.
                        origin_point=_customer_point(order),
                        destination_point=None
                        if place.latitude is None or place.longitude is None
                        else GeoPoint(place.latitude, place.longitude),
                    )
                )
            except CarrierError as refusal:
                raise InvalidRequest(
                    "The carrier refused the label", [FieldError("#/service", str(refusal))]
                ) from refusal
            policy = uow.returns.policy(tenant_id)
            request.label = ReturnLabel(
                carrier=bought.carrier,
                service=bought.service,
                tracking_number=bought.tracking_number,
                tracking_url=bought.tracking_url,
                cost=bought.cost,
                customer_paid=policy.customer_pays_label,
                location_id=place.id,
                weight_grams=max(grams, MIN_PARCEL_GRAMS),
                ship_on=when.date(),
                dropoff_code=bought.dropoff_code,
            )
            request.updated_at = when
            record_step(
                order,
                request,
                "return.label_created",
                actor,
                when,
                tracking_number=bought.tracking_number,
                tracking_url=bought.tracking_url,
            )
            uow.returns.save(request)
            uow.returns.register_label(request)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return request

    return retry_transient(attempt)
