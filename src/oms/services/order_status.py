"""The pages customers open: a merchant's order status page and the tracking page.

Both show what the customer may see and nothing more (``oms.domain.customer_status``): the
stage in plain words, the customer-facing timeline, each parcel with its carrier, tracking
link and expected delivery, each store pickup with its store and how long it waits (never
its code), and the merchant's branding (``oms.services.notifications.branding_of``).

An order opens with its number and the customer's email or a postal code of its addresses
(``find_order``), or with a signed link from the merchant's emails (``open_order``; the
``StatusGrants`` port reads the links, ``oms.adapters.status_links`` signs them). A wrong
number and a wrong email or postal code get the same answer after the same work: one
lookup by number, both comparisons made on digests, so neither the answer nor its timing
tells whether the order exists.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.customer_status import (
    CustomerStage,
    PickupState,
    TimelineEntry,
    customer_timeline,
    order_stage,
)
from oms.domain.errors import Gone, NotFound
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.orders import Order
from oms.domain.shipments import Shipment
from oms.domain.tenancy import Tenant
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.common import utcnow
from oms.services.events import Branding
from oms.services.notifications import branding_of
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.return_offer import ReturnOffer, return_offer
from oms.services.shipping import parcel_numbered

__all__ = [
    "NO_MATCH",
    "ItemLine",
    "OrderStatusPage",
    "ParcelPage",
    "ParcelStatus",
    "Pickup",
    "Shop",
    "StatusGrant",
    "StatusGrants",
    "find_order",
    "open_order",
    "parcel_page",
    "shop_named",
]

NO_MATCH = "We could not find an order with these details"


@dataclass(frozen=True)
class StatusGrant:
    """What a valid status link opens: one order of one tenant until ``expires_at``."""

    tenant_id: UUID
    order_id: UUID
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether the link has run out at ``now``."""
        return now >= self.expires_at


class StatusGrants(Protocol):
    """Reads the signed links of ``oms.services.events.StatusLinks`` back."""

    def read(self, token: str) -> StatusGrant | None:
        """The grant of a genuine link's token; None for anything forged or malformed."""
        ...


@dataclass(frozen=True)
class Shop:
    """A merchant as its customers see it: the slug of its pages and its branding."""

    tenant_id: UUID
    slug: str
    branding: Branding


@dataclass(frozen=True)
class ParcelStatus:
    """A parcel as its recipient may see it."""

    tracking_number: str
    carrier: str
    service: str
    status: ShipmentStatus
    tracking_url: str
    deliver_by: date | None
    delivered_at: datetime | None
    packages: int
    events: tuple[TrackingEvent, ...]

    @classmethod
    def of(cls, shipment: Shipment) -> ParcelStatus:
        return cls(
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            service=shipment.service,
            status=shipment.status,
            tracking_url=shipment.tracking_url,
            deliver_by=shipment.deliver_by,
            delivered_at=shipment.delivered_at,
            packages=max(1, len(shipment.package_ids)),
            events=tuple(sorted(shipment.events, key=lambda e: e.occurred_at, reverse=True)),
        )


@dataclass(frozen=True)
class Pickup:
    """A store pickup: where, whether it waits, until when. Never its code."""

    store: str
    address: Address | None
    state: PickupState
    ready_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class ItemLine:
    name: str
    quantity: int


@dataclass(frozen=True)
class OrderStatusPage:
    """One order as its customer may see it."""

    shop: Shop
    number: int
    placed_at: datetime
    stage: CustomerStage
    deliver_by: date | None
    items: tuple[ItemLine, ...]
    parcels: tuple[ParcelStatus, ...]
    pickups: tuple[Pickup, ...]
    timeline: tuple[TimelineEntry, ...]
    returns: ReturnOffer | None = None  # what the return form offers; None: no form


@dataclass(frozen=True)
class ParcelPage:
    """A parcel behind a tracking number, with the branding of the merchant who sent it;
    ``shipment`` for the tracking page's JSON, which predates the page."""

    shipment: Shipment
    parcel: ParcelStatus
    branding: Branding


def _slug(slug: str) -> str:
    """Slugs are lower case; a URL typed with capitals finds the shop all the same."""
    return slug.strip().lower()


def _shop(uow: UnitOfWork, tenant: Tenant) -> Shop:
    return Shop(tenant_id=tenant.id, slug=tenant.slug, branding=branding_of(uow, tenant.id))


def shop_named(*, uow_factory: UnitOfWorkFactory, slug: str) -> Shop:
    """The merchant whose status page ``slug`` names (NotFound when none does)."""
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.by_slug(_slug(slug))
        if tenant is None:
            raise NotFound(f"No shop {slug!r}")
        return _shop(uow, tenant)


def _pickup_state(fo: FulfillmentOrder, expired: bool) -> PickupState | None:
    """How a pickup stands; None for one the customer never needs to see (refused by its
    store, or moved or cancelled before it was ready)."""
    status = fo.status
    if status is FulfillmentOrderStatus.READY_FOR_PICKUP:
        return PickupState.READY
    if status is FulfillmentOrderStatus.CLOSED:
        return PickupState.PICKED_UP
    if status is FulfillmentOrderStatus.REJECTED:
        return None
    if status is FulfillmentOrderStatus.CANCELLED:
        if expired:
            return PickupState.EXPIRED
        return PickupState.CANCELLED if fo.ready_at is not None else None
    return PickupState.PREPARING


