"""The bounded heuristic search of ``oms.domain.routing``, for orders beyond the exact limit.

Seeds (the caller's, e.g. the exact plan of whole lines, and a greedy cover), then greedy
placement of unfilled units, then local moves until none improves or a fixed budget of
evaluations is spent: close a package (its units spread over the other packages), move a
piece (a line's units at a location) or part of it to another location, spread a piece
over the cheapest locations that can take it, hand a location's share to an unused one,
let two locations trade their shares.
Wherever a parcel would be too heavy for every carrier (a weight cap), fewer units are
tried: the most that still ship, lightest units first. Every move is checked against the
stock left, so nothing is over-assigned. Plans, keys and the problem are those of
``oms.domain.routing_search``.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.domain.routing_search import Key, Plan, Problem, unique_sorted

__all__ = ["heuristic_plans"]

# Local-search budget: at most this many plan evaluations per seed.
_EVALUATIONS = 4_000


class _Draft:
    """A plan being edited by the heuristic: pieces per location and the stock left."""

    def __init__(self, p: Problem) -> None:
        self.p = p
        self.alloc: dict[int, dict[int, int]] = {}
        self.left: dict[int, dict[str, int]] = {}
        self.unfilled = list(p.qty)
        self.grams: dict[int, int] = {}

    def room(self, c: int, i: int) -> int:
        return self.p.room(self.left[c] if c in self.left else self.p.avail[c], i)

    def add(self, c: int, i: int, units: int) -> None:
        stock = self.left.setdefault(c, dict(self.p.avail[c]))
        for sku, per in self.p.per[i]:
            stock[sku] -= per * units
            assert stock[sku] >= 0, "a move over-assigned stock"
        pieces = self.alloc.setdefault(c, {})
        pieces[i] = pieces.get(i, 0) + units
        self.grams[c] = self.grams.get(c, 0) + units * self.p.wt[i]
        self.unfilled[i] -= units

    def remove(self, c: int, i: int, units: int) -> None:
        stock = self.left[c]
        for sku, per in self.p.per[i]:
            stock[sku] += per * units
        pieces = self.alloc[c]
        pieces[i] -= units
        if not pieces[i]:
            del pieces[i]
        self.grams[c] -= units * self.p.wt[i]
        if not pieces:
            del self.alloc[c], self.grams[c]
        self.unfilled[i] += units

    def key(self) -> Key | None:
        late = cost = 0
        for c, grams in self.grams.items():
            priced = self.p.package(c, grams)
            if priced is None:
                return None
            late = max(late, priced[0])
            cost += priced[1]
            if self.p.lookahead is not None:
                load = tuple(self.alloc[c].get(i, 0) for i in range(self.p.n))
                cost += self.p.depletion(c, load)
        pieces = sum(len(x) for x in self.alloc.values())
        used = tuple(sorted(self.alloc))
        split = self.p.split if used else 0
        return (sum(self.unfilled), late, cost - split, len(used), pieces, used)

    def plan(self) -> Plan:
        alloc = tuple((c, tuple(sorted(self.alloc[c].items()))) for c in sorted(self.alloc))
        key = self.key()
        assert key is not None
        return Plan(key, alloc)


def _load(d: _Draft, c: int, lines: list[int]) -> list[tuple[int, int]]:
    """What ``c`` could add for ``lines``: lines it can take whole first, then parts; no
    more than a carrier takes from there (lightest units kept)."""
    stock = dict(d.left[c] if c in d.left else d.p.avail[c])
    taken: list[tuple[int, int]] = []
    for whole in (True, False):
        for i in lines:
            want = d.unfilled[i] - sum(u for j, u in taken if j == i)
            units = min(want, d.p.room(stock, i))
            if units <= 0 or (whole and units < want):
                continue
            for sku, per in d.p.per[i]:
                stock[sku] -= per * units
            taken.append((i, units))
    return _shippable(d, c, taken)


def _shippable(d: _Draft, c: int, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The most units of ``pieces`` that ``c`` can still ship with what it has, lightest
    first (a heavier parcel never ships where a lighter one cannot)."""
    p, base = d.p, d.grams.get(c, 0)
    if p.package(c, base + sum(units * p.wt[i] for i, units in pieces)) is not None:
        return pieces
    light = sorted(pieces, key=lambda piece: p.wt[piece[0]])

    def first(count: int) -> list[tuple[int, int]]:
        kept = []
        for i, units in light:
            if count <= 0:
                break
            kept.append((i, min(units, count)))
            count -= units
        return kept

    low, high = 0, sum(units for _, units in pieces)  # low ships, high does not
    while high - low > 1:
        middle = (low + high) // 2
        grams = base + sum(units * p.wt[i] for i, units in first(middle))
        if p.package(c, grams) is None:
            high = middle
        else:
            low = middle
    return first(low)


