"""Exact routing over units: every way to divide an order's units into packages.

Internal to ``oms.domain.routing``. A plan gives each location it uses one load (units per
line); the plans of one **shape** (a multiset of at most ``K`` non-empty loads whose units
sum to at most the order's) differ only in which location ships which load, and
``assign`` picks the best distinct locations for a shape exactly. So enumerating every
shape is exact over units, backorders included (a shape may leave units unshipped).

``unit_plans`` searches them by branch and bound, within a budget of shapes met (the
router's limit for the exact method: an order with at most that many shapes always
finishes, a larger one finishes when the bounds cut enough of it):

1. The whole-line plans (``exact_plans``) come first: they are cheap and usually win.
2. Shapes are built one load at a time, loads in a fixed order (most units first, so each
   shape is met once), and a branch is cut as soon as its lower bound cannot beat the best
   plan so far: the units it can still place (no more per load than the last one; no more
   of a line than its ``K`` best holders have), the latest arrival and the cost of its
   loads, and of the packages it must still add to place enough units (the heaviest of m
   packages carries at least 1/m of what they must carry). A load's bounds are tightened
   only while the branch survives: first what its holders would charge for the order's
   lightest parcel, then its own weight priced at the holders that could still be
   cheaper.
3. A shape none of whose locations can take one of its loads (stock, weight cap), or whose
   loads cannot get distinct locations, is cut with everything built on it.

The bound needs the ``Shipper`` to be monotone in weight, as rate cards are (prices rise
with weight; a heavier parcel has no more services to choose from): from one location a
heavier parcel never arrives sooner, never costs less while on time, and cannot be shipped
where a lighter one cannot.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, insort
from collections.abc import Sequence
from functools import lru_cache

from oms.domain.routing_lines import exact_plans
from oms.domain.routing_search import (
    Load,
    Plan,
    Problem,
    assign,
    offer_with_spares,
    unique_sorted,
)

__all__ = ["loads_of", "placeable", "unit_plans"]

_NEVER = 1 << 62
# Plans kept per search besides the best: alternatives for the explanation.
_KEPT = 5
# How many times a load's bounds can be tightened (_Search.tighten).
_STAGES = 2
# Per order quantities, how many entries of the lists of loads that fit in what is left are
# kept for the next order (memory stays bounded whatever the orders).
_FITS_KEPT = 50_000


class _Layout:
    """Every non-empty load of an order's quantities, most units first (then descending), and
    which of them fit in what is left; shared by the orders of those quantities."""

    def __init__(self, quantities: tuple[int, ...]) -> None:
        loads = [v for v in itertools.product(*(range(q + 1) for q in quantities)) if any(v)]
        loads.sort(key=lambda v: (sum(v), v), reverse=True)
        self.loads = loads
        self.index = {v: j for j, v in enumerate(loads)}
        self.sizes = [sum(v) for v in loads]
        self._fits: dict[Load, list[int]] = {}
        self._kept = 0

    def fits(self, rem: Load) -> list[int]:
        """The loads no bigger than ``rem`` in any line, in order."""
        found = self._fits.get(rem)
        if found is None:
            index = self.index
            found = sorted(
                index[v] for v in itertools.product(*(range(r + 1) for r in rem)) if any(v)
            )
            if self._kept + len(found) <= _FITS_KEPT:
                self._fits[rem] = found
                self._kept += len(found)
        return found


@lru_cache(maxsize=128)
def _layout(quantities: tuple[int, ...]) -> _Layout:
    return _Layout(quantities)


class _Bounds:
    """Lower bounds on packages: per location from the order's lightest parcel, and from
    anywhere for heavier parcels (see the module)."""

    def __init__(self, p: Problem) -> None:
        lightest = min(p.wt)
        self.cands = len(p.cands)
        self.late = [_NEVER] * self.cands
        self.cost = [_NEVER] * self.cands
        self.shippable = 0
        for c in range(len(p.cands)):
            priced = p.package(c, lightest)
            if priced is None:
                continue  # heavier parcels cannot ship from here either
            self.shippable |= 1 << c
            self.late[c] = priced[0]
            # Late, a heavier parcel may go by a slower, cheaper service: only the fixed
            # cost and the late penalty are sure.
            self.cost[c] = min(priced[1], p.fixed[c] + p.late)
        self.by_cost = sorted(range(len(p.cands)), key=self.cost.__getitem__)
        self.by_late = sorted(range(len(p.cands)), key=self.late.__getitem__)
        # The cheapest m distinct packages: a shape of m loads costs at least this.
        self.cheapest = list(
            itertools.accumulate(
                (self.cost[c] for c in self.by_cost if self.shippable >> c & 1), initial=0
            )
        )
        self.soonest = min(self.late[c] for c in self.by_late) if self.cands else _NEVER
        self.p = p
        # Heavier parcels from anywhere: at weights base, 2 base, 4 base, ... when needed.
        self.base = min((w for w in p.wt if w > 0), default=0)
        self.ladder: dict[int, tuple[int, int]] = {}
        self._rest: dict[tuple[int, int], tuple[int, int]] = {}

    def of(self, holders: int) -> tuple[int, int] | None:
        """(earliest arrival, least cost) any of ``holders`` could manage; None: none ships."""
        holders &= self.shippable
        if not holders:
            return None
        late = next(self.late[c] for c in self.by_late if holders >> c & 1)
        cost = next(self.cost[c] for c in self.by_cost if holders >> c & 1)
        return late, cost

    def least(self, holders: int, grams: int) -> tuple[int, int] | None:
        """(earliest arrival, least cost) of a parcel of ``grams`` from any of ``holders``;
        None: none ships it. Exact, yet only the holders whose lightest parcel could still
        beat the best so far are priced."""
        holders &= self.shippable
        p = self.p
        cost = late = _NEVER
        for c in self.by_cost:
            if holders >> c & 1:
                if self.cost[c] >= cost:
                    break
                priced = p.package(c, grams)
                if priced is not None:
                    cost = min(cost, priced[1])
        if cost >= _NEVER:
            return None
        for c in self.by_late:
            if holders >> c & 1:
                if self.late[c] >= late:
                    break
                priced = p.package(c, grams)
                if priced is not None:
                    late = min(late, priced[0])
        return late, cost

    def packages(self, m: int) -> int:
        """The least cost of ``m`` packages from distinct locations."""
        return self.cheapest[m] if m < len(self.cheapest) else _NEVER

    def rest(self, grams: int, most: int) -> tuple[int, int]:
        """(arrival, cost) bounds of at most ``most`` packages carrying ``grams`` in all: the
        heaviest of m packages weighs at least grams / m."""
        key = (grams, most)
        found = self._rest.get(key)
        if found is None:
            one = self.packages(1)
            cost = min(self.heavy(-(-grams // m))[1] + (m - 1) * one for m in range(1, most + 1))
            found = self._rest[key] = (self.heavy(-(-grams // most))[0], cost)
        return found

    def heavy(self, grams: int) -> tuple[int, int]:
        """(earliest arrival, least cost) of a package of at least ``grams`` from anywhere."""
        if grams < self.base or not self.base:
            return self.soonest, self.packages(1)
        k = (grams // self.base).bit_length() - 1
        found = self.ladder.get(k)
        if found is None:
            found = self.least(self.shippable, self.base << k) or (_NEVER, _NEVER)
            self.ladder[k] = found
        return found


class _Search:
    """The branch and bound over shapes (see the module); loads are kept by index."""

    def __init__(self, p: Problem, out: list[Plan], budget: int) -> None:
        self.p = p
        self.out = out
        self.budget = budget  # shapes it may still meet; below 0: it stopped short
        self.best = min(plan.key for plan in out)
        self.top = sorted(plan.key[:4] for plan in out)[:_KEPT]
        self.workable = 0
        self.bounds = _Bounds(p)
        caps = placeable(p, self.bounds.shippable)
        self.caps = caps
        self.forced = p.total_units - sum(caps)  # units every plan leaves unfilled
        self.layout = _layout(caps)
        # Per load, bounds on its arrival and cost: unknown (-1) until first met, then from
        # the lightest parcel, then (once priced) its actual options; _NEVER: no plan.
        count = len(self.layout.loads)
        self.late = [0] * count
        self.cost = [0] * count
        self.stage = [0] * count  # how far each load's bounds were tightened (see tighten)
        self.lightest_first = sorted(range(p.n), key=p.wt.__getitem__)

    def tighten(self, j: int) -> None:
        """Tighten load ``j``'s bounds one stage: first by its holders' lightest parcels, then
        to its soonest and cheapest actual options."""
        load = self.layout.loads[j]
        if self.stage[j]:
            found = self.bounds.least(self.p.holders(load), self.p.grams(load))
        else:
            found = self.bounds.of(self.p.holders(load))
        # None: no carrier takes it from anywhere (a weight cap), a dead end.
        self.late[j], self.cost[j] = (_NEVER, _NEVER) if found is None else found
        self.stage[j] += 1

    def whole(self, j: int) -> bool:
        """Whether load ``j`` holds whole lines only."""
        return all(u in (0, q) for u, q in zip(self.layout.loads[j], self.p.qty, strict=True))

    def run(self) -> None:
        p, bounds = self.p, self.bounds
        if self.best[0] == 0:
            # Every plan of one package that ships everything is a whole-line plan, offered;
            # of m packages, the heaviest weighs at least a share 1/m of it all.
            grams = p.grams(tuple(p.qty))
            least = min(
                (
                    bounds.heavy(-(-grams // m))[1] + (m - 1) * bounds.packages(1)
                    for m in range(2, p.k + 1)
                ),
                default=_NEVER,
            )
            if (0, 0, max(least, bounds.packages(2)) - p.split, 2) > self.best[:4]:
                return
        self.grow((), self.caps, p.total_units - self.forced, 0, 0, 0)

    def lower(
        self, j: int, rem: Load, late: int, cost: int, packages: int, after: int
    ) -> tuple[int, int, int]:
        """(late, cost, packages) that no plan grown from the shape so far plus load ``j``
        can beat: while it leaves more unfilled than the best so far it must grow, placing
        the rest of those units (at least the lightest ones) in the packages it may add
        (weighed once load ``j``'s own weight was)."""
        p, bounds = self.p, self.bounds
        late = max(late, self.late[j])
        cost += self.cost[j] - p.split
        need = after + self.forced - self.best[0]
        if need > 0:
            most = p.k - packages
            if most <= 0:
                return _NEVER, _NEVER, packages
            packages += 1
            if self.stage[j] < _STAGES:
                cost += bounds.cheapest[1]
            else:
                load, wt, grams = self.layout.loads[j], p.wt, 0
                for i in self.lightest_first:
                    units = rem[i] - load[i]
                    if units >= need:
                        grams += need * wt[i]
                        break
                    grams += units * wt[i]
                    need -= units
                rest_late, rest_cost = bounds.rest(grams, most)
                late = max(late, rest_late)
                cost += rest_cost
        least = bounds.packages(packages) - p.split
        return late, max(cost, least), packages

    def grow(
        self,
        shape: tuple[int, ...],  # indices into the layout, non-decreasing
        rem: Load,
        left: int,  # units not yet placed
        late: int,  # the latest of the loads' earliest arrivals
        cost: int,  # the sum of the loads' least costs
        start: int,
    ) -> None:
        layout = self.layout
        packages = len(shape) + 1
        most = self.p.k - packages  # loads that may follow the next one
        fitting = layout.fits(rem)
        for j in fitting[bisect_left(fitting, start) :]:
            self.budget -= 1  # one more shape met: the shape so far plus load j
            if self.budget < 0:
                return
            size = layout.sizes[j]
            after = left - size
            best = self.best[:4]
            # Later loads are no bigger than this one.
            lowest = max(0, after - most * size)
            if lowest + self.forced > self.best[0]:
                break  # smaller loads place fewer units still
            if not self.stage[j]:
                self.tighten(j)
            while self.cost[j] < _NEVER:
                lower = self.lower(j, rem, late, cost, packages, after)
                if (lowest + self.forced, *lower) > best or self.stage[j] == _STAGES:
                    break
                self.tighten(j)
            if self.cost[j] >= _NEVER or (lowest + self.forced, *lower) > best:
                continue
            grown = (*shape, j)
            here = (
                after + self.forced,
                max(late, self.late[j]),
                max(cost + self.cost[j], self.bounds.packages(packages)) - self.p.split,
                packages,
            )
            if (
                here <= best
                and not all(self.whole(i) for i in grown)  # those were all offered
                and not self.evaluate(grown)
            ):
                continue  # no plan of this shape: none built on it either
            if most > 0 and after > 0:
                rest = tuple(b - a for a, b in zip(layout.loads[j], rem, strict=True))
                self.grow(grown, rest, after, here[1], cost + self.cost[j], j)
                if self.budget < 0:
                    return

    def evaluate(self, shape: tuple[int, ...]) -> bool:
        """Offer the best plan of ``shape`` if it may matter; False when it has none."""
        p = self.p
        loads = [self.layout.loads[i] for i in shape]
        choices = [p.load_options(v) for v in loads]
        if not all(choices):
            return False
        picks = assign(choices)
        if picks is None:
            return False
        self.workable += 1
        rank = (
            p.total_units - sum(self.layout.sizes[i] for i in shape),
            max(o[0] for o in picks),
            sum(o[1] for o in picks) - p.split,
            len(picks),
        )
        if len(self.top) == _KEPT and rank > self.top[-1]:
            return True  # neither the best nor an alternative worth showing
        before = len(self.out)
        offer_with_spares(p, loads, choices, picks, self.out)
        for plan in self.out[before:]:
            self.best = min(self.best, plan.key)
            insort(self.top, plan.key[:4])
        del self.top[_KEPT:]
        return True


def placeable(p: Problem, shippable: int = -1) -> Load:
    """Per line, the most units a plan can place: no more than its ``K`` best holders (among
    ``shippable``) have together."""
    holders = [rooms for c, rooms in enumerate(p.rooms) if shippable >> c & 1]
    return tuple(
        min(q, sum(sorted((rooms[i] for rooms in holders), reverse=True)[: p.k]))
        for i, q in enumerate(p.qty)
    )


def loads_of(quantities: Sequence[int]) -> int:
    """How many different loads an order of ``quantities`` units per line has."""
    count = 1
    for q in quantities:
        count *= q + 1
    return count - 1


def unit_plans(p: Problem, budget: int) -> tuple[list[Plan], int, bool]:
    """Plans best first, exact over units (backorders included) when the search met at most
    ``budget`` shapes; how many shapes worked; whether the search finished."""
    full = (1 << p.n) - 1
    out, workable = exact_plans(p, full, allow_drop=True)
    if max(p.qty, default=0) <= 1:
        return out, workable, True  # every load is a group of whole lines
    search = _Search(p, out, budget)
    search.run()
    return unique_sorted(search.out), workable + search.workable, search.budget >= 0
