"""The demo's warehouse floor: orders shipped and delivered, work in progress, a pickup.

The demo is told back from the ``now`` it is given (``DemoTimeline``), never from the wall
clock. Two orders were shipped ``SHIPPED_BUSINESS_DAYS_AGO`` business days before now and
placed the day before; the carrier simulator then brings their tracking up to now
(delivered, or a failed attempt for the odd parcel), whatever the day of the week. Today's
released orders at the east warehouse are in a confirmed wave: one is packed and waiting
for its label, the rest are picked. A store pickup waits at the counter with its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from oms.adapters.carriers.simulator import simulate_events
from oms.adapters.payments.registry import gateway_named
from oms.domain.addresses import Address
from oms.domain.catalogue import ProductBin
from oms.domain.errors import IllegalTransition
from oms.domain.fulfilment import FulfillmentOrderStatus
from oms.domain.orders import Actor, Customer
from oms.domain.packing import Box
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.shipments import Shipment
from oms.domain.shipping import subtract_business_days
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.domain.tracking import TrackingEvent
from oms.services import catalogue, intake, packing, picking, shipping, tracking
from oms.services.ports import UnitOfWorkFactory
from oms.services.routing import Geocoder

__all__ = ["DEMO_BOXES", "DemoTimeline", "seed_fulfilment", "seed_todays_wave"]

# More than the slowest demo service takes (coast-to-coast: 5 business days), so that the
# parcels shipped then are due on a business day before today, on any day of the week.
SHIPPED_BUSINESS_DAYS_AGO = 6
SHIPPED_AT = time(15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoTimeline:
    """When the demo's past happened, told back from its ``now``."""

    now: datetime
    shipped: datetime  # the delivered orders left the warehouse
    placed: datetime  # ... and were placed, the day before
    opened: datetime  # the shop was set up: locations, products, stock, rules

    @classmethod
    def back_from(cls, now: datetime) -> DemoTimeline:
        """The timeline of a demo seeded at ``now`` (timezone-aware)."""
        if now.utcoffset() is None:
            raise ValueError("the demo's now must be timezone-aware")
        shipped_on = subtract_business_days(now.astimezone(UTC).date(), SHIPPED_BUSINESS_DAYS_AGO)
        shipped = datetime.combine(shipped_on, SHIPPED_AT)
        placed = shipped - timedelta(days=1)
        return cls(now=now, shipped=shipped, placed=placed, opened=placed - timedelta(days=1))


DEMO_BOXES = (
    Box("SMALL", 250, 200, 100, 3000, tare_grams=120),
    Box("MEDIUM", 400, 300, 200, 10000, tare_grams=300),
    Box("LARGE", 600, 400, 400, 25000, tare_grams=600),
)
DEMO_BINS = {
    "TEE-BLK-M": "A-01-2",
    "TEE-WHT-M": "A-01-3",
    "CAP-NAVY": "A-02-10",
    "SOCKS-3PK": "A-02-9",
    "HOODIE-GRY-L": "B-04-1",
    "BOTTLE-750": "C-11-4",
    "JACKET-RAIN-M": "B-07-2",
    "TOTE-CANVAS": "C-03-1",
}
PICKER = Actor("user", "demo-picker")


def _place(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    external_id: str,
    lines: tuple[tuple[str, int], ...],
    *,
    ship_to: Address | None,
    pickup_at: str | None,
    at: datetime,
    geocoder: Geocoder | None = None,
) -> UUID:
    placed = intake.place_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=intake.PlaceOrder(
            channel="shopify",
            external_id=external_id,
            currency="USD",
            customer=Customer(email="lin@example.com", name="Lin Ward"),
            shipping_address=ship_to,
            lines=tuple(intake.LineRequest(sku=sku, quantity=q) for sku, q in lines),
            shipping_price=Decimal(0) if pickup_at else Decimal("7.95"),
            payment=intake.ChannelPayment(gateway="test", token="tok_approve"),
            pickup_location=pickup_at,
        ),
        actor=PICKER,
        at=at,
        geocoder=geocoder,
    )
    return placed.order.id


