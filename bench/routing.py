"""Order routing (DOM): the oms router against the priority rule, nearest-first and a MILP.

Run it from the project root::

    .venv/bin/python bench/routing.py [--orders 10000] [--locations 10,50,200] [--seed 7]
        [--milp-orders 2000] [--families easy,hard]

What it builds, from ``--seed`` alone (so every run with the same arguments is the same),
in two families of networks and orders:

* A country: the continental US box, with destinations drawn around 18 population centres
  (85 %) or uniformly (15 %); locations likewise but spread wider. A quarter of the
  locations are distribution centres (handling 1.20-1.80, deep stock), the rest stores
  (handling 2.50-4.00, shallow stock); 4 % are at capacity today.
* 1,000 SKUs with Zipf popularity and log-normal unit weights; popular SKUs are stocked at
  most locations, the long tail at few. Three percent of order lines are bundles drawing
  two component SKUs.
* Three carrier services priced by ``oms.domain.shipping`` rate cards: seven distance-band
  zones, weight breaks from 0.5 to 20 kg, per-kg charges above, fuel surcharges, transit
  days per zone (``acme/ground``, a regional ``swift/ground`` cheaper near and dearer far,
  ``acme/2day`` up to 30 kg). ``ship()`` is ``rate_shop`` with the promised date: the
  cheapest on-time quote, else the fastest one marked late. Its answers are memoised by
  (zone, weight bracket, ship date, promise), on which ``rate_shop`` is constant.
* ``--orders`` orders of 1-4 lines (Zipf SKUs), placed over one week; 75 % standard (5
  business days), 20 % express (2), 5 % overnight (1).

The **easy** family: stock as above, lines mostly of one unit (72 %; 2, 3 or 6 units
otherwise), no weight limit on the ground services. The **hard** family: every location
holds half as many SKUs and a quarter of the depth, lines of 1, 2, 3, 4, 6 or 10 units
(30/25/20/10/10/5 %), 15 % of the SKUs heavy (about 8 kg a unit), and every service takes
at most 31.5 kg (30 kg for ``acme/2day``), as real ones do: multi-unit lines, sparse stock
and weight caps, so that lines must be split and parcels kept under the caps.

Every order is routed against the same network snapshot (stock is not depleted between
orders), so the methods are compared order by order on identical inputs, by:

(a) priority: the rule open-source peers use (``oms.domain.allocation.plan_allocation``):
    the first location in priority order (distribution centres first, then stores) that
    has every line, else each line spills through the locations in that order;
(b) nearest: the same rule with the locations ordered by distance to the destination;
(c) oms: ``oms.domain.routing.route`` (split penalty 1.00, at most 3 locations, late
    penalty 1000 per late package);
(d) MILP: per order, HiGHS (highspy) on the same problem: every load a location can supply
    (units of each line, shared SKUs summed, so lines may split) priced with the same
    ``ship()``; binaries choose at most one load per location and at most 3 in all; units
    may be left unfilled; the objective is lexicographic like the router's (fewest units
    unfilled, then the latest late arrival, then cost). Per (load, days late) only the 3
    cheapest locations are kept, which loses no optimum, and since every cost is a multiple
    of 0.01 a gap below 0.01 proves optimality. It runs on the first ``--milp-orders``
    orders; (c) is compared with it on exactly those orders.

(e) heuristic alone: (c) with its exact search switched off (``exact_line_limit=0``), on
    the MILP's orders: how good the bounded heuristic is where it has to decide alone.

(a) and (b) skip locations at capacity but ignore the limit of 3 locations (as the rule
does), and do not look at weight: a package of theirs that no service takes ships nothing
(its units count as backordered). The table says how often they exceed 3 locations. Costs
are recomputed from each plan's packages with the same ``ship()``: shipping, handling,
split penalty, late penalty; the total is shown with and without the late penalties
(which dominate it: a late package costs 1000). Routing times are per order for the
method's whole decision (for (a) and (b) including pricing the packages; for (d) building
the model and pricing every load), in one process, with the rate memo filled beforehand
and a short warm-up: p50 and p99 of wall-clock time, and p99 of this process's CPU time,
which other load on the machine barely disturbs. Nothing is asserted about the figures.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import heapq
import itertools
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from uuid import UUID

import highspy
import numpy as np

from oms.domain.allocation import Demand, plan_allocation
from oms.domain.geo import GeoPoint, distance_km
from oms.domain.routing import (
    Candidate,
    RoutingLine,
    RoutingPolicy,
    RoutingResult,
    ShipOption,
    Shipper,
    route,
)
from oms.domain.shipping import (
    CarrierService,
    DistanceBand,
    Parcel,
    Quote,
    RateCard,
    WeightBreak,
    ZonePrice,
    ZoneRule,
    add_business_days,
    rate_shop,
    ship_date,
)

POLICY = RoutingPolicy(allow_split=True, max_locations=3, split_penalty=Decimal("1.00"))
BOX = (24.5, 49.0, -124.5, -67.0)  # continental US: lat from, lat to, lon from, lon to
# fmt: off
CENTRES = [  # (lat, lon, weight): metropolitan areas, roughly by population
    (40.71, -74.01, 20.0), (34.05, -118.24, 13.0), (41.88, -87.63, 9.5), (32.78, -96.80, 7.5),
    (29.76, -95.37, 7.0), (38.91, -77.04, 6.3), (39.95, -75.17, 6.2), (25.76, -80.19, 6.1),
    (33.75, -84.39, 6.0), (42.36, -71.06, 4.9), (33.45, -112.07, 4.9), (37.77, -122.42, 4.7),
    (47.61, -122.33, 4.0), (44.98, -93.27, 3.6), (39.74, -104.99, 3.0), (38.63, -90.20, 2.8),
    (39.10, -94.58, 2.2), (40.76, -111.89, 1.3),
]
# fmt: on
N_SKUS = 1000
BANDS_KM = [250, 500, 1000, 1500, 2000, 2800, 6000]
BREAKS_G = [500, 1000, 2000, 5000, 10000, 20000]
BREAK_FACTOR = [1.0, 1.12, 1.35, 1.8, 2.6, 3.9]
MONDAY = datetime(2025, 3, 3, tzinfo=UTC)
CUTOFF = clock(15, 0, tzinfo=UTC)
SERVICE_LEVELS = [(5, 0.75), (2, 0.20), (1, 0.05)]  # business days promised, share
BIG_UNFILLED, BIG_LATE_DAY = 1e6, 1e4  # MILP objective weights: lexicographic like route()
CAP_GRAMS = 31_500  # the hard family's weight limit on the ground services


@dataclass(frozen=True)
class Family:
    """How a family's networks and orders are drawn (see the module's docstring)."""

    name: str
    quantities: tuple[tuple[int, float], ...]  # (units of a line, share)
    heavy_share: float  # of the SKUs, about 8 kg a unit
    holding: float  # times the chance that a location holds a SKU
    depth: float  # times the units it holds
    capped: bool  # the ground services take at most CAP_GRAMS

    def describe(self) -> str:
        lines = ", ".join(f"{units} ({share:.0%})" for units, share in self.quantities)
        return (
            f"{self.name}: units per line {lines}; heavy SKUs {self.heavy_share:.0%}; "
            f"stock held x{self.holding:g}, depth x{self.depth:g}; "
            + (f"every service at most {CAP_GRAMS:,} g" if self.capped else "no ground weight cap")
        )


FAMILIES = {
    "easy": Family("easy", ((1, 0.72), (2, 0.18), (3, 0.07), (6, 0.03)), 0.0, 1.0, 1.0, False),
    "hard": Family(
        "hard",
        ((1, 0.30), (2, 0.25), (3, 0.20), (4, 0.10), (6, 0.10), (10, 0.05)),
        0.15,
        0.5,
        0.25,
        True,
    ),
}


# --- the network ----------------------------------------------------------------------------


def _point(rng: random.Random, spread: float, uniform_share: float) -> GeoPoint:
    lat0, lat1, lon0, lon1 = BOX
    if rng.random() < uniform_share:
        return GeoPoint(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
    lat, lon, _ = rng.choices(CENTRES, weights=[c[2] for c in CENTRES])[0]
    return GeoPoint(
        min(lat1, max(lat0, rng.gauss(lat, 0.8 * spread))),
        min(lon1, max(lon0, rng.gauss(lon, 1.0 * spread))),
    )


def _card(
    zone_base: Callable[[int], float],
    per_kg: Callable[[int], float],
    transit: dict[int, int],
    fuel: str,
    max_grams: int | None = None,
) -> RateCard:
    prices = []
    for zone in range(2, 2 + len(BANDS_KM)):
        breaks = tuple(
            WeightBreak(grams, Decimal(f"{zone_base(zone) * factor:.2f}"))
            for grams, factor in zip(BREAKS_G, BREAK_FACTOR, strict=True)
        )
        over = Decimal(f"{per_kg(zone):.2f}")
        prices.append(ZonePrice(str(zone), breaks, over, transit[zone]))
    bands = tuple(DistanceBand(km, str(z)) for z, km in enumerate(BANDS_KM, start=2))
    card = RateCard(
        "USD",
        ZoneRule(distance_bands=bands),
        tuple(prices),
        fuel_surcharge_pct=Decimal(fuel),
        max_weight_grams=max_grams,
    )
    card.validate()
    return card


def _acme(zone: int) -> float:
    return 5.50 + 0.55 * (zone - 2)


def _swift(zone: int) -> float:  # a regional carrier: cheaper near, dearer far
    return _acme(zone) * (0.85 if zone <= 4 else 1.15)


def _two_day(zone: int) -> float:
    return 2.1 * _acme(zone)


def carrier_services(*, capped: bool = False) -> list[CarrierService]:
    """Three services sharing one zone rule (so a zone is one per origin-destination pair);
    ``capped``: the ground services take at most CAP_GRAMS."""
    ground_days = {2: 1, 3: 2, 4: 3, 5: 3, 6: 4, 7: 5, 8: 5}
    regional_days = {2: 1, 3: 1, 4: 2, 5: 4, 6: 5, 7: 6, 8: 6}
    two_days = {z: 1 if z <= 3 else 2 for z in ground_days}
    cap = CAP_GRAMS if capped else None
    return [
        CarrierService(
            "acme", "ground", "Acme Ground",
            _card(_acme, lambda z: 0.45 + 0.08 * z, ground_days, "8", max_grams=cap),
        ),
        CarrierService(
            "swift", "ground", "Swift Regional",
            _card(_swift, lambda z: 0.40 + 0.12 * z, regional_days, "6", max_grams=cap),
        ),
        CarrierService(
            "acme", "2day", "Acme 2Day",
            _card(_two_day, lambda z: 1.10 + 0.15 * z, two_days, "8", max_grams=30_000),
        ),
    ]  # fmt: skip


@dataclass(frozen=True)
class Order:
    number: int
    destination: GeoPoint
    lines: tuple[RoutingLine, ...]
    ship_on: date
    promise: date


@dataclass
class Network:
    candidates: list[Candidate]
    points: dict[UUID, GeoPoint]
    priority: list[Candidate]  # (a)'s order: distribution centres first, then stores
    orders: list[Order]


def build_network(
    rng: random.Random, n_locations: int, n_orders: int, family: Family = FAMILIES["easy"]
) -> Network:
    popularity = [1 / (rank + 1) ** 1.05 for rank in range(N_SKUS)]
    weights = [int(min(15000, max(50, rng.lognormvariate(math.log(600), 0.9)))) for _ in popularity]
    if family.heavy_share:
        weights = [
            int(min(25000, rng.lognormvariate(math.log(8000), 0.4)))
            if rng.random() < family.heavy_share
            else grams
            for grams in weights
        ]
    candidates: list[Candidate] = []
    points: dict[UUID, GeoPoint] = {}
    dcs: list[Candidate] = []
    stores: list[Candidate] = []
    for n in range(n_locations):
        is_dc = n % 4 == 0
        location_id = UUID(int=n + 1)
        points[location_id] = _point(rng, 1.5, 0.3)
        stock: dict[str, int] = {}
        for s, pop in enumerate(popularity):
            share = family.holding * min(
                0.97, 0.08 + 2.5 * math.sqrt(pop / popularity[0]) * (1.0 if is_dc else 0.45)
            )
            if rng.random() < share:
                mean = family.depth * (30 if is_dc else 4) * (pop / popularity[0]) ** 0.3
                stock[f"S{s:04d}"] = 1 + int(rng.expovariate(1 / max(0.5, mean)))
        handling = rng.uniform(1.2, 1.8) if is_dc else rng.uniform(2.5, 4.0)
        capacity = 0 if rng.random() < 0.04 else 1000
        code = f"{'DC' if is_dc else 'ST'}{n:03d}"
        cand = Candidate(location_id, code, stock, capacity, Decimal(f"{handling:.2f}"))
        candidates.append(cand)
        (dcs if is_dc else stores).append(cand)

    orders = []
    for number in range(n_orders):
        placed = MONDAY + timedelta(days=rng.randrange(5), minutes=rng.randrange(8 * 60, 20 * 60))
        shipping_day = ship_date(placed, CUTOFF)
        days = rng.choices([d for d, _ in SERVICE_LEVELS], [w for _, w in SERVICE_LEVELS])[0]
        n_lines = rng.choices([1, 2, 3, 4], [0.45, 0.28, 0.17, 0.10])[0]
        skus: set[int] = set()
        while len(skus) < n_lines:
            skus.add(rng.choices(range(N_SKUS), popularity)[0])
        lines = []
        for line_no, s in enumerate(sorted(skus), start=1):
            quantity = rng.choices(*zip(*family.quantities, strict=True))[0]
            per_unit, grams = {f"S{s:04d}": 1}, weights[s]
            if rng.random() < 0.03:  # a bundle: this SKU plus a second component
                other = rng.choices(range(N_SKUS), popularity)[0]
                if other != s:
                    per_unit[f"S{other:04d}"] = 1
                    grams += weights[other]
            lines.append(RoutingLine(line_no, quantity, grams, per_unit))
        orders.append(
            Order(
                number,
                _point(rng, 1.0, 0.15),
                tuple(lines),
                shipping_day,
                add_business_days(shipping_day, days),
            )
        )
    return Network(candidates, points, dcs + stores, orders)


class RateTable:
    """``ship()`` for the bench: ``rate_shop`` answers memoised where they are constant."""

    def __init__(self, services: list[CarrierService]) -> None:
        self.services = services
        self.rule = services[0].rate_card.zones
        limits = {b.up_to_grams for s in services for p in s.rate_card.prices for b in p.breaks}
        limits |= {s.rate_card.max_weight_grams or 0 for s in services} - {0}
        self.limits = sorted(limits)
        self.memo: dict[tuple[str, int, date, date], ShipOption | None] = {}

    def bracket(self, grams: int) -> int:
        """Weight bracket of ``grams``: price breaks, then started kilograms above the last."""
        index = bisect.bisect_left(self.limits, grams)
        if index < len(self.limits):
            return index
        return len(self.limits) - 1 + -(-(grams - self.limits[-1]) // 1000)

    def bracket_range(self, bracket: int) -> tuple[int, int]:
        """The grams ``(low, high)`` a bracket covers, both inclusive."""

        def top(b: int) -> int:
            if b < 0:
                return 0
            if b < len(self.limits):
                return self.limits[b]
            return self.limits[-1] + 1000 * (b - len(self.limits) + 1)

        return top(bracket - 1) + 1, top(bracket)

    def prefill(self, orders: Sequence[Order]) -> None:
        """Fill the memo for every zone, weight bracket and (ship date, promise) in ``orders``,
        so that timed routing never waits for a cold ``rate_shop``."""
        origin = GeoPoint(30.0, -98.0)
        heaviest = max(sum(ln.quantity * ln.weight_grams for ln in o.lines) for o in orders)
        caps = [s.rate_card.max_weight_grams for s in self.services]
        if None not in caps:  # nothing heavier ships: the answer is the same None
            heaviest = min(heaviest, max(c for c in caps if c is not None) + 1)
        dates = sorted({(o.ship_on, o.promise) for o in orders})
        low_km = 0.0
        for km in BANDS_KM:
            far = GeoPoint(origin.latitude + (low_km + km) / 2 / 111.195, origin.longitude)
            low_km = km
            zone = self.rule.zone_for(
                origin=origin,
                origin_country="US",
                destination=far,
                destination_country="US",
                destination_region=None,
            )
            assert zone is not None
            for ship_on, promise in dates:
                probe = Order(-1, far, (), ship_on, promise)
                for bracket in range(self.bracket(heaviest) + 1):
                    grams = self.bracket_range(bracket)[1]
                    self.memo[zone, bracket, ship_on, promise] = self._shop(
                        origin, far, grams, probe
                    )

    def shipper(self, order: Order, points: dict[UUID, GeoPoint]) -> Shipper:
        zones: dict[UUID, str | None] = {}
        destination = order.destination

        def ship(location_id: UUID, grams: int) -> ShipOption | None:
            origin = points[location_id]
            if location_id not in zones:
                zones[location_id] = self.rule.zone_for(
                    origin=origin,
                    origin_country="US",
                    destination=destination,
                    destination_country="US",
                    destination_region=None,
                )
            zone = zones[location_id]
            if zone is None:
                return None
            key = (zone, self.bracket(max(1, grams)), order.ship_on, order.promise)
            if key not in self.memo:
                self.memo[key] = self._shop(origin, destination, max(1, grams), order)
            return self.memo[key]

        return ship

    def _shop(self, origin: GeoPoint, to: GeoPoint, grams: int, order: Order) -> ShipOption | None:
        """The cheapest on-time quote, else the fastest one marked late, else None."""

        def shop(deliver_by: date | None) -> list[Quote]:
            return rate_shop(
                self.services, parcel=Parcel(grams), origin=origin, origin_country="US",
                destination=to, destination_country="US", destination_region=None,
                ship_on=order.ship_on, deliver_by=deliver_by,
            )  # fmt: skip

        quotes = shop(order.promise)
        if quotes:
            q = quotes[0]
            return ShipOption(q.carrier, q.service, q.price, q.deliver_by, late=False)
        quotes = shop(None)
        if not quotes:
            return None
        q = min(quotes, key=lambda q: (q.deliver_by, q.price, q.carrier, q.service))
        return ShipOption(q.carrier, q.service, q.price, q.deliver_by, late=True)


# --- the four methods ----------------------------------------------------------------------

Shares = dict[UUID, list[tuple[int, int]]]  # location -> (line_no, units)


@dataclass
class Outcome:
    """One order's plan under one method, priced with the same ship()."""

    shipping: Decimal = Decimal(0)
    handling: Decimal = Decimal(0)
    split: Decimal = Decimal(0)
    late: Decimal = Decimal(0)
    packages: int = 0
    late_packages: int = 0
    latest_late: int = 0  # ordinal of the latest late arrival, 0 when all on time
    unfilled: int = 0
    split_lines: int = 0  # lines shipped from two or more locations
    method: str = ""  # (c) only: exact or heuristic
    seconds: float = 0.0  # wall clock
    cpu: float = 0.0  # CPU time of this process

    @property
    def total(self) -> Decimal:
        return self.shipping + self.handling + self.split + self.late

    @property
    def on_time_cost(self) -> Decimal:
        """The total without late penalties."""
        return self.shipping + self.handling + self.split


