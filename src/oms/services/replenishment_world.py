"""The replenishment replay's world and its baseline: generated SKUs at several locations
(``oms.services.demand_world``), each bought from one of three suppliers (lead time, MOQ,
pack size) or all under one lead time; and the static min/max policy replayed over it,
shelf by shelf (``oms.domain.replenishment_replay``), with its safety factor matched to a
stock level. ``oms.services.replenishment_replay`` replays the forecast policy on it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.replenishment import SupplyTerms
from oms.domain.replenishment_replay import (
    ReplayTally,
    Shelf,
    ShelfDay,
    play_day,
    static_min_max,
    static_order,
)
from oms.services.demand_world import START, GeneratedSku, generate

__all__ = [
    "SUPPLIERS",
    "ReplayWorld",
    "ReplenishmentReplaySettings",
    "TraceRow",
    "date_of",
    "match_static_stock",
    "replay_static_policy",
    "replay_world",
    "trace_row",
]

SUPPLIERS = (  # name, lead time, MOQ, pack size
    ("Nearby", 3, 1, 1),
    ("Regional", 7, 12, 6),
    ("Overseas", 21, 40, 10),
)


@dataclass(frozen=True)
class ReplenishmentReplaySettings:
    """What to generate and how to replay it; everything is drawn from ``seed``."""

    skus: int = 20
    locations: int = 3
    history_days: int = 365
    days: int = 365
    seed: int = 7
    service_level: float = 0.95
    review_period_days: int = 7
    lead_time_days: int | None = None
    censor_stockouts: bool = True

    def check(self) -> None:
        """Refuse settings that generate nothing sensible (with pointers)."""
        errors = []
        if not 1 <= self.skus <= 500:
            errors.append(FieldError("#/skus", "must be from 1 to 500"))
        if not 1 <= self.locations <= 8:
            errors.append(FieldError("#/locations", "must be from 1 to 8"))
        if not 63 <= self.history_days <= 1095:
            errors.append(FieldError("#/history_days", "must be from 63 to 1095"))
        if not 1 <= self.days <= 730:
            errors.append(FieldError("#/days", "must be from 1 to 730"))
        if not 0.5 <= self.service_level < 1:
            errors.append(FieldError("#/service_level", "must be at least 0.5 and below 1"))
        if not 0 <= self.review_period_days <= 56:
            errors.append(FieldError("#/review_period_days", "must be from 0 to 56"))
        if self.lead_time_days is not None and not 1 <= self.lead_time_days <= 56:
            errors.append(FieldError("#/lead_time_days", "must be from 1 to 56"))
        if errors:
            raise InvalidRequest("The simulation settings are not valid", errors)


@dataclass(frozen=True)
class ReplayWorld:
    """The generated SKUs, their supply terms and the location codes (index j of a SKU's
    demand is ``locations[j]``)."""

    skus: list[GeneratedSku]
    terms: dict[str, SupplyTerms]
    locations: tuple[str, ...]
    history_days: int
    days: int

    def demand(self, sku: GeneratedSku, j: int, day: int) -> int:
        """Units of ``sku`` wanted at location j on day ``day`` (0: the history's first)."""
        return int(sku.demand[j][day])

    def history_stats(self, sku: GeneratedSku, j: int) -> tuple[float, float]:
        """The history's daily mean and (population) standard deviation at location j."""
        history = sku.demand[j][: self.history_days]
        return float(history.mean()), float(history.std())

    def first_stock(self, sku: GeneratedSku, j: int) -> int:
        """On hand when the replay starts: the history's mean over lead time + review."""
        terms = self.terms[sku.name]
        mean, _ = self.history_stats(sku, j)
        return math.ceil(mean * (terms.lead_time_days + terms.review_period_days))


@dataclass(frozen=True)
class TraceRow:
    """One shelf on one replayed day under one policy (``transferred``: in, or out < 0)."""

    policy: str
    day: date
    sku: str
    location: str
    demand: int
    received: int
    sold: int
    lost: int
    transferred: int
    ordered: int
    on_hand: int
    on_order: int


def replay_world(settings: ReplenishmentReplaySettings) -> ReplayWorld:
    """Generate the world ``settings`` describe (lumpy SKUs left out)."""
    settings.check()
    total = settings.history_days + settings.days
    drawn = generate(settings.skus * 3, settings.seed, days=total, locations=settings.locations)
    skus = [s for s in drawn if s.kind != "lumpy"][: settings.skus]
    rng = random.Random(settings.seed)  # apart from the demand's draws
    terms = {}
    for sku in skus:
        name, lead, moq, pack = rng.choice(SUPPLIERS)
        if settings.lead_time_days is not None:
            name, lead, moq, pack = "any", settings.lead_time_days, 1, 1
        terms[sku.name] = SupplyTerms(
            lead_time_days=lead,
            review_period_days=settings.review_period_days,
            service_level=settings.service_level,
            moq=moq,
            pack_size=pack,
            supplier=name,
        )
    codes = (
        ("WH",)
        if settings.locations == 1
        else tuple(f"WH{j + 1}" for j in range(settings.locations))
    )
    return ReplayWorld(skus, terms, codes, settings.history_days, settings.days)


def date_of(day: int) -> date:
    """The date of the world's day ``day`` (0: the history's first)."""
    return START + timedelta(days=day)


def trace_row(
    policy: str,
    when: date,
    sku: str,
    code: str,
    result: ShelfDay,
    shelf: Shelf,
    *,
    ordered: int,
    transferred: int = 0,
) -> TraceRow:
    """The trace of one shelf-day: what ``result`` says happened, and ``shelf`` after it."""
    return TraceRow(
        policy,
        when,
        sku,
        code,
        result.demand,
        result.received,
        result.sold,
        result.lost,
        transferred,
        ordered,
        shelf.on_hand,
        shelf.on_order,
    )


def replay_static_policy(
    world: ReplayWorld, k: float, trace: list[TraceRow] | None = None
) -> ReplayTally:
    """The static min/max with safety factor ``k`` over the replayed days, shelf by shelf."""
    tally = ReplayTally()
    first = world.history_days
    for sku in world.skus:
        terms = world.terms[sku.name]
        for j, code in enumerate(world.locations):
            mean, sd = world.history_stats(sku, j)
            levels = static_min_max(
                mean=mean,
                sd=sd,
                k=k,
                lead_time_days=terms.lead_time_days,
                review_period_days=terms.review_period_days,
            )
            shelf = Shelf(world.first_stock(sku, j))
            for day in range(first, first + world.days):
                shelf, result = play_day(shelf, day=day, demand=world.demand(sku, j, day))
                tally.add(result)
                units = static_order(position=shelf.position, levels=levels, terms=terms)
                shelf = shelf.ordered(arrives=day + terms.lead_time_days, units=units)
                if trace is not None:
                    trace.append(
                        trace_row(
                            "static", date_of(day), sku.name, code, result, shelf, ordered=units
                        )
                    )
    return tally


def match_static_stock(world: ReplayWorld, stock_units: int, *, rounds: int = 40) -> float:
    """The static policy's k (from -3 to 10) whose stock on hand, summed over shelf-days,
    comes nearest ``stock_units`` (bisection: its stock rises with k)."""
    low, high = -3.0, 10.0
    below = above = None
    for _ in range(rounds):
        mid = (low + high) / 2
        stock = replay_static_policy(world, mid).stock_units
        if stock < stock_units:
            low, below = mid, stock
        else:
            high, above = mid, stock
    if above is None or (below is not None and stock_units - below < above - stock_units):
        return low
    return high
