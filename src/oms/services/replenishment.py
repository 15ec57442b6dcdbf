"""Replenishment suggestions: for each SKU forecast at a location (or over all of them),
the reorder point, order-up-to level and the order to place now under one supplier's terms
(``oms.domain.replenishment`` holds the rule).

The terms come from the caller for now; when suppliers and purchase orders exist they will
come from the supplier of each SKU, and stock on order will join the inventory position
(today it is on hand less reserved).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from oms.domain.demand import ALL_LOCATIONS
from oms.domain.errors import NotFound
from oms.domain.replenishment import ReplenishmentPlan, SupplyTerms, plan_replenishment
from oms.services.ports import UnitOfWorkFactory

__all__ = ["Suggestions", "suggest_replenishment"]


@dataclass(frozen=True)
class Suggestions:
    """The plans of one supplier's terms at one location ("": all locations together)."""

    terms: SupplyTerms
    location: str
    plans: list[ReplenishmentPlan]


def suggest_replenishment(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    terms: SupplyTerms,
    today: date,
    location: str | None = None,
    skus: Sequence[str] | None = None,
    include_no_order: bool = False,
) -> Suggestions:
    """Plan every forecast SKU (or ``skus``) at ``location`` (a location code; None: all
    locations together) from its latest forecast and its stock now; only the SKUs to order
    unless ``include_no_order``."""
    key = location or ALL_LOCATIONS
    with uow_factory(readonly=True) as uow:
        forecasts = uow.demand.forecasts(tenant_id, location=key)
        if skus is not None:
            wanted = set(skus)
            forecasts = [f for f in forecasts if f.sku in wanted]
        visible = uow.locations.visible_to(tenant_id)
        ids = None
        if location:
            ids = [loc.id for loc in visible if loc.code == location]
            if not ids:
                raise NotFound(f"no location {location!r}")
        levels = uow.inventory.levels(tenant_id, [f.sku for f in forecasts], ids)
    position: dict[str, int] = defaultdict(int)
    for level in levels:
        position[level.sku] += level.on_hand - level.reserved
    plans = [
        plan_replenishment(forecast=f, position=position[f.sku], terms=terms, today=today)
        for f in forecasts
    ]
    if not include_no_order:
        plans = [p for p in plans if p.quantity > 0]
    return Suggestions(terms=terms, location=key, plans=plans)