def _pickups(uow: UnitOfWork, order: Order, fos: list[FulfillmentOrder]) -> list[Pickup]:
    expired = {
        str(e.data.get("fulfillment_order_id"))
        for e in order.events
        if e.type == "fulfillment_order.pickup_expired"
    }
    found = []
    for fo in fos:
        state = (
            None
            if fo.kind is not FulfillmentKind.PICKUP
            else _pickup_state(fo, str(fo.id) in expired)
        )
        if state is None:
            continue
        store = uow.locations.get(fo.location_id)
        found.append(
            Pickup(
                store=store.name if store else (fo.location_code or "the store"),
                address=store.address if store else None,
                state=state,
                ready_at=fo.ready_at,
                expires_at=fo.pickup_expires_at if state is PickupState.READY else None,
            )
        )
    return found


def _status_page(uow: UnitOfWork, shop: Shop, order: Order, now: datetime) -> OrderStatusPage:
    shipments = uow.shipments.for_order(order.tenant_id, order.id)
    for shipment in shipments:
        shipment.events = uow.shipments.events_of(order.tenant_id, shipment.id)
    parcels = [ParcelStatus.of(s) for s in shipments]
    pickups = _pickups(uow, order, uow.fulfilment.for_order(order.tenant_id, order.id))
    return OrderStatusPage(
        shop=shop,
        number=order.number,
        placed_at=order.created_at,
        stage=order_stage(
            status=order.status,
            fulfillment_status=order.fulfillment_status,
            released=order.released_at is not None,
            parcels=[p.status for p in parcels],
            pickups=[p.state for p in pickups],
        ),
        deliver_by=order.promised_deliver_by,
        items=tuple(ItemLine(line.name, line.quantity - line.cancelled) for line in order.lines),
        parcels=tuple(parcels),
        pickups=tuple(pickups),
        timeline=tuple(customer_timeline(order.events)),
        returns=return_offer(uow, order, now=now),
    )


def _digest(text: str | None) -> bytes:
    return hashlib.sha256((text or "").encode()).digest()


def _same(given: str | None, known: str | None) -> bool:
    """Whether a customer's answer matches, compared in constant time on digests; an
    answer never matches nothing."""
    matched = hmac.compare_digest(_digest(given), _digest(known))
    return matched and bool(given) and bool(known)


def _order_number(text: str) -> int:
    """``1001`` or ``#1001``; -1 (no order has it) for anything else."""
    digits = text.strip().removeprefix("#").strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return -1
    return int(digits)


def _postal(code: str | None) -> str | None:
    if code is None:
        return None
    return "".join(c for c in code.upper() if c.isalnum()) or None


def find_order(
    *,
    uow_factory: UnitOfWorkFactory,
    slug: str,
    number: str,
    email: str | None = None,
    postal_code: str | None = None,
    now: datetime | None = None,
) -> OrderStatusPage:
    """The order of the shop ``slug`` numbered ``number`` whose customer's email is
    ``email``, or one of whose addresses has ``postal_code`` (letter case, spaces and
    hyphens aside). NotFound with ``NO_MATCH`` for a wrong number and a wrong email or
    postal code alike; NotFound for an unknown shop."""
    wanted_email = (email or "").strip().casefold() or None
    wanted_postal = _postal(postal_code)
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.by_slug(_slug(slug))
        if tenant is None:
            raise NotFound(f"No shop {slug!r}")
        contact = uow.orders.contact_by_number(tenant.id, _order_number(number))
        known_email = None if contact is None or not contact.email else contact.email.casefold()
        known_postal = [] if contact is None else [_postal(c) for c in contact.postal_codes]
        # Both comparisons always run, whichever was asked and whether the order exists.
        by_email = _same(wanted_email, known_email)
        postal_matches = [_same(wanted_postal, known) for known in known_postal or [None]]
        by_postal = any(postal_matches)
        if contact is None or not (by_email or by_postal):
            raise NotFound(NO_MATCH)
        order = uow.orders.get(tenant.id, contact.order_id)
        if order is None:
            raise NotFound(NO_MATCH)
        return _status_page(uow, _shop(uow, tenant), order, now or utcnow())


def open_order(
    *,
    uow_factory: UnitOfWorkFactory,
    slug: str,
    token: str,
    grants: StatusGrants,
    now: datetime,
) -> OrderStatusPage:
    """The order a signed link opens at ``now``: NotFound for a forged or altered link and
    for a link of another shop, Gone once it has expired."""
    grant = grants.read(token)
    with uow_factory(readonly=True) as uow:
        tenant = uow.tenants.by_slug(_slug(slug))
        if tenant is None:
            raise NotFound(f"No shop {slug!r}")
        if grant is None or grant.tenant_id != tenant.id:
            raise NotFound("This link is not valid; look your order up instead")
        if grant.expired(now):
            raise Gone("This link has expired; look your order up instead")
        order = uow.orders.get(tenant.id, grant.order_id)
        if order is None:
            raise NotFound("This link is not valid; look your order up instead")
        return _status_page(uow, _shop(uow, tenant), order, now)


def parcel_page(*, uow_factory: UnitOfWorkFactory, tracking_number: str) -> ParcelPage:
    """The parcel behind a tracking number, with its sender's branding (NotFound when
    there is none; the number is the only key a customer has)."""
    with uow_factory(readonly=True) as uow:
        shipment = parcel_numbered(uow, tracking_number)
        branding = branding_of(uow, shipment.tenant_id)
    return ParcelPage(shipment=shipment, parcel=ParcelStatus.of(shipment), branding=branding)
