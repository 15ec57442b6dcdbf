"""Python's cyclic garbage collector held off while a batch of orders is placed.

Placing an intake group's orders makes tens of thousands of objects that live until the
group's commit (its orders, their lines, events and payments, the snapshot's figures).
The collector counts every allocation and, each few hundred, walks the young objects;
each tenth time the older ones too, and now and then the whole heap, while it holds the
GIL. Over a group that is many walks over the same live objects, none of which is
garbage yet: a measured share of an order's CPU (docs/performance.md, "Paid orders in
intake groups and the collector"). While a group is placed the collector waits; what the
group left behind is collected once it is done, as it would have been later.

Reference counting goes on as always (most objects are freed by it the moment they are
dropped); only the search for reference cycles waits. Several threads may place groups at
once: the collector is held off while any of them is inside, and set back as it was
found (it stays off when something else had turned it off). Under steady load the groups
of a worker's writer threads overlap, so that moment may not come for long: a group that
ends after the collector has waited ``MOST_PAUSED_SECONDS`` collects once (what the
waiting left behind) and the wait starts over, so the cycles left uncollected stay
bounded, whatever the load.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["MOST_PAUSED_SECONDS", "collector_paused"]

MOST_PAUSED_SECONDS = 1.0
"""The longest the collector waits without a collection while groups keep overlapping."""

_lock = threading.Lock()
_inside = 0
_was_enabled = False
_paused_at = 0.0


@contextmanager
def collector_paused(*, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Hold off the cyclic garbage collector for the block (see the module's docstring)."""
    global _inside, _was_enabled, _paused_at
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            _paused_at = clock()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        collect = False
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
            elif _was_enabled and clock() - _paused_at >= MOST_PAUSED_SECONDS:
                _paused_at = clock()
                collect = True
        if collect:  # outside the lock: other groups may start and end meanwhile
            gc.collect()
