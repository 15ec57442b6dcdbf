"""What routing works with: the candidate locations of an order and the carrier prices.

``network`` gathers the candidates (active, shipping, not excluded, stock above the routing
safety stock, capacity left today) and says why the others were left out; ``Shipper``
prices a parcel from a location to the destination with the carrier rate cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import Location, LocationKind
from oms.domain.geo import Geocode, GeoPoint
from oms.domain.inventory import StockLevel
from oms.domain.rate_import import parse_rate_cards
from oms.domain.routing import (
    Candidate,
    ShipOption,
)
from oms.domain.routing_profile import RoutingProfile
from oms.domain.shipping import CarrierService, Parcel, rate_shop, ship_date
from oms.services.ports import UnitOfWork

__all__ = [
    "UNLIMITED",
    "Network",
    "Shipper",
    "carrier_services",
    "cutoff_of",
    "network",
    "priced_in",
]

UNLIMITED = 10**9
_PREFERENCE = attrgetter("preference")  # Location.preference, with no lambda around it


def priced_in(services: Sequence[CarrierService], currency: str | None) -> list[CarrierService]:
    """The services of one currency (prices in two currencies cannot be ranked): the
    order's currency when some service uses it, else the currency most services use."""
    by_currency: dict[str, list[CarrierService]] = {}
    for service in services:
        by_currency.setdefault(service.rate_card.currency, []).append(service)
    if not by_currency:
        return []
    if currency in by_currency:
        return by_currency[currency]
    return max(by_currency.values(), key=len)


def carrier_services(
    uow: UnitOfWork, rate_cards: Sequence[Mapping[str, Any]] | None = None
) -> list[CarrierService]:
    """Every active carrier service with its rate card, from the operator's table.

    ``rate_cards``: the active services' ``rate_card`` values when already read in this
    transaction.
    """
    if rate_cards is None:
        rate_cards = [row["rate_card"] for row in uow.routing.carrier_service_rows()]
    services: list[CarrierService] = []
    for card in rate_cards:
        services.extend(_parsed(card["document"]))
    return services


@lru_cache(maxsize=512)
def _parsed(document: str) -> tuple[CarrierService, ...]:
    # Stored cards are parsed once per process, not once per order.
    return tuple(parse_rate_cards(document, fmt="yaml"))


def cutoff_of(location: Location) -> time:
    """The location's daily carrier pickup cut-off."""
    hours, minutes = (int(part) for part in location.pickup_cutoff.split(":"))
    return time(hours, minutes)


@dataclass
class Network:
    profile: RoutingProfile
    locations: dict[UUID, Location]
    candidates: list[Candidate]
    rejected: list[tuple[str, str]]
    # The stock rows read for it (before routing safety stock), for a first plan to reuse.
    levels: list[StockLevel] = field(default_factory=list)


def network(
    uow: UnitOfWork,
    tenant_id: UUID,
    skus: Sequence[str],
    profile: RoutingProfile,
    exclude: frozenset[str],
    today: date,
) -> Network:
    usable: list[Location] = []
    rejected: list[tuple[str, str]] = []
    for loc in sorted(uow.locations.visible_to(tenant_id), key=_PREFERENCE):
        if not loc.active:
            rejected.append((loc.code, "inactive"))
        elif not loc.can_ship:
            rejected.append((loc.code, "does not ship"))
        elif loc.code in profile.excluded_locations or loc.code in exclude:
            rejected.append((loc.code, "excluded"))
        elif loc.kind is LocationKind.STORE and not profile.ship_from_store:
            rejected.append((loc.code, "ship-from-store is off"))
        else:
            usable.append(loc)
    by_id = {loc.id: loc for loc in usable}
    # Each location's stock and routing safety stock, found by the id's integer: a UUID
    # hashes in Python, an int in C (this runs for every order).
    safety = profile.safety_stock
    stock: dict[int, tuple[dict[str, int], int]] = {
        loc.id.int: ({}, safety.get(loc.code, 0)) for loc in usable
    }
    levels = uow.inventory.levels(tenant_id, skus, list(by_id))
    for level in levels:
        here, kept_back = stock[level.location_id.int]
        here[level.sku] = max(0, level.available - kept_back)
    # Load is counted only where a capacity is set, so only then is it worth reading.
    loads = uow.routing.loads(tenant_id, today) if profile.daily_capacity else {}
    candidates: list[Candidate] = []
    for loc in usable:
        limit = profile.daily_capacity.get(loc.code)
        left = UNLIMITED if limit is None else limit - loads.get(loc.id, 0)
        if left <= 0:
            rejected.append((loc.code, "at its daily capacity"))
            continue
        available = stock[loc.id.int][0]
        if not any(available.values()):
            rejected.append((loc.code, "no stock for this order"))
            continue
        candidates.append(
            Candidate(
                location_id=loc.id,
                code=loc.code,
                available=available,
                capacity_left=left,
                handling_cost=profile.handling_at(loc.code),
            )
        )
    return Network(profile, by_id, candidates, rejected, levels)


class Shipper:
    """Prices a parcel from a location to the destination, cheapest on-time service first."""

    def __init__(
        self,
        services: Sequence[CarrierService],
        locations: Mapping[UUID, Location],
        destination: Geocode,
        address: Address | None,
        promise: date | None,
        now: datetime,
    ) -> None:
        self.services = services
        self.locations = locations
        self.destination = destination
        self.country = "" if address is None else address.country
        self.region = None if address is None else address.region
        self.promise = promise
        self.now = now
        self.cache: dict[tuple[UUID, int], ShipOption | None] = {}

    def __call__(self, location_id: UUID, grams: int) -> ShipOption | None:
        key = (location_id, grams)
        if key not in self.cache:
            self.cache[key] = self._cheapest(location_id, grams)
        return self.cache[key]

    def _cheapest(self, location_id: UUID, grams: int) -> ShipOption | None:
        loc = self.locations[location_id]
        ship_on = ship_date(self.now, cutoff_of(loc))
        if not self.services:
            return ShipOption("none", "unpriced", Decimal(0), ship_on, late=False)
        origin = (
            None
            if loc.latitude is None or loc.longitude is None
            else GeoPoint(loc.latitude, loc.longitude)
        )
        common: dict[str, Any] = {
            "parcel": Parcel(weight_grams=max(1, grams)),
            "origin": origin,
            "origin_country": loc.address.country if loc.address else self.country,
            "destination": self.destination.point,
            "destination_country": self.country,
            "destination_region": self.region,
            "ship_on": ship_on,
        }
        on_time = rate_shop(self.services, deliver_by=self.promise, **common)
        if on_time:
            best = on_time[0]
            return ShipOption(best.carrier, best.service, best.price, best.deliver_by, late=False)
        every = rate_shop(self.services, **common)
        if not every:
            return None
        fastest = min(every, key=lambda q: (q.deliver_by, q.price, q.carrier, q.service))
        return ShipOption(
            fastest.carrier, fastest.service, fastest.price, fastest.deliver_by, late=True
        )
