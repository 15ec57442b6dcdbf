"""Replenishment suggestions: for each SKU forecast at a location (or over all of them),
the reorder point, order-up-to level and the order to place now under one supplier's terms
(``oms.domain.replenishment`` holds the rule).

Two ways: ``suggest_replenishment`` plans under terms the caller gives (what-if, or SKUs
with no supplier yet); ``suggest_purchases`` plans every SKU at each location under the
terms of the supplier it is linked to (``supplier_skus``), with stock on order in the
position, suggests transfers between locations first (``oms.domain.rebalancing``) and
groups what is left to buy per supplier; ``draft_purchase_orders`` turns one supplier's
group into draft purchase orders (one per location) through ``oms.services.purchasing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from oms.domain.demand import ALL_LOCATIONS
from oms.domain.errors import Conflict, FieldError, InvalidRequest, NotFound
from oms.domain.forecasting import DemandForecast
from oms.domain.inbound import PurchaseOrder, Supplier, SupplierSku
from oms.domain.money import minor_unit_problem
from oms.domain.orders import Actor
from oms.domain.rebalancing import TransferSuggestion, transfers_between
from oms.domain.replenishment import ReplenishmentPlan, SupplyTerms, plan_replenishment
from oms.services.ports import UnitOfWorkFactory
from oms.services.purchasing import PoLineInput, PurchaseOrderCreate, create_purchase_order

__all__ = [
    "PurchaseLine",
    "PurchaseSuggestions",
    "Suggestions",
    "SupplierGroup",
    "draft_purchase_orders",
    "link_supplier_sku",
    "plan_sku",
    "suggest_purchases",
    "suggest_replenishment",
]


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


# --- per supplier, with transfers first ----------------------------------------------------


@dataclass(frozen=True)
class PurchaseLine:
    """One SKU to buy for one location, its plan and the supplier's unit cost."""

    plan: ReplenishmentPlan
    unit_cost: Decimal


