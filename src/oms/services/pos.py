"""Point of sale: a till sells and hands over in one call, exactly once per receipt.

A till sale is an order like any other (``intake.place_in``: the same verification,
numbering, timeline and outbox), with three differences:

    receipt id  -> external_id of channel "pos": the same receipt twice is one sale
    stock       -> the store's own only (as a store pickup); short -> 409, nothing written
    hand-over   -> in the same transaction: picked, handed over (a ``shipment`` movement
                   at the store), delivered, payment captured, the order closed

The payment was taken at the till (card terminal, cash): it is recorded through the
``manual`` gateway as captured unless the request names another. A sale the intake would
hold (a risk rule, a payment that does not cover the total) cannot complete at a till:
it is refused (409) and nothing is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.fulfilment import FulfillmentKind
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor, Order
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import apply_progress, describe
from oms.services.intake import ChannelPayment, PlacedOrder, PlaceOrder, place_in
from oms.services.intake_group import Submission
from oms.services.payments import GatewayProvider, capture_shipped_value
from oms.services.persistence import save_order_changes
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.routing import Geocoder
from oms.services.warehouse import take_off_shelf

__all__ = ["POS_CHANNEL", "sell_at_till", "sell_submission", "till_command"]

POS_CHANNEL = "pos"
TILL_GATEWAY = "manual"


def till_command(command: PlaceOrder) -> PlaceOrder:
    """The intake command of a till sale: the store's stock only, no backorder, the
    payment taken at the till (captured) unless the request says otherwise."""
    errors: list[FieldError] = []
    if command.channel != POS_CHANNEL:
        errors.append(FieldError("#/channel", f"a sale with a store_location is {POS_CHANNEL!r}"))
    if command.store_location is None:
        errors.append(FieldError("#/store_location", "the store the till is in is required"))
    if command.external_id is None:
        errors.append(FieldError("#/external_id", "the receipt id is required"))
    if command.pickup_location is not None:
        errors.append(FieldError("#/pickup_location", "a till sale is handed over at once"))
    if command.reservation_id is not None:
        errors.append(FieldError("#/reservation_id", "a till sale takes the store's stock"))
    if errors:
        raise InvalidRequest("Not a till sale", errors)
    payment = command.payment or ChannelPayment(gateway=TILL_GATEWAY, captured=True)
    return replace(command, allow_backorder=False, payment=payment)


def hand_over_at_till(
    uow: UnitOfWork, gateways: GatewayProvider, order: Order, actor: Actor, at: datetime
) -> None:
    """The goods of a just-placed till sale leave the store with the customer, delivered,
    and payment is captured for them (in the caller's transaction)."""
    if order.released_at is None:
        reasons = "; ".join(
            f"{hold.reason.value}: {hold.note}" if hold.note else hold.reason.value
            for hold in order.blocking_holds
        )
        raise IllegalTransition(
            f"The sale cannot complete at the till ({reasons or 'not released'})",
            order_number=order.number,
        )
    fos = uow.fulfilment.for_order(order.tenant_id, order.id)
    for fo in fos:
        if fo.kind is not FulfillmentKind.PICKUP or fo.location_id != order.pickup_location_id:
            raise AssertionError("a till sale takes the store's stock only")
        fo.record_picks({})
        moved = fo.hand_over()
        take_off_shelf(
            uow,
            fo,
            moved,
            kind=MovementKind.SHIPMENT,
            reason="sold at the till",
            reference=f"pos:{order.external_id}",
            actor=actor,
            at=at,
        )
        with order.change("fulfillment_order.picked_up", actor=actor, at=at) as data:
            apply_progress(uow, order, fos)
            data.update(describe(fo))
            data["items"] = [{"sku": line.sku, "quantity": q} for line, q in moved]
        fo.updated_at = at
    policies = uow.tenants.policies(order.tenant_id)
    capture_shipped_value(order, gateways=gateways, policies=policies, actor=actor, at=at)
    save_order_changes(uow, order, at=at, fulfilment=fos)


def sell_at_till(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    command: PlaceOrder,
    actor: Actor,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
) -> PlacedOrder:
    """Sell and hand over at a store's till in one transaction; the same receipt id
    (``external_id``) again returns the first sale (``created`` False)."""
    sale = till_command(command)
    when = at or utcnow()

    def once() -> PlacedOrder:
        with uow_factory() as uow:
            placed = place_in(
                uow,
                gateways,
                geocoder,
                tenant_id,
                sale,
                actor,
                idempotency_key,
                fingerprint,
                when,
            )
            if placed.created:
                hand_over_at_till(uow, gateways, placed.order, actor, when)
                uow.commit()
            return placed

    return retry_transient(once)


def sell_submission(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    geocoder: Geocoder | None,
    submission: Submission,
) -> PlacedOrder:
    """``sell_at_till`` for one API submission (as ``intake_group.place_alone``)."""
    return sell_at_till(
        uow_factory=uow_factory,
        gateways=gateways,
        geocoder=geocoder,
        tenant_id=submission.tenant_id,
        command=submission.command,
        actor=submission.actor,
        idempotency_key=submission.idempotency_key,
        fingerprint=submission.fingerprint,
        at=submission.at,
    )
