"""``oms simulate replenishment`` (and ``bench/decisions.py``'s replay): a generated
history (``oms.services.demand_world``) replayed day by day through the real forecasting
and replenishment use cases on the replay's own clock, against a static min/max at equal
average stock.

The world: ``skus`` SKUs (smooth, seasonal, promo, intermittent; lumpy ones left out) at
``locations`` locations, ``history_days`` of demand imported as history, then ``days``
replayed. Each SKU is bought from one of three suppliers (lead time, MOQ, pack size), or
all under one ``lead_time_days`` when it is given. Unmet demand is lost.

Each replayed day (``oms.domain.replenishment_replay.play_day`` per shelf): what was
ordered arrives, demand sells what is on hand. The forecast policy then goes through the
product's path: the day's sales reach the demand history through ``refresh_order_demand``
(a shelf that ends the day empty is a stock-out sample, so that day is censored, as the
worker's samples make it), forecasts are remade every 28 days by ``run_forecasts``, and
each SKU is planned by ``oms.services.replenishment.plan_sku`` (transfers between its
locations first, made at once; then reorder point, order-up-to level, safety stock from
the forecast error, MOQ and packs) from the position on hand + on order. The static
policy (``static_min_max``) has levels from the history's mean and spread, fixed; its
safety factor k is bisected until its average stock equals the forecast policy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from oms.domain.demand import DemandDay
from oms.domain.forecasting import DemandForecast
from oms.domain.ids import new_id
from oms.domain.replenishment import SupplyTerms
from oms.domain.replenishment_replay import ReplayTally, Shelf, fewer_stockout_days, play_day
from oms.services.demand import IMPORT, refresh_order_demand
from oms.services.forecasting import ForecastEngine, run_forecasts
from oms.services.ports import UnitOfWorkFactory
from oms.services.replenishment import plan_sku
from oms.services.replenishment_world import (
    ReplayWorld,
    ReplenishmentReplaySettings,
    TraceRow,
    date_of,
    match_static_stock,
    replay_static_policy,
    replay_world,
    trace_row,
)

__all__ = [
    "REFRESH_DAYS",
    "ReplenishmentReplay",
    "SalesFeed",
    "replay_forecast_policy",
    "replay_replenishment",
]

REFRESH_DAYS = 28
"""Days between forecast runs in the replay (the product runs them nightly; the forecasts
of a mature history change little from one night to the next)."""


class SalesFeed(Protocol):
    """Where a replayed day's sales and stock-out samples go: in the live system the orders
    and the worker's stock samples play this part, and ``refresh_order_demand`` reads them."""

    def record_day(
        self,
        tenant_id: UUID,
        *,
        sales: Sequence[DemandDay],
        out_of_stock: Sequence[tuple[str, str, date]],
    ) -> None:
        """Make ``sales`` the orders' demand of their day and add the stock-out samples."""
        ...


@dataclass
class ReplenishmentReplay:
    """Both policies' totals, the static policy's k, and the transfers the forecast policy
    made (units); ``trace`` when asked for."""

    settings: ReplenishmentReplaySettings
    shelves: int
    forecast: ReplayTally
    static: ReplayTally
    static_k: float
    transferred: int = 0
    trace: list[TraceRow] = field(default_factory=list)

    def average_stock(self, tally: ReplayTally) -> float:
        """Units on hand over all shelves, averaged over the replayed days."""
        return tally.stock_units / self.settings.days

    @property
    def fewer_stockout_days(self) -> float:
        """The share of the static policy's stock-out days the forecast policy avoids."""
        return fewer_stockout_days(baseline=self.static, policy=self.forecast)


def _import_history(uow_factory: UnitOfWorkFactory, tenant_id: UUID, world: ReplayWorld) -> None:
    with uow_factory() as uow:
        for sku in world.skus:
            history = [
                DemandDay(
                    date_of(i),
                    sku.name,
                    code,
                    world.demand(sku, j, i),
                    promo=bool(sku.promo[i]),
                )
                for j, code in enumerate(world.locations)
                for i in range(world.history_days)
            ]
            uow.demand.put_days(tenant_id, history, source=IMPORT)
        uow.commit()


def _latest_forecasts(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, world: ReplayWorld
) -> dict[str, list[DemandForecast]]:
    found: dict[str, list[DemandForecast]] = {}
    with uow_factory(readonly=True) as uow:
        for code in world.locations:
            for f in uow.demand.forecasts(tenant_id, location=code):
                found.setdefault(f.sku, []).append(f)
    return found