def price(order: Order, shares: Shares, by_id: dict[UUID, Candidate], ship: Shipper) -> Outcome:
    grams_of = {ln.line_no: ln.weight_grams for ln in order.lines}
    out = Outcome()
    shipped: list[list[tuple[int, int]]] = []
    for location_id, pieces in shares.items():
        option = ship(location_id, sum(units * grams_of[no] for no, units in pieces))
        if option is None:  # too heavy for every service: it ships nothing
            continue
        out.shipping += option.price
        out.handling += by_id[location_id].handling_cost
        if option.late:
            out.late_packages += 1
            out.late += POLICY.late_penalty
            out.latest_late = max(out.latest_late, option.deliver_by.toordinal())
        shipped.append(pieces)
    out.packages = len(shipped)
    out.split = POLICY.split_penalty * max(0, len(shipped) - 1)
    out.split_lines = _split_lines(shipped)
    out.unfilled = sum(ln.quantity for ln in order.lines) - sum(
        units for pieces in shipped for _, units in pieces
    )
    return out


def _split_lines(shares: Iterable[Sequence[tuple[int, int]]]) -> int:
    sources: dict[int, int] = {}
    for pieces in shares:
        for line_no, _ in pieces:
            sources[line_no] = sources.get(line_no, 0) + 1
    return sum(count > 1 for count in sources.values())


