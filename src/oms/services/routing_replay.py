"""``oms simulate routing``: replay a generated history through the real services, on a fast
clock, once routed as today (myopic) and once with the look-ahead, and count what it cost.

Into an empty database (the command makes a throwaway SQLite one): four US warehouses, a
carrier rate card by distance, ``skus`` SKUs each selling mostly around one warehouse's
region (demand skewed by region) but stocked at random shares over the warehouses, a
history of ``history_days`` days imported as sales at the warehouse nearest each order and
forecast by the real ``run_forecasts``; then ``days`` days of orders placed through
``intake.place_order`` at their own moments (the injected clock), for two tenants that
differ only in the routing profile's ``lookahead`` option. Stock is not replenished, so it
runs down as the orders come. Everything is drawn from ``seed``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import LocationKind
from oms.domain.demand import DemandDay
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.geo import GeoPoint, distance_km
from oms.domain.ids import new_id
from oms.domain.orders import Actor, Customer
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, intake, inventory
from oms.services.carriers import import_rate_cards
from oms.services.forecasting import ForecastEngine, run_forecasts
from oms.services.payments import GatewayProvider
from oms.services.ports import UnitOfWorkFactory
from oms.services.routing_profiles import put_routing_profile
from oms.services.tenants import create_tenant

__all__ = ["ReplayFigures", "ReplaySettings", "replay_routing"]

SIMULATOR = Actor("system", "simulate")
START = datetime(2030, 3, 4, tzinfo=UTC)  # a Monday; the replay's own clock
WAREHOUSES = {  # code: (latitude, longitude, state, city, ZIP code)
    "WH-RENO": (39.53, -119.81, "NV", "Reno", "89501"),
    "WH-DALLAS": (32.78, -96.80, "TX", "Dallas", "75201"),
    "WH-NEWARK": (40.73, -74.17, "NJ", "Newark", "07102"),
    "WH-CHICAGO": (41.88, -87.63, "IL", "Chicago", "60601"),
}
RATES = """
- carrier: sim
  code: ground
  name: Simulated Ground
  currency: USD
  zones:
    distance_bands:
      - {up_to_km: 400, zone: z1}
      - {up_to_km: 1200, zone: z2}
      - {up_to_km: 2500, zone: z3}
      - {up_to_km: .inf, zone: z4}
  prices:
    - {zone: z1, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "5.50"}]}
    - {zone: z2, transit_days: 2, per_kg_over: "0.70",
       breaks: [{up_to_grams: 5000, price: "7.90"}]}
    - {zone: z3, transit_days: 3, per_kg_over: "0.90",
       breaks: [{up_to_grams: 5000, price: "10.40"}]}
    - {zone: z4, transit_days: 4, per_kg_over: "1.10",
       breaks: [{up_to_grams: 5000, price: "12.90"}]}
"""


@dataclass(frozen=True)
class ReplaySettings:
    """What to generate; ``weight`` and ``horizon_days`` are the look-ahead tenant's."""

    days: int = 14
    history_days: int = 56
    orders_per_day: float = 12.0
    skus: int = 4
    seed: int = 7
    weight: Decimal = Decimal("0.75")
    horizon_days: int = 7

    def check(self) -> None:
        """Refuse settings that generate nothing sensible (422-style, with pointers)."""
        errors = []
        if not 1 <= self.days <= 365:
            errors.append(FieldError("#/days", "must be from 1 to 365"))
        if not 35 <= self.history_days <= 730:
            errors.append(FieldError("#/history_days", "must be from 35 to 730"))
        if not 0 < self.orders_per_day <= 500:
            errors.append(FieldError("#/orders_per_day", "must be above 0 and at most 500"))
        if not 1 <= self.skus <= 50:
            errors.append(FieldError("#/skus", "must be from 1 to 50"))
        if not 0 <= self.weight <= 100:
            errors.append(FieldError("#/weight", "must be from 0 to 100"))
        if not 1 <= self.horizon_days <= 56:
            errors.append(FieldError("#/horizon_days", "must be from 1 to 56"))
        if errors:
            raise InvalidRequest("The simulation settings are not valid", errors)


@dataclass
class ReplayFigures:
    """Per mode ("myopic", "look-ahead"): the replay's totals."""

    orders: int = 0
    units: int = 0
    shipping: dict[str, Decimal] = field(default_factory=dict)
    handling: dict[str, Decimal] = field(default_factory=dict)
    packages: dict[str, int] = field(default_factory=dict)
    backordered: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # rounds whose look-ahead kept units

    def total(self, mode: str) -> Decimal:
        return self.shipping[mode] + self.handling[mode]


@dataclass(frozen=True)
class _Order:
    at: datetime
    sku: str
    units: int
    point: GeoPoint


def _orders(
    rng: random.Random, homes: dict[str, str], first: datetime, days: int, per_day: float
) -> list[_Order]:
    found = []
    for day in range(days):
        for _ in range(_poisson(rng, per_day)):
            sku = rng.choice(sorted(homes))
            if rng.random() < 0.6:
                lat, lon = WAREHOUSES[homes[sku]][:2]
            else:
                lat, lon = WAREHOUSES[rng.choice(sorted(WAREHOUSES))][:2]
            point = GeoPoint(lat + rng.gauss(0, 1.5), lon + rng.gauss(0, 2.0))
            at = first + timedelta(days=day, minutes=rng.randrange(8 * 60, 20 * 60))
            units = rng.choices([1, 2, 3], [0.7, 0.2, 0.1])[0]
            found.append(_Order(at, sku, units, point))
    return found


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, 1.0
    while True:
        product *= rng.random()
        if product <= limit:
            return count
        count += 1


