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
found (it stays off when something else had turned it off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector for the block (see the module's docstring)."""
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
