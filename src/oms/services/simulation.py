"""What-if routing: a set of orders routed under the current and a candidate profile.

Nothing is written: every order is routed on its own against the stock as it is now (a
snapshot; orders in the file do not consume each other's stock), so the two profiles are
compared on exactly the same situations.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from oms.domain.addresses import Address
from oms.domain.catalogue import unit_demand
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.routing import RoutingLine
from oms.domain.routing_profile import RoutingProfile
from oms.services.common import utcnow
from oms.services.ports import OrderSearch, UnitOfWorkFactory
from oms.services.routing import Geocoder, RouteRequest, plan_route, unit_weights

__all__ = ["SimulatedOrder", "SimulationTotals", "parse_orders", "recent_orders", "simulate"]


@dataclass(frozen=True)
class SimulatedOrder:
    destination: Address
    lines: tuple[tuple[str, int], ...]
    service_level: str = "standard"


@dataclass
class SimulationTotals:
    orders: int = 0
    shipping: Decimal = Decimal(0)
    handling: Decimal = Decimal(0)
    total_cost: Decimal = Decimal(0)
    packages: int = 0
    split_orders: int = 0
    late_orders: int = 0
    backordered_units: int = 0
    load: Counter[str] = field(default_factory=Counter)

    @property
    def packages_per_order(self) -> float:
        return self.packages / self.orders if self.orders else 0.0

    @property
    def split_rate(self) -> float:
        return self.split_orders / self.orders if self.orders else 0.0


def parse_orders(text: str) -> list[SimulatedOrder]:
    """Orders as JSON lines (``{"destination": {...}, "lines": [{"sku", "quantity"}]}``) or
    CSV with columns country, region, postal_code, city, lines ("SKU:2;SKU2:1"),
    service_level."""
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            return [_from_json(json.loads(line)) for line in text.splitlines() if line.strip()]
        return [_from_csv(row) for row in csv.DictReader(io.StringIO(text))]
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidRequest(
            "The orders file cannot be read", [FieldError("#/orders", str(error))]
        ) from None


def _from_json(raw: dict[str, Any]) -> SimulatedOrder:
    return SimulatedOrder(
        destination=Address.from_dict(raw["destination"]),
        lines=tuple((str(ln["sku"]), int(ln["quantity"])) for ln in raw["lines"]),
        service_level=str(raw.get("service_level", "standard")),
    )


def _from_csv(row: dict[str, str]) -> SimulatedOrder:
    lines = []
    for part in row["lines"].split(";"):
        sku, _, quantity = part.partition(":")
        lines.append((sku.strip(), int(quantity or 1)))
    return SimulatedOrder(
        destination=Address(
            country=row["country"].strip().upper(),
            region=(row.get("region") or None),
            postal_code=(row.get("postal_code") or None),
            city=(row.get("city") or None),
        ),
        lines=tuple(lines),
        service_level=(row.get("service_level") or "standard"),
    )


def simulate(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    orders: Sequence[SimulatedOrder],
    profiles: Sequence[RoutingProfile],
    geocoder: Geocoder,
    at: datetime | None = None,
) -> list[SimulationTotals]:
    """Route every order under each profile; totals per profile, in the order given."""
    when = at or utcnow()
    totals = [SimulationTotals() for _ in profiles]
    with uow_factory(readonly=True) as uow:
        skus = {sku for order in orders for sku, _ in order.lines}
        products = uow.products.by_skus(tenant_id, skus)
        grams = unit_weights(uow, tenant_id=tenant_id, products=products)
        for order in orders:
            lines = [
                RoutingLine(i + 1, quantity, grams[sku], unit_demand(products[sku]))
                for i, (sku, quantity) in enumerate(order.lines)
                if sku in products and quantity > 0
            ]
            request = RouteRequest(
                lines=lines, destination=order.destination, service_level=order.service_level
            )
            for profile, total in zip(profiles, totals, strict=True):
                result = plan_route(
                    uow,
                    tenant_id=tenant_id,
                    request=request,
                    geocoder=geocoder,
                    profile=profile,
                    at=when,
                )
                total.orders += 1
                total.shipping += result.cost.shipping
                total.handling += result.cost.handling
                total.total_cost += result.cost.total
                total.packages += len(result.packages)
                total.split_orders += len(result.packages) > 1
                total.late_orders += any(p.option.late for p in result.packages)
                total.backordered_units += sum(result.unfilled.values())
                total.load.update(p.code for p in result.packages)
    return totals


def recent_orders(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, limit: int
) -> list[SimulatedOrder]:
    """The tenant's latest ``limit`` orders shipped to an address, as simulation input (their
    lines as ordered, their destination and service level): a what-if on real demand."""
    with uow_factory(readonly=True) as uow:
        found = uow.orders.search(tenant_id, search=OrderSearch(), before_id=None, limit=limit)
    return [
        SimulatedOrder(
            destination=order.shipping_address,
            lines=tuple((line.sku, line.quantity) for line in order.lines if line.quantity > 0),
            service_level=order.service_level,
        )
        for order in found
        if order.shipping_address is not None and order.pickup_location_id is None
    ]