def replay_forecast_policy(
    *,
    uow_factory: UnitOfWorkFactory,
    feed: SalesFeed,
    engine: ForecastEngine,
    world: ReplayWorld,
    censor_stockouts: bool = True,
    trace: list[TraceRow] | None = None,
) -> tuple[ReplayTally, int]:
    """The forecast policy through the real use cases (see the module), for a new tenant;
    its totals and the units it transferred between locations."""
    tenant_id = new_id()
    _import_history(uow_factory, tenant_id, world)
    shelves = {
        (sku.name, code): Shelf(world.first_stock(sku, j))
        for sku in world.skus
        for j, code in enumerate(world.locations)
    }
    tally, transferred = ReplayTally(), 0
    forecasts: dict[str, list[DemandForecast]] = {}
    first = world.history_days
    for day in range(first, first + world.days):
        today = date_of(day)
        now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        if (day - first) % REFRESH_DAYS == 0:
            run_forecasts(uow_factory=uow_factory, engine=engine, tenant_id=tenant_id, now=now)
            forecasts = _latest_forecasts(uow_factory, tenant_id, world)
        sales, out = [], []
        for sku in world.skus:
            results = {}
            for j, code in enumerate(world.locations):
                shelf, result = play_day(
                    shelves[sku.name, code], day=day, demand=world.demand(sku, j, day)
                )
                shelves[sku.name, code] = shelf
                results[code] = result
                tally.add(result)
                sales.append(
                    DemandDay(today, sku.name, code, result.sold, promo=bool(sku.promo[day]))
                )
                if censor_stockouts and shelf.on_hand <= 0:
                    out.append((sku.name, code, today))
            moved, ordered = _decide(
                shelves,
                sku.name,
                world.terms[sku.name],
                forecasts.get(sku.name, []),
                day=day,
                today=today,
            )
            transferred += sum(units for units in moved.values() if units > 0)
            if trace is not None:
                for code, result in results.items():
                    trace.append(
                        trace_row(
                            "forecast",
                            today,
                            sku.name,
                            code,
                            result,
                            shelves[sku.name, code],
                            ordered=ordered.get(code, 0),
                            transferred=moved.get(code, 0),
                        )
                    )
        feed.record_day(tenant_id, sales=sales, out_of_stock=out)
        refresh_order_demand(uow_factory=uow_factory, tenant_id=tenant_id, now=now, days=1)
    return tally, transferred


def _decide(
    shelves: dict[tuple[str, str], Shelf],
    sku: str,
    terms: SupplyTerms,
    forecasts: list[DemandForecast],
    *,
    day: int,
    today: date,
) -> tuple[dict[str, int], dict[str, int]]:
    """Plan one SKU for tomorrow and act on it: transfers at once (no more than the donor
    holds), then the orders, arriving a lead time later. Answers the units moved (in > 0,
    out < 0) and ordered, per location."""
    position = {key: shelf.position for key, shelf in shelves.items() if key[0] == sku}
    transfers, plans = plan_sku(forecasts, position, terms, today + timedelta(days=1))
    moved: dict[str, int] = {}
    for t in transfers:
        donor, receiver = shelves[sku, t.from_location], shelves[sku, t.to_location]
        units = min(t.quantity, donor.on_hand)
        shelves[sku, t.from_location] = Shelf(donor.on_hand - units, donor.arriving)
        shelves[sku, t.to_location] = Shelf(receiver.on_hand + units, receiver.arriving)
        moved[t.from_location] = moved.get(t.from_location, 0) - units
        moved[t.to_location] = moved.get(t.to_location, 0) + units
    ordered: dict[str, int] = {}
    for plan in plans:
        key = (sku, plan.location)
        shelves[key] = shelves[key].ordered(arrives=day + terms.lead_time_days, units=plan.quantity)
        ordered[plan.location] = plan.quantity
    return moved, ordered


def replay_replenishment(
    *,
    uow_factory: UnitOfWorkFactory,
    feed: SalesFeed,
    engine: ForecastEngine,
    settings: ReplenishmentReplaySettings,
    trace: bool = False,
) -> ReplenishmentReplay:
    """Generate the world, replay the forecast policy, match the static policy's average
    stock to it and replay that; both policies' figures (and the day-by-day trace)."""
    world = replay_world(settings)
    rows: list[TraceRow] | None = [] if trace else None
    forecast, transferred = replay_forecast_policy(
        uow_factory=uow_factory,
        feed=feed,
        engine=engine,
        world=world,
        censor_stockouts=settings.censor_stockouts,
        trace=rows,
    )
    k = match_static_stock(world, forecast.stock_units)
    static = replay_static_policy(world, k, rows)
    if rows is not None:
        rows.sort(key=lambda r: (r.policy, r.day, r.sku, r.location))
    return ReplenishmentReplay(
        settings=settings,
        shelves=len(world.skus) * len(world.locations),
        forecast=forecast,
        static=static,
        static_k=k,
        transferred=transferred,
        trace=rows or [],
    )
