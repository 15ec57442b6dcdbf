"""Exact routing over whole lines: every grouping of an order's lines into packages.

Internal to ``oms.domain.routing``. Set partitions of the lines into at most ``K`` groups;
each group is a load of whole lines, and ``assign`` gives the groups of one partition
distinct locations. With ``allow_drop`` some lines may stay unshipped: the fewest unshipped
units first. Cheap, and usually the winner: the exact search over units
(``oms.domain.routing_units``) starts from it, and the heuristic is seeded with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from functools import lru_cache

from oms.domain.routing_search import Plan, Problem, assign, offer_with_spares, unique_sorted

__all__ = ["exact_plans"]


@lru_cache(maxsize=4096)
def _partitions(mask: int, most: int) -> tuple[tuple[int, ...], ...]:
    """Every split of ``mask`` into at most ``most`` non-empty groups, fewest groups first."""
    if mask == 0:
        return ((),)
    if most == 0:
        return ()
    low = mask & -mask
    rest = mask ^ low
    found: list[tuple[int, ...]] = []
    for sub in _submasks(rest):
        found.extend((low | sub, *tail) for tail in _partitions(rest ^ sub, most - 1))
    found.sort(key=lambda groups: (len(groups), groups))
    return tuple(found)


def _submasks(mask: int) -> Iterator[int]:
    sub = mask
    while True:
        yield sub
        if sub == 0:
            return
        sub = (sub - 1) & mask


def exact_plans(p: Problem, mask: int, *, allow_drop: bool) -> tuple[list[Plan], int]:
    """Whole-line plans over the lines of ``mask``, best first, and how many groupings worked.

    Without ``allow_drop`` every line of ``mask`` is shipped (an empty list: impossible);
    with it, the groupings that leave the fewest units unshipped.
    """
    drops: Iterable[int] = [0]
    if allow_drop:  # the other drops sorted only when shipping everything is impossible
        drops = itertools.chain(drops, _drops(p, mask))
    out: list[Plan] = []
    workable = 0
    fewest: int | None = None
    for dropped in drops:
        if fewest is not None and _units(p, dropped) > fewest:
            break
        for groups in _partitions(mask ^ dropped, p.k):
            choices = [p.group_options(g) for g in groups]
            if not all(choices):
                continue
            picks = assign(choices)
            if picks is None:
                continue
            workable += 1
            fewest = _units(p, dropped)
            offer_with_spares(p, [p.whole(g) for g in groups], choices, picks, out)
    return unique_sorted(out), workable


def _drops(p: Problem, mask: int) -> Iterator[int]:
    """The non-empty sets of lines of ``mask`` to leave unshipped, fewest units first."""
    yield from sorted((s for s in _submasks(mask) if s), key=lambda s: (_units(p, s), s))


def _units(p: Problem, mask: int) -> int:
    return sum(p.qty[i] for i in range(p.n) if mask >> i & 1)
