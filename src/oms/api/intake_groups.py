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

Orders also wait for the answers of a big group (``linger``, ``OMS_INTAKE_GROUP_WAIT_MS``).
A group of at least a quarter of ``max_size`` (at least 2) means busy callers, and callers
answered usually send their next order within milliseconds. So while such a group is
written, fewer orders than that wait for it to be answered rather than go as a small
group; and once it is answered, the orders that wait (with nothing being placed) wait up
to ``linger`` seconds for as many orders as that group and they were, then go together.
Without this, a worker under steady load kept a group of one or two beside each big group:
a caller answered apart from the others stays apart (its order waits while theirs are
placed, and goes alone when they write), at several times the CPU per order.

Why these rules and not simpler ones (figures in docs/performance.md, items 9, 14 and 16):
starting the next group as soon as two orders waited made small groups the commonest,
each costing more per order than a big one; waiting only while a group is in its first
part keeps the cores busier; waiting for a big group's callers ends the groups of one
that otherwise follow every big group.
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
    big: bool = False  # its callers' next orders are awaited (see the module's docstring)


class IntakeGroups:
    def __init__(
        self, place: PlaceGroup, *, writers: int, max_size: int, linger: float = 0.0
    ) -> None:
        if writers < 1 or max_size < 1 or linger < 0:
            raise ValueError("writers and max_size must be at least 1, linger not negative")
        self._place = place
        self._writers = writers
        self._max_size = max_size
        # While a group is being placed, the waiting orders start another once this many wait.
        self._company = max(2, max_size // 2)
        # A group this big is followed by its callers' next orders: smaller ones wait for them.
        self._big = max(2, max_size // 4)
        self._linger = linger
        self._big_writing = 0  # big groups written now
        self._expected = 0  # orders awaited after the last big group was answered ...
        self._until = 0.0  # ... until this time of the event loop
        self._timer: asyncio.TimerHandle | None = None
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

    def _start(self, *, lingered: bool = False) -> None:
        while self._writing < self._writers and self._waiting:
            if self._placing and len(self._waiting) < self._company and self._max_size > 1:
                # A group is being placed: these orders wait for more company, or for it to
                # write or a writer to come free, rather than go as a small group now.
                return
            if not lingered and self._awaits_answers():
                return
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            group = _Group(self._waiting[: self._max_size])
            group.big = self._linger > 0 and len(group.orders) >= self._big
            del self._waiting[: self._max_size]
            self._writing += 1
            self._placing += 1
            task = asyncio.get_running_loop().create_task(self._write(group))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _awaits_answers(self) -> bool:
        """Whether the waiting orders wait for a big group's callers (module docstring);
        a wait after its answers gets a timer that ends it."""
        if self._placing:  # half a group waits: it goes (see _start)
            return False
        waiting = len(self._waiting)
        if self._big_writing and waiting < self._big:
            return True  # it is written: wait for its answers (a writer's time, at most)
        loop = asyncio.get_running_loop()
        if waiting >= self._expected or loop.time() >= self._until:
            return False
        if self._timer is None:
            self._timer = loop.call_at(self._until, self._linger_over)
        return True

    def _linger_over(self) -> None:
        self._timer = None
        self._start(lingered=True)

    def _placed(self, group: _Group, *, answered: bool = False) -> None:
        """``group`` writes, or is answered: the waiting orders need not wait for it."""
        if group.placing:
            group.placing = False
            self._placing -= 1
            if group.big:
                self._big_writing += 1
        if answered and group.big:
            self._big_writing -= 1
            # Its callers' next orders, and those already waiting, are awaited together.
            self._expected = min(self._max_size, len(group.orders) + len(self._waiting))
            self._until = asyncio.get_running_loop().time() + self._linger
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
            self._placed(group, answered=True)