@dataclass(frozen=True)
class SupplierGroup:
    """What to buy from one supplier now, location by location."""

    supplier: Supplier
    lines: list[PurchaseLine]

    @property
    def total(self) -> Decimal:
        """The lines' cost at the supplier's unit costs."""
        return sum((line.unit_cost * line.plan.quantity for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class PurchaseSuggestions:
    """Transfers to make first, then what to buy per supplier; ``unlinked``: SKUs forecast
    at a location that have no supplier (link one to plan them)."""

    review_period_days: int
    service_level: float
    transfers: list[TransferSuggestion] = field(default_factory=list)
    suppliers: list[SupplierGroup] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)


def link_supplier_sku(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    supplier_id: UUID,
    sku: str,
    unit_cost: Decimal,
    at: datetime,
) -> SupplierSku:
    """Buy ``sku`` from the supplier at ``unit_cost`` from now on (one supplier per SKU)."""
    with uow_factory() as uow:
        supplier = uow.inbound.supplier(tenant_id, supplier_id)
        if supplier is None:
            raise NotFound("No such supplier")
        if sku not in uow.products.by_skus(tenant_id, [sku]):
            raise InvalidRequest("Unknown SKU", [FieldError("#/sku", f"no product {sku!r}")])
        if unit_cost < 0:
            raise InvalidRequest("Bad unit cost", [FieldError("#/unit_cost", "negative")])
        if (finer := minor_unit_problem(unit_cost, supplier.currency)) is not None:
            raise InvalidRequest("Bad unit cost", [FieldError("#/unit_cost", finer)])
        link = SupplierSku(sku=sku, supplier_id=supplier_id, unit_cost=unit_cost)
        uow.inbound.set_supplier_sku(tenant_id, link, at=at)
        uow.commit()
    return link


@dataclass
class _Network:
    """What the planning reads, in one read-only transaction."""

    forecasts: dict[str, list[DemandForecast]]  # by SKU, one per location
    position: dict[tuple[str, str], int]
    links: dict[str, SupplierSku]
    suppliers: dict[UUID, Supplier]


def _read_network(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, skus: Sequence[str] | None
) -> _Network:
    with uow_factory(readonly=True) as uow:
        visible = uow.locations.visible_to(tenant_id)
        codes = {loc.id: loc.code for loc in visible}
        forecasts: dict[str, list[DemandForecast]] = defaultdict(list)
        for code in sorted(codes.values()):
            for f in uow.demand.forecasts(tenant_id, location=code):
                if skus is None or f.sku in skus:
                    forecasts[f.sku].append(f)
        links = {link.sku: link for link in uow.inbound.supplier_skus(tenant_id)}
        suppliers: dict[UUID, Supplier] = {}
        for supplier_id in {link.supplier_id for link in links.values()}:
            found = uow.inbound.supplier(tenant_id, supplier_id)
            if found is not None:
                suppliers[supplier_id] = found
        position: dict[tuple[str, str], int] = defaultdict(int)
        for level in uow.inventory.levels(tenant_id, list(forecasts), None):
            if level.location_id in codes:
                position[(level.sku, codes[level.location_id])] += level.on_hand - level.reserved
        for key, units in uow.inbound.on_order(tenant_id, list(forecasts)).items():
            position[key] += units
    return _Network(forecasts, position, links, suppliers)


def plan_sku(
    forecasts: Sequence[DemandForecast],
    position: dict[tuple[str, str], int],
    terms: SupplyTerms,
    today: date,
) -> tuple[list[TransferSuggestion], list[ReplenishmentPlan]]:
    """One SKU's transfers between its locations, then its plan at each location with the
    transfers counted in the positions (``suggest_purchases`` per SKU; the replenishment
    replay each simulated day)."""
    by_location = {f.location: f for f in forecasts}
    plans = [
        plan_replenishment(
            forecast=f, position=position[(f.sku, f.location)], terms=terms, today=today
        )
        for f in forecasts
    ]
    transfers = transfers_between(plans)
    if not transfers:
        return [], plans
    moved: dict[str, int] = defaultdict(int)
    for t in transfers:
        moved[t.to_location] += t.quantity
        moved[t.from_location] -= t.quantity
    replanned = []
    for plan in plans:
        if not moved[plan.location]:
            replanned.append(plan)
            continue
        again = plan_replenishment(
            forecast=by_location[plan.location],
            position=plan.position + moved[plan.location],
            terms=terms,
            today=today,
        )
        change = moved[plan.location]
        note = f"after transfers {'in' if change > 0 else 'out'} of {abs(change)}: "
        replanned.append(replace(again, reason=note + again.reason))
    return transfers, replanned


def suggest_purchases(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    today: date,
    review_period_days: int = 7,
    service_level: float = 0.95,
    skus: Sequence[str] | None = None,
    supplier_id: UUID | None = None,
    include_no_order: bool = False,
) -> PurchaseSuggestions:
    """Every SKU forecast at a location (or ``skus``; or those of one supplier), planned
    under its supplier's lead time, MOQ and pack size with stock on order counted: the
    transfers between locations to make first, then what to buy, grouped per supplier."""
    network = _read_network(uow_factory, tenant_id, skus)
    found = PurchaseSuggestions(review_period_days=review_period_days, service_level=service_level)
    groups: dict[UUID, list[PurchaseLine]] = defaultdict(list)
    for sku in sorted(network.forecasts):
        link = network.links.get(sku)
        supplier = None if link is None else network.suppliers.get(link.supplier_id)
        if link is None or supplier is None:
            found.unlinked.append(sku)
            continue
        if supplier_id is not None and supplier.id != supplier_id:
            continue
        terms = SupplyTerms(
            lead_time_days=max(1, supplier.lead_time_days),  # same-day supply: a day
            review_period_days=review_period_days,
            service_level=service_level,
            moq=supplier.moq,
            pack_size=supplier.pack_size,
            supplier=supplier.name,
        )
        transfers, plans = plan_sku(network.forecasts[sku], network.position, terms, today)
        found.transfers.extend(transfers)
        groups[supplier.id].extend(
            PurchaseLine(plan=p, unit_cost=link.unit_cost)
            for p in plans
            if include_no_order or p.quantity > 0
        )
    for key in sorted(groups, key=lambda k: (network.suppliers[k].name, str(k))):
        if groups[key]:
            found.suppliers.append(SupplierGroup(network.suppliers[key], groups[key]))
    return found


def draft_purchase_orders(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    supplier_id: UUID,
    today: date,
    actor: Actor,
    at: datetime,
    review_period_days: int = 7,
    service_level: float = 0.95,
) -> list[PurchaseOrder]:
    """The supplier's suggested purchases now as draft purchase orders, one per location,
    expected a lead time from ``today``; Conflict when there is nothing to buy from it."""
    with uow_factory(readonly=True) as uow:
        supplier = uow.inbound.supplier(tenant_id, supplier_id)
    if supplier is None:
        raise NotFound("No such supplier")
    found = suggest_purchases(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        today=today,
        review_period_days=review_period_days,
        service_level=service_level,
        supplier_id=supplier_id,
    )
    lines = [line for group in found.suppliers for line in group.lines]
    if not lines:
        raise Conflict(f"Nothing to order from {supplier.name} now")
    by_location: dict[str, list[PoLineInput]] = defaultdict(list)
    for line in lines:
        by_location[line.plan.location].append(
            PoLineInput(sku=line.plan.sku, quantity=line.plan.quantity, unit_cost=line.unit_cost)
        )
    return [
        create_purchase_order(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            command=PurchaseOrderCreate(
                supplier_id=supplier_id,
                location=location,
                expected_at=today + timedelta(days=supplier.lead_time_days),
                lines=by_location[location],
            ),
            actor=actor,
            at=at,
        )
        for location in sorted(by_location)
    ]
