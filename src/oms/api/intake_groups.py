"""Order intake in groups: orders that arrive while earlier ones are being placed go
together (``oms.services.intake_group``).

A worker writes at most ``writers`` groups at once, each in a thread of its own with its
own connection. An order that finds nothing being placed starts a group at once, so on a
quiet worker no order waits. A group is placed in two parts: its orders are placed in
Python against the group's reads, then written (a few statements and a commit, mostly
the database's work). While a group is in its first part, the orders that arrive wait:
they start another group (on a free writer) only once half a group has gathered
(``max_size // 2``, at least 2). Once it writes, they start the next group at once, so
that group's Python part runs while the database writes the first. The busier the
worker, the bigger the groups and the fewer statements, commits and thread hand-offs per
order.

Measured (docs/performance.md): starting the next group as soon as two orders waited made
groups of two the commonest size under the benchmark's load (a fifth of the orders), at
about twice the CPU per order of a group of ten; waiting for half a group took the same
load from 313-377 to 433-489 orders/s. Waiting only while a group is in its first part
kept the machine busier (82-85% -> 89-93% of both cores in four of five interleaved runs).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio.to_thread

from oms.services.intake import PlacedOrder
from oms.services.intake_group import Outcome, Submission

__all__ = ["IntakeGroups"]

# Places a group; calls its second argument (from the placing thread) once it writes.
PlaceGroup = Callable[[Sequence[Submission], Callable[[], None]], list[Outcome]]


@dataclass
class _Group:
    orders: list[tuple[Submission, asyncio.Future[Outcome]]]
    placing: bool = True  # not writing yet


class IntakeGroups:
    def __init__(self, place: PlaceGroup, *, writers: int, max_size: int) -> None:
        if writers < 1 or max_size < 1:
            raise ValueError("writers and max_size must be at least 1")
        self._place = place
        self._writers = writers
        self._max_size = max_size
        # While a group is being placed, the waiting orders start another once this many wait.
        self._company = max(2, max_size // 2)
        self._writing = 0  # groups on a writer
        self._placing = 0  # of which not writing yet
        self._waiting: list[tuple[Submission, asyncio.Future[Outcome]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def place(self, submission: Submission) -> PlacedOrder:
        """Place the order with the next group; raises what placing it raised.

        A caller that goes away meanwhile does not take its order out of the group: the
        order is placed (and found again by its external id or key, if it had one).
        """
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((submission, future))
        self._start()
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _start(self) -> None:
        while self._writing < self._writers and self._waiting:
            if self._placing and len(self._waiting) < self._company and self._max_size > 1:
                # A group is being placed: these orders wait for more company, or for it to
                # write or a writer to come free, rather than go as a small group now.
                return
            group = _Group(self._waiting[: self._max_size])
            del self._waiting[: self._max_size]
            self._writing += 1
            self._placing += 1
            task = asyncio.get_running_loop().create_task(self._write(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _placed(self, group: _Group) -> None:
        """``group`` writes, or is done: the waiting orders need not wait for it."""
        if group.placing:
            group.placing = False
            self._placing -= 1
        self._start()

    async def _write(self, group: _Group) -> None:
        loop = asyncio.get_running_loop()

        def writes() -> None:  # in the placing thread
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(self._placed, group)

        submissions = [s for s, _ in group.orders]
        try:
            outcomes = await anyio.to_thread.run_sync(self._place, submissions, writes)
        except Exception as error:  # the whole group failed (e.g. its commit): each caller hears
            for _, future in group.orders:
                if not future.done():
                    future.set_exception(error)
        else:
            for (_, future), outcome in zip(group.orders, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
        finally:
            self._writing -= 1
            self._placed(group)