def _work_at(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    code: str,
    at: datetime,
    pickup_key: PickupCodeKey,
) -> list[UUID]:
    """Wave every open fulfilment order at ``code`` and confirm it; their ids."""
    try:
        wave = picking.create_wave(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            location_code=code,
            max_orders=50,
            max_units=None,
            actor=PICKER,
            at=at,
        )
    except IllegalTransition:  # nothing to pick there
        return []
    picking.confirm_picks(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=None,
        actor=PICKER,
        pickup_key=pickup_key,
        at=at,
    )
    return list(wave.wave.fulfillment_order_ids)


def _pack_all(uow_factory: UnitOfWorkFactory, tenant_id: UUID, fo_id: UUID, at: datetime) -> None:
    with uow_factory(readonly=True) as uow:
        fo = uow.fulfilment.get(tenant_id, fo_id)
    if fo is None or fo.status is not FulfillmentOrderStatus.IN_PROGRESS:
        return
    scans = [line.sku for line in fo.lines for _ in range(line.to_pack)]
    packing.pack(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        fo_id=fo_id,
        request=packing.PackRequest(scans=scans),
        actor=PICKER,
        at=at,
    )


def seed_fulfilment(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    carriers: shipping.CarrierProvider,
    ship_to: Address,
    timeline: DemoTimeline,
    pickup_key: PickupCodeKey,
    geocoder: Geocoder | None = None,
) -> None:
    """Fill the warehouse floor (see the module docstring)."""
    merchant = Principal(key_id=UUID(int=0), scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
    now, past, shipped_at = timeline.now, timeline.placed, timeline.shipped
    for code in ("WH-EAST", "WH-WEST"):
        catalogue.set_bins(
            uow_factory=uow_factory,
            principal=merchant,
            ref=code,
            bins=[ProductBin(sku, b) for sku, b in DEMO_BINS.items()],
        )
    for external_id, lines in (
        ("SHOP-0990", (("TEE-WHT-M", 2), ("CAP-NAVY", 1))),
        ("SHOP-0991", (("BOTTLE-750", 1),)),
    ):
        _place(
            uow_factory,
            tenant_id,
            external_id,
            lines,
            ship_to=ship_to,
            pickup_at=None,
            at=past,
            geocoder=geocoder,
        )
    for code in ("WH-EAST", "WH-WEST"):
        for fo_id in _work_at(uow_factory, tenant_id, code, shipped_at, pickup_key):
            _pack_all(uow_factory, tenant_id, fo_id, shipped_at)
            shipping.create_shipment(
                uow_factory=uow_factory,
                gateways=gateway_named,
                carriers=carriers,
                tenant_id=tenant_id,
                fo_id=fo_id,
                request=shipping.ShipRequest(),
                actor=PICKER,
                at=shipped_at,
            )

    def journey(shipment: Shipment, when: datetime) -> list[TrackingEvent]:
        return simulate_events(
            tracking_number=shipment.tracking_number,
            shipped_at=shipment.created_at,
            deliver_by=shipment.deliver_by,
            now=when,
            seed="demo",
        )

    tracking.simulate_carriers(uow_factory=uow_factory, simulator=journey, now=now)
    _place(
        uow_factory,
        tenant_id,
        "SHOP-1011",
        (("TEE-BLK-M", 1), ("SOCKS-3PK", 1)),
        ship_to=None,
        pickup_at="STORE-NYC",
        at=now,
    )
    _work_at(uow_factory, tenant_id, "STORE-NYC", now, pickup_key)


def seed_todays_wave(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, now: datetime, pickup_key: PickupCodeKey
) -> None:
    """Today's east-warehouse work: picked, and the first one packed."""
    picked = _work_at(uow_factory, tenant_id, "WH-EAST", now, pickup_key)
    if picked:
        _pack_all(uow_factory, tenant_id, picked[0], now)