def _greedy_cover(p: Problem, *, thrifty: bool) -> _Draft:
    """Open locations one at a time, each the one that ships most of what is left (or, when
    ``thrifty``, that ships it at least cost a unit)."""
    d = _Draft(p)
    while len(d.alloc) < p.k and any(d.unfilled):
        open_lines = [i for i in range(p.n) if d.unfilled[i]]
        best: tuple[tuple[int, int, int, int], list[tuple[int, int]]] | None = None
        for c in range(len(p.cands)):
            if c in d.alloc:
                continue
            taken = _load(d, c, open_lines)
            units = sum(u for _, u in taken)
            priced = p.package(c, sum(u * p.wt[i] for i, u in taken)) if units else None
            if priced is not None:
                rank = (-units, priced[0], priced[1], c)
                if thrifty:
                    rank = (priced[0], priced[1] // units, -units, c)
                if best is None or rank < best[0]:
                    best = (rank, taken)
        if best is None:
            break
        for i, units in best[1]:
            d.add(best[0][-1], i, units)
    return d


def _from_plan(p: Problem, plan: Plan) -> _Draft:
    d = _Draft(p)
    for c, pieces in plan.alloc:
        for i, units in pieces:
            d.add(c, i, units)
    return d


class _Search:
    """First-improvement local search on one draft within an evaluation budget."""

    def __init__(self, d: _Draft) -> None:
        self.d = d
        self.budget = _EVALUATIONS
        self.best = d.key()

    def better(self) -> bool:
        """Evaluate the draft as edited; True (and remember it) when it beats the best."""
        self.budget -= 1
        key = self.d.key()
        if key is not None and (self.best is None or key < self.best):
            self.best = key
            return True
        return False

    def targets(self) -> list[int]:
        """Used locations, then (while a package may still be added) the unused ones."""
        d = self.d
        used = sorted(d.alloc)
        if len(used) < d.p.k:
            used += [c for c in range(len(d.p.cands)) if c not in d.alloc]
        return used

    def fill(self) -> bool:
        """Place unfilled units where they cost least (most units first)."""
        d = self.d
        for i in range(d.p.n):
            if not d.unfilled[i]:
                continue
            best: tuple[Key, int, int] | None = None
            for c in self.targets():
                units = min(d.unfilled[i], d.room(c, i))
                if units > 0:  # no more than a carrier takes from there
                    units = sum(u for _, u in _shippable(d, c, [(i, units)]))
                if units <= 0:
                    continue
                d.add(c, i, units)
                key = d.key()
                d.remove(c, i, units)
                self.budget -= 1
                if key is not None and (best is None or key < best[0]):
                    best = (key, c, units)
            if best is not None:
                d.add(best[1], i, best[2])
                self.best = best[0]
                return True
        return False

    def relocate(self) -> bool:
        """Move one piece (a line's units at a location), or part of it, to another location."""
        d = self.d
        pieces = [(c, i, u) for c in sorted(d.alloc) for i, u in sorted(d.alloc[c].items())]
        for c, i, units in pieces:
            for target in self.targets():
                if self.budget <= 0:
                    return False
                if target == c:
                    continue
                most = min(units, d.room(target, i))
                for moved in sorted({most, units // 2, 1}, reverse=True):
                    if not 0 < moved <= most:
                        continue
                    d.remove(c, i, moved)
                    d.add(target, i, moved)
                    if self.better():
                        return True
                    d.remove(target, i, moved)
                    d.add(c, i, moved)
        return False

    def spread(self) -> bool:
        """Move one piece over the locations that ship a unit of it cheapest."""
        d = self.d
        pieces = [(c, i, u) for c in sorted(d.alloc) for i, u in sorted(d.alloc[c].items())]
        for c, i, units in pieces:
            if self.budget <= 0:
                return False
            if units < 2:
                continue
            d.remove(c, i, units)
            ranked = []
            for target in self.targets():
                priced = d.p.package(target, d.grams.get(target, 0) + d.p.wt[i])
                if target != c and priced is not None and d.room(target, i) > 0:
                    ranked.append((priced, target))
            ranked.sort()
            moved: list[tuple[int, int]] = []
            left = units
            for _, target in ranked:
                if not left:
                    break
                if target not in d.alloc and len(d.alloc) >= d.p.k:
                    continue
                take = min(left, d.room(target, i))
                take = sum(u for _, u in _shippable(d, target, [(i, take)]))
                if take > 0:
                    d.add(target, i, take)
                    moved.append((target, take))
                    left -= take
            # What finds no other place stays, if a package is left for it.
            valid = not left or c in d.alloc or len(d.alloc) < d.p.k
            if valid and left:
                d.add(c, i, left)
            if valid and moved and self.better():
                return True
            if valid and left:
                d.remove(c, i, left)
            for target, take in reversed(moved):
                d.remove(target, i, take)
            d.add(c, i, units)
        return False

    def swap(self) -> bool:
        """Hand everything one location ships to a location not yet used."""
        d = self.d
        for c in sorted(d.alloc):
            pieces = sorted(d.alloc[c].items())
            for i, units in pieces:
                d.remove(c, i, units)
            for target in range(len(d.p.cands)):
                if self.budget <= 0:
                    break
                if target in d.alloc or target == c:
                    continue
                if _fits(d, target, pieces):
                    for i, units in pieces:
                        d.add(target, i, units)
                    if self.better():
                        return True
                    for i, units in pieces:
                        d.remove(target, i, units)
            for i, units in pieces:
                d.add(c, i, units)
        return False

    def exchange(self) -> bool:
        """Let two used locations trade everything they ship."""
        d = self.d
        used = sorted(d.alloc)
        for x, a in enumerate(used):
            for b in used[x + 1 :]:
                if self.budget <= 0:
                    return False
                shares = sorted(d.alloc[a].items()), sorted(d.alloc[b].items())
                for here, pieces in zip((a, b), shares, strict=True):
                    for i, units in pieces:
                        d.remove(here, i, units)
                if _fits(d, b, shares[0]) and _fits(d, a, shares[1]):
                    for there, pieces in zip((b, a), shares, strict=True):
                        for i, units in pieces:
                            d.add(there, i, units)
                    if self.better():
                        return True
                    for there, pieces in zip((b, a), shares, strict=True):
                        for i, units in pieces:
                            d.remove(there, i, units)
                for here, pieces in zip((a, b), shares, strict=True):
                    for i, units in pieces:
                        d.add(here, i, units)
        return False

    def close(self) -> bool:
        """Spread one location's pieces over the other used locations, saving a package."""
        d = self.d
        for c in sorted(d.alloc):
            if len(d.alloc) < 2 or self.budget <= 0:
                return False
            pieces = sorted(d.alloc[c].items())
            for i, units in pieces:
                d.remove(c, i, units)
            moved: list[tuple[int, int, int]] = []
            complete = True
            for i, units in pieces:
                left = units
                for target in sorted(d.alloc):
                    take = min(left, d.room(target, i))
                    if take > 0:
                        d.add(target, i, take)
                        moved.append((target, i, take))
                        left -= take
                    if not left:
                        break
                complete = complete and not left
            if complete and self.better():
                return True
            for target, i, take in reversed(moved):
                d.remove(target, i, take)
            for i, units in pieces:
                d.add(c, i, units)
        return False

    def run(self) -> None:
        moves = (self.fill, self.close, self.relocate, self.spread, self.swap, self.exchange)
        while self.budget > 0 and any(move() for move in moves):
            pass


def _fits(d: _Draft, c: int, pieces: list[tuple[int, int]]) -> bool:
    stock = dict(d.left[c] if c in d.left else d.p.avail[c])
    for i, units in pieces:
        for sku, per in d.p.per[i]:
            stock[sku] = stock.get(sku, 0) - per * units
            if stock[sku] < 0:
                return False
    return True


def heuristic_plans(p: Problem, seeds: Sequence[Plan]) -> list[Plan]:
    """Improve each seed plan and two greedy covers; the results and the starts, best first."""
    drafts = [_from_plan(p, seed) for seed in seeds]
    drafts += [_greedy_cover(p, thrifty=False), _greedy_cover(p, thrifty=True)]
    results: list[Plan] = []
    for draft in drafts:
        if draft.key() is None:
            continue
        results.append(draft.plan())  # where it started: an alternative for the explanation
        _Search(draft).run()
        results.append(draft.plan())
    return unique_sorted(results)