def spill(
    order: Order, ranked: Sequence[Candidate], by_id: dict[UUID, Candidate], ship: Shipper
) -> Outcome:
    """(a)/(b): the foundation's rule over ``ranked`` (locations at capacity left out)."""
    skus = {sku for ln in order.lines for sku in ln.per_unit}
    stock: dict[tuple[str, UUID], int] = {}
    for cand in ranked:
        for sku in skus:
            units = cand.available.get(sku, 0)
            if units > 0:
                stock[sku, cand.location_id] = units
    plan = plan_allocation(
        [Demand(ln.line_no, ln.quantity, ln.per_unit) for ln in order.lines],
        stock,
        [c.location_id for c in ranked],
    )
    shares: Shares = {}
    for pick in plan.picks:
        shares.setdefault(pick.location_id, []).append((pick.line_no, pick.units))
    return price(order, shares, by_id, ship)


def oms(result: RoutingResult) -> Outcome:
    cost = result.cost
    late = [p for p in result.packages if p.option.late]
    return Outcome(
        cost.shipping,
        cost.handling,
        cost.split_penalty,
        cost.late_penalty,
        len(result.packages),
        len(late),
        max((p.option.deliver_by.toordinal() for p in late), default=0),
        sum(result.unfilled.values()),
        _split_lines(p.lines for p in result.packages),
        result.method,
    )


