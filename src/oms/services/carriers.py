"""Carrier services and their rate cards: import them, list them, shop rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import yaml

from oms.domain.addresses import Address
from oms.domain.catalogue import location_named
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.geo import GeoPoint
from oms.domain.ids import new_id
from oms.domain.rate_import import parse_rate_cards
from oms.domain.shipping import CarrierService, Parcel, Quote, rate_shop, ship_date
from oms.domain.tenancy import Principal
from oms.services.common import utcnow
from oms.services.ports import UnitOfWorkFactory
from oms.services.routing import Geocoder
from oms.services.routing_network import carrier_services, cutoff_of, priced_in

__all__ = [
    "ImportResult",
    "import_rate_cards",
    "list_carrier_services",
    "shop_rates",
    "to_document",
]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def to_document(service: CarrierService) -> dict[str, Any]:
    """The YAML import format of one service, as stored with it (and re-read by the parser)."""
    card = service.rate_card
    document: dict[str, Any] = {
        "carrier": service.carrier,
        "code": service.code,
        "name": service.name,
        "currency": card.currency,
        "dim_divisor": card.dim_divisor,
        "fuel_surcharge_pct": str(card.fuel_surcharge_pct),
        "zones": {
            "distance_bands": [
                {"up_to_km": band.up_to_km, "zone": band.zone} for band in card.zones.distance_bands
            ],
            "regions": [
                {"country": r.country, "zone": r.zone}
                | ({} if r.region is None else {"region": r.region})
                for r in card.zones.regions
            ],
        },
        "prices": [
            {
                "zone": p.zone,
                "transit_days": p.transit_days,
                "per_kg_over": str(p.per_kg_over),
                "breaks": [{"up_to_grams": b.up_to_grams, "price": str(b.price)} for b in p.breaks],
            }
            for p in card.prices
        ],
    }
    if card.max_weight_grams is not None:
        document["max_weight_grams"] = card.max_weight_grams
    if not service.international:
        document["international"] = False
    return {"format": "yaml", "document": yaml.safe_dump([document], sort_keys=False)}


def import_rate_cards(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: Principal | None,
    text: str,
    fmt: Literal["csv", "yaml"],
    at: datetime | None = None,
) -> ImportResult:
    """Create or replace carrier services from a CSV or YAML rate card file (operator only).

    ``principal`` None is the command line, which acts as the operator.
    """
    if principal is not None:
        principal.require_operator()
    services = parse_rate_cards(text, fmt=fmt)
    if not services:
        raise InvalidRequest("No carrier service in the file", [FieldError("#", "empty")])
    created = updated = 0
    when = at or utcnow()
    with uow_factory() as uow:
        for service in services:
            if uow.routing.upsert_carrier_service(
                carrier=service.carrier,
                code=service.code,
                name=service.name,
                rate_card=to_document(service),
                service_id=new_id(),
                at=when,
            ):
                created += 1
            else:
                updated += 1
        uow.commit()
    return ImportResult(created=created, updated=updated)


def list_carrier_services(*, uow_factory: UnitOfWorkFactory) -> list[CarrierService]:
    """Every active carrier service, by carrier and code."""
    with uow_factory(readonly=True) as uow:
        return carrier_services(uow)


def shop_rates(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    geocoder: Geocoder,
    origin_code: str,
    destination: Address,
    parcel: Parcel,
    deliver_by: date | None,
    now: datetime | None = None,
) -> list[Quote]:
    """Every service that can carry ``parcel`` from a location to ``destination`` (by
    ``deliver_by`` when given), cheapest first."""
    when = now or utcnow()
    with uow_factory(readonly=True) as uow:
        services = carrier_services(uow)
        origin = location_named(uow.locations.visible_to(tenant_id), origin_code, tenant_id)
    if origin is None:
        raise InvalidRequest(
            "Unknown location", [FieldError("#/origin", f"no location {origin_code!r}")]
        )
    point = (
        None
        if origin.latitude is None or origin.longitude is None
        else GeoPoint(origin.latitude, origin.longitude)
    )
    target = geocoder.geocode(destination)
    return rate_shop(
        priced_in(services, None),
        parcel=parcel,
        origin=point,
        origin_country=origin.address.country if origin.address else destination.country,
        destination=target.point,
        destination_country=destination.country,
        destination_region=destination.region,
        ship_on=ship_date(when, cutoff_of(origin)),
        deliver_by=deliver_by,
    )