def _nearest(point: GeoPoint) -> str:
    return min(WAREHOUSES, key=lambda c: distance_km(point, GeoPoint(*WAREHOUSES[c][:2])))


def replay_routing(
    *,
    uow_factory: UnitOfWorkFactory,
    engine: ForecastEngine,
    gateways: GatewayProvider,
    settings: ReplaySettings,
) -> ReplayFigures:
    """Generate, forecast and replay (see the module); the figures of both modes."""
    settings.check()
    rng = random.Random(settings.seed)
    homes = {f"SIM-{i:02d}": rng.choice(sorted(WAREHOUSES)) for i in range(settings.skus)}
    first_day = START - timedelta(days=settings.history_days)
    history = _orders(rng, homes, first_day, settings.history_days, settings.orders_per_day)
    orders = _orders(rng, homes, START, settings.days, settings.orders_per_day)
    expected = {
        sku: sum(o.units for o in history if o.sku == sku) / settings.history_days * settings.days
        for sku in homes
    }
    stock: dict[tuple[str, str], int] = {}
    for sku in homes:
        shares = {code: rng.random() for code in sorted(WAREHOUSES)}
        for code, share in shares.items():
            stock[sku, code] = round(1.1 * expected[sku] * share / sum(shares.values()))
    import_rate_cards(uow_factory=uow_factory, principal=None, text=RATES, fmt="yaml")
    figures = ReplayFigures(orders=len(orders), units=sum(o.units for o in orders))
    for mode in ("myopic", "look-ahead"):
        tenant_id = _set_up(uow_factory, mode, homes, stock, history, settings)
        run_forecasts(uow_factory=uow_factory, engine=engine, tenant_id=tenant_id, now=START)
        _place_all(uow_factory, gateways, tenant_id, orders, mode, figures)
    return figures


def _set_up(
    uow_factory: UnitOfWorkFactory,
    mode: str,
    homes: dict[str, str],
    stock: dict[tuple[str, str], int],
    history: list[_Order],
    settings: ReplaySettings,
) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name=f"Simulated {mode}", slug=None)
    owner = Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    for code, (lat, lon, state, city, zip_code) in WAREHOUSES.items():
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=owner,
            command=catalogue.NewLocation(
                code=code,
                name=code,
                kind=LocationKind.WAREHOUSE,
                address=Address(
                    country="US", line1="1 Dock Road", city=city, region=state, postal_code=zip_code
                ),
                latitude=lat,
                longitude=lon,
            ),
            at=START,
        )
    for sku in homes:
        catalogue.create_product(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(
                sku=sku, name=sku, price=Decimal("20.00"), currency="USD", weight_grams=600
            ),
            at=START,
        )
    for (sku, code), units in sorted(stock.items()):
        inventory.adjust_inventory(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=inventory.Adjustment(
                sku=sku, location_code=code, set_on_hand=units, reason="simulation start"
            ),
            actor=SIMULATOR,
        )
    days: dict[tuple[date, str, str], int] = {}
    for o in history:
        key = (o.at.date(), o.sku, _nearest(o.point))
        days[key] = days.get(key, 0) + o.units
    with uow_factory() as uow:
        uow.demand.put_days(
            tenant.id,
            [DemandDay(day, sku, code, units) for (day, sku, code), units in sorted(days.items())],
            source="import",
        )
        uow.commit()
    lookahead = {
        "enabled": mode == "look-ahead",
        "weight": str(settings.weight),
        "horizon_days": settings.horizon_days,
    }
    put_routing_profile(
        uow_factory=uow_factory,
        tenant_id=tenant.id,
        raw={"split_penalty": "1.00", "lookahead": lookahead},
        actor=SIMULATOR,
        at=START,
    )
    return tenant.id


def _place_all(
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    orders: list[_Order],
    mode: str,
    figures: ReplayFigures,
) -> None:
    shipping = handling = Decimal(0)
    packages = backordered = kept = 0
    for n, o in enumerate(orders):
        # A real address near the order's point (its coordinates place it; this passes checks).
        _, _, state, city, zip_code = WAREHOUSES[_nearest(o.point)]
        command = intake.PlaceOrder(
            currency="USD",
            channel="simulation",
            external_id=f"{mode}-{n}",
            allow_backorder=True,
            customer=Customer(email="sim@example.com", name="Simulated Customer"),
            shipping_address=Address(
                country="US",
                name="Simulated Customer",
                line1="1 Main Street",
                city=city,
                region=state,
                postal_code=zip_code,
                latitude=o.point.latitude,
                longitude=o.point.longitude,
            ),
            lines=(intake.LineRequest(sku=o.sku, quantity=o.units),),
            payment=intake.ChannelPayment(gateway="manual", captured=True),
        )
        placed = intake.place_order(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=tenant_id,
            command=command,
            actor=SIMULATOR,
            at=o.at,
        )
        routing = placed.order.routing or {}
        for package in routing.get("packages", []):
            shipping += Decimal(package.get("shipping", "0"))
            handling += Decimal(package.get("handling", "0"))
            packages += 1
        backordered += sum(int(units) for units in routing.get("backordered", {}).values())
        kept += sum(
            1 for r in routing.get("rounds", []) if r.get("lookahead", "").startswith("kept")
        )
    figures.shipping[mode], figures.handling[mode] = shipping, handling
    figures.packages[mode], figures.backordered[mode], figures.kept[mode] = (
        packages,
        backordered,
        kept,
    )