def _quiet_highs() -> highspy.Highs:
    """A HiGHS instance; the banner it prints on first construction goes to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class Milp:
    """(d): per order, every feasible load per location priced, then one exact MILP.

    A load is a vector of units per line that the location holds (shared SKUs summed); its
    cost is handling + split penalty + ``ship()`` of its weight (+ the late penalty). Every
    plan is one load per used location, so choosing binaries x (at most one per location,
    at most ``max_locations`` in all) with units per line covered or left unfilled is exact.
    Only the ``max_locations`` cheapest locations per (load, days late) are kept, which
    loses no optimum. Objective: 1e6 per unfilled unit + 1e4 per day of the latest late
    arrival + cost; every cost is a multiple of 0.01, so a gap below 0.01 proves optimality.
    """

    def __init__(self) -> None:
        self.highs = _quiet_highs()
        for name, value in [
            ("output_flag", False),
            ("mip_rel_gap", 0.0),
            ("mip_abs_gap", 0.009),  # every cost is a multiple of 0.01: still exact
            ("threads", 1),
            ("time_limit", 60.0),
        ]:
            self.highs.setOptionValue(name, value)
        self.not_optimal = 0
        self.columns = 0

    def solve(self, order: Order, candidates: Sequence[Candidate], ship: Shipper) -> Shares:
        lines = order.lines
        n = len(lines)
        skus = sorted({sku for ln in lines for sku in ln.per_unit})
        # Per (load, late days), only the max_locations cheapest locations can matter: a plan
        # using another one can swap to one of them that its other packages leave free.
        offers: dict[tuple[tuple[int, ...], int], list[tuple[float, int, UUID]]] = {}
        for cand in candidates:
            if cand.capacity_left <= 0:
                continue
            held = {sku: cand.available.get(sku, 0) for sku in skus}
            caps = [
                min([ln.quantity] + [held[s] // per for s, per in ln.per_unit.items()])
                for ln in lines
            ]
            if not any(caps):
                continue
            fixed = float(cand.handling_cost + POLICY.split_penalty)
            for load in itertools.product(*(range(cap + 1) for cap in caps)):
                if not any(load) or not _fits(lines, load, held):
                    continue
                grams = sum(u * ln.weight_grams for u, ln in zip(load, lines, strict=True))
                option = ship(cand.location_id, grams)
                if option is None:
                    continue
                late = (option.deliver_by - order.promise).days if option.late else 0
                pay = fixed + float(option.price) + (float(POLICY.late_penalty) if late else 0)
                offers.setdefault((load, late), []).append(
                    (pay, cand.location_id.int, cand.location_id)
                )
        # Columns: x per kept load, then u per line (unfilled units), then T (latest late days).
        cost: list[float] = []
        entries: list[list[tuple[int, float]]] = []
        loads: list[tuple[UUID, tuple[int, ...]]] = []
        k_row, next_row = n, n + 1
        rows_of: dict[UUID, int] = {}
        for (load, late), found in offers.items():
            for pay, _, location_id in heapq.nsmallest(POLICY.max_locations, found):
                if location_id not in rows_of:
                    rows_of[location_id] = next_row
                    next_row += 2
                here_row = rows_of[location_id]
                column = [(i, float(u)) for i, u in enumerate(load) if u]
                column += [(k_row, 1.0), (here_row, 1.0)]
                if late:
                    column.append((here_row + 1, float(late)))
                cost.append(pay)
                entries.append(column)
                loads.append((location_id, load))
        x_count = len(cost)
        for i in range(n):
            cost.append(BIG_UNFILLED)
            entries.append([(i, 1.0)])
        cost.append(BIG_LATE_DAY)  # T >= late days of the chosen load, per location row
        entries.append([(n + 2 + 2 * j, -1.0) for j in range((next_row - n - 1) // 2)])
        inf = highspy.kHighsInf
        row_lower = [float(ln.quantity) for ln in lines] + [0.0] + [-inf] * (next_row - n - 1)
        row_upper = [float(ln.quantity) for ln in lines] + [float(POLICY.max_locations)]
        row_upper += [1.0, 0.0] * ((next_row - n - 1) // 2)
        upper = [1.0] * x_count + [float(ln.quantity) for ln in lines] + [inf]
        values = self._run(cost, upper, x_count, entries, row_lower, row_upper)
        self.columns += x_count
        shares: Shares = {}
        for j, (location_id, load) in enumerate(loads):
            if values[j] > 0.5:
                pieces = [(ln.line_no, u) for ln, u in zip(lines, load, strict=True) if u]
                shares.setdefault(location_id, []).extend(pieces)
        return shares

    def _run(
        self,
        cost: list[float],
        upper: list[float],
        binaries: int,
        entries: list[list[tuple[int, float]]],
        row_lower: list[float],
        row_upper: list[float],
    ) -> list[float]:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cost), len(row_lower)
        lp.col_cost_ = np.array(cost)
        lp.col_lower_, lp.col_upper_ = np.zeros(len(cost)), np.array(upper)
        lp.row_lower_, lp.row_upper_ = np.array(row_lower), np.array(row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.cumsum([0] + [len(c) for c in entries]).astype(np.int32)
        lp.a_matrix_.index_ = np.array([r for c in entries for r, _ in c], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for c in entries for _, v in c], dtype=float)
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger] * binaries + [kinds.kContinuous] * (len(cost) - binaries)
        self.highs.clearModel()
        self.highs.passModel(lp)
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.not_optimal += 1
        return list(self.highs.getSolution().col_value)


def _fits(lines: Sequence[RoutingLine], load: tuple[int, ...], held: dict[str, int]) -> bool:
    drawn: dict[str, int] = {}
    for units, ln in zip(load, lines, strict=True):
        for sku, per in ln.per_unit.items():
            drawn[sku] = drawn.get(sku, 0) + per * units
    return all(units <= held[sku] for sku, units in drawn.items())


# --- running and reporting -----------------------------------------------------------------


def _percentile(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


COLUMNS = [
    ("method", 22),
    ("orders", 7),
    ("shipping", 12),
    ("handling", 11),
    ("split pen.", 10),
    ("late pkgs", 9),
    ("late pen.", 12),
    ("total", 14),
    ("vs (c)", 8),
    ("excl. late", 12),
    ("vs (c)", 8),
    ("pkgs/order", 10),
    ("split %", 7),
    (">3 locs", 7),
    ("backorder", 9),
    ("p50 ms", 7),
    ("p99 ms", 7),
    ("p99 cpu", 7),
]


def _versus(mine: Decimal, base: Decimal) -> str:
    return f"{(mine - base) / base * 100:+.2f}%" if base else ""


def _row(name: str, outs: list[Outcome], reference: list[Outcome] | None) -> str:
    total = sum((o.total for o in outs), Decimal(0))
    on_time = sum((o.on_time_cost for o in outs), Decimal(0))
    versus = versus_on_time = ""
    if reference is not None:
        versus = _versus(total, sum((o.total for o in reference), Decimal(0)))
        versus_on_time = _versus(on_time, sum((o.on_time_cost for o in reference), Decimal(0)))
    cells = [
        name,
        f"{len(outs):,}",
        _money(sum((o.shipping for o in outs), Decimal(0))),
        _money(sum((o.handling for o in outs), Decimal(0))),
        _money(sum((o.split for o in outs), Decimal(0))),
        f"{sum(o.late_packages for o in outs):,}",
        _money(sum((o.late for o in outs), Decimal(0))),
        _money(total),
        versus,
        _money(on_time),
        versus_on_time,
        f"{sum(o.packages for o in outs) / len(outs):.3f}",
        f"{sum(o.packages > 1 for o in outs) / len(outs) * 100:.1f}",
        f"{sum(o.packages > POLICY.max_locations for o in outs):,}",
        f"{sum(o.unfilled for o in outs):,}",
        f"{_percentile([o.seconds for o in outs], 0.50):.3f}",
        f"{_percentile([o.seconds for o in outs], 0.99):.3f}",
        f"{_percentile([o.cpu for o in outs], 0.99):.3f}",
    ]
    return "  ".join(
        c.rjust(w) if i else c.ljust(w)
        for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def _key(o: Outcome) -> tuple[int, int, Decimal]:
    return (o.unfilled, o.latest_late, o.total)


def _compare(
    oms: list[Outcome], optimum: list[Outcome], not_optimal: int, name: str = "(c)"
) -> str:
    pairs = list(zip(oms, optimum, strict=True))
    worse = [(c, d) for c, d in pairs if _key(c) > _key(d)]
    excess = sum((c.total for c in oms), Decimal(0)) - sum((d.total for d in optimum), Decimal(0))
    share = excess / (sum((d.total for d in optimum), Decimal(0)) or 1) * 100
    largest = max((c.total - d.total for c, d in worse), default=Decimal(0))
    by_split = sum(d.split_lines > c.split_lines for c, d in worse)
    heuristic = sum(c.method == "heuristic" for c, _ in worse)
    return (
        f"{name} against (d), same {len(pairs):,} orders: {name} costs {_money(excess)} more "
        f"({share:.3f}%); {name} worse on {len(worse)} orders "
        f"({sum(c.unfilled > d.unfilled for c, d in worse)} by backorders, "
        f"{sum(c.unfilled == d.unfilled and c.latest_late > d.latest_late for c, d in worse)} "
        f"by a later arrival, largest cost gap {_money(largest)}; on {by_split} of them (d) "
        f"splits a line that {name} keeps whole, {heuristic} were routed by the heuristic); "
        f"(d) worse than {name} on {sum(_key(c) < _key(d) for c, d in pairs)} orders; "
        f"MILP not proven optimal on {not_optimal}"
    )


def run_network(n_locations: int, args: argparse.Namespace, family: Family) -> None:
    started = time.perf_counter()
    services = carrier_services(capped=family.capped)
    # The easy family's seeds are the ones it always had, so its figures stay comparable.
    seed = f"{args.seed}/{n_locations}" + ("" if family.name == "easy" else f"/{family.name}")
    net = build_network(random.Random(seed), n_locations, args.orders, family)
    gc.collect()
    gc.freeze()  # the network lives for the whole run: keep it out of collections
    rates = RateTable(services)
    by_id = {c.location_id: c for c in net.candidates}
    priority = [c for c in net.priority if c.capacity_left > 0]
    usable = [c for c in net.candidates if c.capacity_left > 0]
    full = sum(c.capacity_left <= 0 for c in net.candidates)

    def nearest(order: Order, ship: Shipper) -> Outcome:
        here = order.destination
        ranked = sorted(usable, key=lambda c: distance_km(net.points[c.location_id], here))
        return spill(order, ranked, by_id, ship)

    methods: dict[str, Callable[[Order, Shipper], Outcome]] = {
        "(a) priority": lambda order, ship: spill(order, priority, by_id, ship),
        "(b) nearest": nearest,
    }
    results: dict[str, list[Outcome]] = {name: [] for name in [*methods, "(c) oms"]}
    how: dict[str, int] = {}
    rates.prefill(net.orders)
    for order in net.orders[: min(200, len(net.orders))]:  # warm-up
        for method in methods.values():
            method(order, rates.shipper(order, net.points))
        route(order.lines, net.candidates, ship=rates.shipper(order, net.points), policy=POLICY)
    for order in net.orders:
        for name, method in methods.items():
            ship = rates.shipper(order, net.points)
            t0, c0 = time.perf_counter(), time.process_time()
            outcome = method(order, ship)
            outcome.seconds, outcome.cpu = time.perf_counter() - t0, time.process_time() - c0
            results[name].append(outcome)
        ship = rates.shipper(order, net.points)
        t0, c0 = time.perf_counter(), time.process_time()
        result = route(order.lines, net.candidates, ship=ship, policy=POLICY)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        outcome = oms(result)
        outcome.seconds, outcome.cpu = elapsed, cpu
        results["(c) oms"].append(outcome)
        how[result.method] = how.get(result.method, 0) + 1

    milp = Milp()
    subset = net.orders[: args.milp_orders]
    optimum: list[Outcome] = []
    for order in subset:
        ship = rates.shipper(order, net.points)
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = price(order, milp.solve(order, net.candidates, ship), by_id, ship)
        outcome.seconds, outcome.cpu = time.perf_counter() - t0, time.process_time() - c0
        optimum.append(outcome)
    heuristic: list[Outcome] = []  # (c) with its exact search switched off
    for order in subset:
        ship = rates.shipper(order, net.points)
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = oms(
            route(order.lines, net.candidates, ship=ship, policy=POLICY, exact_line_limit=0)
        )
        outcome.seconds, outcome.cpu = time.perf_counter() - t0, time.process_time() - c0
        heuristic.append(outcome)
    gc.unfreeze()

    oms_all, oms_subset = results["(c) oms"], results["(c) oms"][: len(subset)]
    units = sum(ln.quantity for order in net.orders for ln in order.lines)
    print(
        f"\n== {family.name}: {n_locations} locations ({full} at capacity today), "
        f"{len(net.orders):,} orders ({units / len(net.orders):.2f} units an order); "
        f"MILP on the first {len(subset):,} =="
    )
    print("  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(COLUMNS)))
    print(_row("(a) priority", results["(a) priority"], oms_all))
    print(_row("(b) nearest", results["(b) nearest"], oms_all))
    print(_row("(c) oms", oms_all, None))
    if subset:
        print(_row("(c) oms, MILP subset", oms_subset, None))
        print(_row("(d) MILP, same subset", optimum, oms_subset))
        print(_row("(e) heuristic alone", heuristic, oms_subset))
        print(_compare(oms_subset, optimum, milp.not_optimal))
        print(_compare(heuristic, optimum, milp.not_optimal, name="(e)"))
    print(
        "(c) method: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(how.items()))
        + f"; rate memo {len(rates.memo):,} entries; {time.perf_counter() - started:.0f} s"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--locations", default="10,50,200", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--milp-orders", type=int, default=2_000)
    parser.add_argument("--families", default="easy,hard", help="comma-separated: easy, hard")
    args = parser.parse_args(argv)
    families = [name.strip() for name in args.families.split(",")]
    unknown = [name for name in families if name not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)}: choose from {', '.join(FAMILIES)}")
    services = carrier_services()
    print(
        f"Routing benchmark (bench/routing.py), seed {args.seed}, Python "
        f"{sys.version.split()[0]}, HiGHS {highspy.HIGHS_VERSION_MAJOR}."
        f"{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    print(
        "rates: oms.domain.shipping rate cards through rate_shop(): "
        + ", ".join(f"{s.carrier}/{s.code}" for s in services)
        + f"; zones by distance up to {BANDS_KM} km; breaks {BREAKS_G} g, per kg above"
    )
    print(
        f"policy: split penalty {POLICY.split_penalty}, at most {POLICY.max_locations} "
        f"locations, late penalty {POLICY.late_penalty} per late package"
    )
    print(
        "(d) MILP: per order, every load (units per line) each location can supply, shared "
        "SKUs summed, priced with the same ship(); binaries pick at most one load per location "
        "and at most 3 in all, lines may split, units left unfilled are allowed; objective "
        "lexicographic like route(): unfilled units, then latest late arrival, then cost"
    )
    print(
        "total = shipping + handling + split penalty + late penalty, 'excl. late' without the "
        "late penalty; 'vs (c)' on the same orders; backorder = units unfilled (for (a) and "
        "(b) also the units of a package no service takes); times per order in ms (wall "
        "clock; 'p99 cpu' = process CPU time)"
    )
    for name in families:
        print(f"\nfamily {FAMILIES[name].describe()}")
        for size in (int(s) for s in args.locations.split(",")):
            run_network(size, args, FAMILIES[name])


if __name__ == "__main__":
    main()
