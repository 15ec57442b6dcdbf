"""The search behind ``oms.domain.routing``: the problem and its plans (here), the exact
search over whole lines (``oms.domain.routing_lines``) and over units
(``oms.domain.routing_units``), then the bounded heuristic (``oms.domain.routing_heuristic``).

Internal to the router; ``route()`` is the public entry point. Money is held here as integer
micro-units (1e-6 of the currency) so the inner loops never touch ``Decimal``; the router
rebuilds the cost breakdown in ``Decimal`` from the chosen packages.

Every plan is ranked by one key, smaller is better: ``(units left unfilled, latest late
arrival (0 when every package is on time), cost, packages, line pieces, candidate
indices)``. Candidates are sorted by location code, so the last element is the "then
location code" tie-break.

A plan gives each location it uses one **load**: units per line (a tuple, one entry per
line). ``Problem.load_options`` lists every location able to supply a load, priced with
the load's weight (memoised per load, and ship() per (location, grams)).

A plan uses each location once, so the loads of one plan take distinct locations:
``assign`` picks the best distinct ones when their favourites collide (a small branch and
bound: for one lateness bound, each load's ``K`` cheapest locations suffice).
``Problem.only_on_time`` makes late options count as impossible, for the router's second
look when the best plan of a heuristic search is late.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

if TYPE_CHECKING:
    from oms.domain.routing import Candidate, RoutingLine, ShipOption
    from oms.domain.routing_lookahead import Lookahead

__all__ = [
    "Key",
    "Load",
    "Option",
    "Plan",
    "Problem",
    "assign",
    "offer",
    "offer_with_spares",
    "to_micros",
    "unique_sorted",
]

MICROS = 1_000_000
# Room of a line that draws no stock (a digital or service line): unlimited at any location.
_UNLIMITED = 1 << 62
# Alternatives offered to the explanation for a plan with one package.
_SPARES = 4

# (units unfilled, latest late arrival or 0, cost, packages, line pieces, candidates)
Key = tuple[int, int, int, int, int, tuple[int, ...]]
# ((candidate index, ((line index, units), ...)), ...), candidates ascending.
Alloc = tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
# (late arrival ordinal or 0 when on time, cost, candidate index): one package's price.
Option = tuple[int, int, int]
# Units per line (one entry per line) that one location ships.
Load = tuple[int, ...]


@lru_cache(maxsize=8192)
def to_micros(amount: Decimal) -> int:
    """``amount`` in integer micro-units (half-even below one micro-unit); prices repeat."""
    return int((amount * MICROS).to_integral_value(rounding=ROUND_HALF_EVEN))


class Plan(NamedTuple):
    """One candidate answer: its rank key and who ships what."""

    key: Key
    alloc: Alloc


class Problem:
    """One order's inputs, prepared for the search, and its per-call ship() cache."""

    def __init__(
        self,
        lines: Sequence[RoutingLine],
        candidates: Sequence[Candidate],
        ship: Callable[[UUID, int], ShipOption | None],
        *,
        max_packages: int,
        split_penalty: Decimal,
        late_penalty: Decimal,
        lookahead: Lookahead | None = None,
    ) -> None:
        self.n = len(lines)
        self.lookahead = lookahead
        self.qty = [ln.quantity for ln in lines]
        self.wt = [ln.weight_grams for ln in lines]
        self.per = [tuple(sorted(ln.per_unit.items())) for ln in lines]
        self.total_units = sum(self.qty)
        self.k = max_packages
        self.split = to_micros(split_penalty)
        self.late = to_micros(late_penalty)
        self._ship = ship
        skus = sorted({sku for per in self.per for sku, _ in per})

        self.cands: list[Candidate] = []
        self.rejected: list[tuple[str, str]] = []
        self.avail: list[dict[str, int]] = []
        self.rooms: list[list[int]] = []  # per candidate: units of each line it holds alone
        self.line_bits = [0] * self.n  # per line: the candidates that hold it whole
        free = any(not per for per in self.per)  # a line drawing no stock fits anywhere
        singles = [(i, per[0][0], per[0][1]) for i, per in enumerate(self.per) if len(per) == 1]
        others = [i for i, per in enumerate(self.per) if len(per) != 1]
        for cand in sorted(candidates, key=lambda c: (c.code, c.location_id.int)):
            if cand.capacity_left <= 0:
                self.rejected.append((cand.code, "at capacity today"))
                continue
            # Only what is held: most of a large network holds few of one order's SKUs.
            held = cand.available.get
            stock = {sku: units for sku in skus if (units := held(sku, 0)) > 0}
            bit = 1 << len(self.cands)
            rooms = [0] * self.n
            useful = free
            for i, sku, need in singles if stock else ():
                room = rooms[i] = stock.get(sku, 0) // need
                useful = useful or room > 0
                if room >= self.qty[i]:
                    self.line_bits[i] |= bit
            for i in others:
                room = rooms[i] = self.room(stock, i)
                useful = useful or room > 0
                if room >= self.qty[i]:
                    self.line_bits[i] |= bit
            if not useful:
                self.rejected.append((cand.code, "no stock above safety stock for any line"))
                continue
            self.cands.append(cand)
            self.avail.append(stock)
            self.rooms.append(rooms)
        # Fixed cost of a package: handling plus the split penalty (charged once less per plan).
        self.fixed = [to_micros(c.handling_cost) + self.split for c in self.cands]
        # Lines that share a SKU with another line: their groups need a summed stock check.
        skus_of = [{sku for sku, _ in per} for per in self.per]
        self.shares = [
            sum(1 << j for j in range(self.n) if j != i and skus_of[i] & skus_of[j])
            for i in range(self.n)
        ]
        self._costs: dict[tuple[int, int], tuple[int, int] | None] = {}
        self.options: dict[tuple[int, int], ShipOption] = {}
        self._loads: dict[Load, list[Option]] = {}
        self._groups: dict[int, list[Option]] = {}  # by line mask: whole-line loads
        self._holders: dict[Load, int] = {}
        self._pieces: dict[Load, tuple[tuple[int, int], ...]] = {}
        self._room_bits: dict[tuple[int, int], int] = {}
        self._depletion: dict[tuple[int, Load], int] = {}
        self.on_time_only = False

    def room(self, stock: dict[str, int], i: int) -> int:
        """Units of line ``i`` that ``stock`` can still supply."""
        per = self.per[i]
        if len(per) == 1:
            sku, need = per[0]
            return stock.get(sku, 0) // need
        if not per:
            return _UNLIMITED
        return min(stock.get(sku, 0) // need for sku, need in per)

    def package(self, c: int, grams: int) -> tuple[int, int] | None:
        """(late arrival or 0, handling + split penalty + shipping + late penalty) of a parcel
        of ``grams`` from ``c``; None when ``c`` cannot ship it. One ship() call per key."""
        cache_key = (c, grams)
        if cache_key in self._costs:
            priced = self._costs[cache_key]
        else:
            option = self._ship(self.cands[c].location_id, grams)
            priced = None
            if option is not None:
                cost = self.fixed[c] + to_micros(option.price)
                late = option.deliver_by.toordinal() if option.late else 0
                priced = (late, cost + self.late if late else cost)
                self.options[cache_key] = option
            self._costs[cache_key] = priced
        if self.on_time_only and priced is not None and priced[0]:
            return None
        return priced

    def depletion(self, c: int, load: Load) -> int:
        """The look-ahead cost (micro-units) of ``c`` shipping ``load``: what the units it
        draws are worth to the demand expected near ``c`` (0 without a look-ahead)."""
        if self.lookahead is None:
            return 0
        key = (c, load)
        found = self._depletion.get(key)
        if found is None:
            found = to_micros(self.depletion_amount(c, load))
            self._depletion[key] = found
        return found

    def depletion_amount(self, c: int, load: Load) -> Decimal:
        """``depletion`` as an amount of money."""
        if self.lookahead is None:
            return Decimal(0)
        drawn: dict[str, int] = {}
        for i, units in enumerate(load):
            for sku, per in self.per[i] if units else ():
                drawn[sku] = drawn.get(sku, 0) + per * units
        code, stock = self.cands[c].code, self.avail[c]
        return sum(
            (
                self.lookahead.penalty(code, sku, stock.get(sku, 0), units)
                for sku, units in sorted(drawn.items())
            ),
            Decimal(0),
        )

    def only_on_time(self, flag: bool) -> None:
        """From now on treat late options as impossible (``True``) or as priced (``False``)."""
        self.on_time_only = flag
        self._loads.clear()
        self._groups.clear()

    def unshippable(self) -> set[int]:
        """Candidates for which every ship() call so far answered None."""
        shipped: dict[int, bool] = {}
        for (c, _), priced in self._costs.items():
            shipped[c] = shipped.get(c, False) or priced is not None
        return {c for c, ok in shipped.items() if not ok}

    def whole(self, mask: int) -> Load:
        """The load of the lines of ``mask``, each whole."""
        return tuple(q if mask >> i & 1 else 0 for i, q in enumerate(self.qty))

    def pieces(self, load: Load) -> tuple[tuple[int, int], ...]:
        """``load`` as ``(line index, units)`` pieces."""
        found = self._pieces.get(load)
        if found is None:
            found = self._pieces[load] = tuple((i, units) for i, units in enumerate(load) if units)
        return found

    def grams(self, load: Load) -> int:
        """What ``load`` weighs."""
        return sum(units * wt for units, wt in zip(load, self.wt, strict=True))

    def room_bits(self, i: int, units: int) -> int:
        """The candidates that hold ``units`` of line ``i`` (each line alone)."""
        key = (i, units)
        bits = self._room_bits.get(key)
        if bits is None:
            if units == self.qty[i]:
                bits = self.line_bits[i]
            else:
                bits = sum(1 << c for c, rooms in enumerate(self.rooms) if rooms[i] >= units)
            self._room_bits[key] = bits
        return bits

    def holders(self, load: Load) -> int:
        """The candidates that hold all of ``load`` (lines sharing a SKU summed)."""
        found = self._holders.get(load)
        if found is not None:
            return found
        bits = -1
        mask = 0
        for i, units in enumerate(load):
            if units:
                bits &= self.room_bits(i, units)
                mask |= 1 << i
        need: dict[str, int] = {}
        for i, units in enumerate(load):
            if units and self.shares[i] & mask:
                for sku, per in self.per[i]:
                    need[sku] = need.get(sku, 0) + per * units
        if need:
            kept = bits
            while bits > 0:
                low = bits & -bits
                bits ^= low
                stock = self.avail[low.bit_length() - 1]
                if any(stock.get(sku, 0) < units for sku, units in need.items()):
                    kept ^= low
            bits = kept
        found = max(bits, 0)
        self._holders[load] = found
        return found

    def load_options(self, load: Load) -> list[Option]:
        """Every location able to supply and ship ``load``, on-time and cheap first."""
        found = self._loads.get(load)
        if found is not None:
            return found
        bits = self.holders(load)
        grams = self.grams(load)
        found = []
        while bits > 0:
            low = bits & -bits
            c = low.bit_length() - 1
            bits ^= low
            priced = self.package(c, grams)
            if priced is not None:
                found.append((priced[0], priced[1] + self.depletion(c, load), c))
        found.sort()
        self._loads[load] = found
        return found

    def group_options(self, mask: int) -> list[Option]:
        """Every location able to supply the lines of ``mask`` whole, on-time and cheap first."""
        found = self._groups.get(mask)
        if found is None:
            found = self._groups[mask] = self.load_options(self.whole(mask))
        return found


def assign(choices: list[list[Option]]) -> list[Option] | None:
    """One option per group, no location twice: latest arrival first, then cost, smallest.

    For one lateness bound, each group's ``m`` cheapest options suffice (``m`` groups): a
    group placed elsewhere can always move to one of them that the others leave free.
    """
    firsts = [options[0] for options in choices]
    if not any(o[0] for o in firsts) and len({o[2] for o in firsts}) == len(firsts):
        return firsts
    m = len(choices)
    for bound in sorted({o[0] for options in choices for o in options}):
        tops = [
            sorted((o for o in options if o[0] <= bound), key=_by_cost)[:m] for options in choices
        ]
        if all(tops):
            picks = _cheapest_distinct(tops)
            if picks is not None:
                return picks
    return None


def _by_cost(option: Option) -> tuple[int, int]:
    return option[1], option[2]


def _cheapest_distinct(tops: list[list[Option]]) -> list[Option] | None:
    m = len(tops)
    floor = [0] * (m + 1)
    for j in range(m - 1, -1, -1):
        floor[j] = floor[j + 1] + tops[j][0][1]
    best: list[Option] | None = None
    best_rank: tuple[int, list[int]] = (1 << 62, [])

    def search(j: int, used: frozenset[int], spent: int, chosen: list[Option]) -> None:
        nonlocal best, best_rank
        if spent + floor[j] > best_rank[0]:
            return
        if j == m:
            rank = (spent, sorted(o[2] for o in chosen))
            if rank < best_rank:
                best, best_rank = list(chosen), rank
            return
        for option in tops[j]:
            if option[2] not in used:
                chosen.append(option)
                search(j + 1, used | {option[2]}, spent + option[1], chosen)
                chosen.pop()

    search(0, frozenset(), 0, [])
    return best


def offer(p: Problem, loads: Sequence[Load], picks: list[Option], out: list[Plan]) -> None:
    """Add the plan that ships ``loads[j]`` from ``picks[j]`` to ``out``."""
    late = cost = placed = pieces = 0
    shares = []
    for load, (option_late, option_cost, c) in zip(loads, picks, strict=True):
        late = max(late, option_late)
        cost += option_cost
        share = p.pieces(load)
        shares.append((c, share))
        placed += sum(units for _, units in share)
        pieces += len(share)
    shares.sort()
    alloc = tuple(shares)
    key = (
        p.total_units - placed,
        late,
        cost - (p.split if picks else 0),
        len(alloc),
        pieces,
        tuple(c for c, _ in alloc),
    )
    out.append(Plan(key, alloc))


def offer_with_spares(
    p: Problem,
    loads: Sequence[Load],
    choices: list[list[Option]],
    picks: list[Option],
    out: list[Plan],
) -> None:
    """Offer the plan, and runners-up for the explanation: one load moved to a free location."""
    offer(p, loads, picks, out)
    taken = {o[2] for o in picks}
    for j, options in enumerate(choices):
        spares = (o for o in options if o[2] not in taken)
        for spare in itertools.islice(spares, _SPARES if len(loads) == 1 else 1):
            offer(p, loads, [*picks[:j], spare, *picks[j + 1 :]], out)


def unique_sorted(plans: list[Plan]) -> list[Plan]:
    """``plans`` best first, each allocation once."""
    seen: set[Alloc] = set()
    unique = []
    for plan in sorted(plans):
        if plan.alloc not in seen:
            seen.add(plan.alloc)
            unique.append(plan)
    return unique
