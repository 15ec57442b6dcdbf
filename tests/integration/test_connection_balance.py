"""``oms serve``'s workers share their connections evenly (``oms.api.connection_balance``):
here two acceptors on one event loop stand for two workers, sharing one listening socket on
loopback and one table, each with a row of its own."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, closing
from typing import Any

import pytest

from oms.api.connection_balance import STALE_AFTER, BalancedAcceptor, SharedListener, may_accept
from oms.api.connection_table import ConnectionTable


class _Clock:
    """``time.monotonic`` as the test sets it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class _Kept(asyncio.Protocol):
    """A connection the server keeps open, listed by the acceptor that made it."""

    def __init__(self, held: list[_Kept]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.held.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.held.remove(self)


class _Worker:
    """One acceptor with its own descriptor of the shared socket, as a worker has."""

    def __init__(self, listener: SharedListener, clock: _Clock, pid: int) -> None:
        own = SharedListener(
            listener.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, os.dup(listener.fileno())
        )
        own.table = listener.table
        self.socket = own
        self.held: list[_Kept] = []
        loop = asyncio.get_running_loop()
        self.acceptor = BalancedAcceptor(loop, lambda: _Kept(self.held), own, clock=clock, pid=pid)

    def close(self) -> None:
        self.acceptor.close()
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[SharedListener]:
    table = ConnectionTable.create(rows=4)
    shared = SharedListener.bind_to("127.0.0.1", 0, backlog=64, table=table)
    yield shared
    shared.close()
    table.close()


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``condition`` holds (a bounded number of short turns)."""
    for _ in range(5_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{what}: not reached")


def _connect(listener: SharedListener, stack: ExitStack) -> socket.socket:
    client = socket.create_connection(listener.getsockname()[:2])
    return stack.enter_context(closing(client))


def _run(
    listener: SharedListener, scenario: Callable[[list[_Worker], _Clock], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        clock = _Clock()
        workers = [_Worker(listener, clock, pid) for pid in (101, 102)]
        try:
            for worker in workers:
                worker.acceptor.start()
            return await scenario(workers, clock)
        finally:
            for worker in workers:
                worker.close()

    return asyncio.run(main())


def test_a_worker_takes_the_next_connection_unless_another_holds_fewer() -> None:
    assert may_accept(3, [3, 4])
    assert may_accept(0, [])
    assert not may_accept(4, [3])
    assert not may_accept(2, [5, 1])


def test_connections_opened_one_after_another_go_to_the_workers_in_turn(
    listener: SharedListener,
) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> list[int]:
        with ExitStack() as stack:
            for opened in range(1, 9):
                _connect(listener, stack)
                await _until(lambda n=opened: sum(len(w.held) for w in workers) == n, "made")
                counts = [len(w.held) for w in workers]
                assert max(counts) - min(counts) <= 1, counts
            return [len(w.held) for w in workers]

    assert _run(listener, scenario) == [4, 4]


def test_a_burst_of_connections_is_dealt_out_evenly(listener: SharedListener) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> list[int]:
        with ExitStack() as stack:
            for _ in range(9):  # all waiting in the backlog before either worker looks
                _connect(listener, stack)
            await _until(lambda: sum(len(w.held) for w in workers) == 9, "all made")
            return sorted(len(w.held) for w in workers)

    assert _run(listener, scenario) == [4, 5]


def test_the_table_counts_each_workers_open_connections_until_they_close(
    listener: SharedListener,
) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> list[dict[int, int]]:
        seen = []
        with ExitStack() as stack:
            for _ in range(3):
                _connect(listener, stack)
            await _until(lambda: sum(len(w.held) for w in workers) == 3, "all made")
            seen.append({row.pid: row.connections for row in listener.table.claimed()})
        await _until(lambda: not any(w.held for w in workers), "all closed")
        seen.append({row.pid: row.connections for row in listener.table.claimed()})
        return seen

    opened, closed = _run(listener, scenario)

    assert sorted(opened.values()) == [1, 2]
    assert set(opened) == {101, 102}
    assert closed == {101: 0, 102: 0}


def test_a_worker_ahead_leaves_a_connection_waiting_for_the_one_behind(
    listener: SharedListener,
) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> tuple[bool, list[int]]:
        ahead, behind = workers
        behind.acceptor.close()  # as if it stopped accepting for good...
        row = listener.table.claim(102, clock())  # ...but kept its row, checking in
        assert row is not None
        with ExitStack() as stack:
            _connect(listener, stack)
            await _until(lambda: len(ahead.held) == 1, "the first made")
            _connect(listener, stack)
            await asyncio.sleep(0.05)  # naps: the second waits in the backlog
            waited = len(ahead.held) == 1 and not ahead.acceptor.may_accept()
            listener.table.write(row, pid=102, connections=1, now=clock())  # it caught up
            await _until(lambda: len(ahead.held) == 2, "the second made")
            return waited, [len(w.held) for w in workers]

    waited, counts = _run(listener, scenario)

    assert waited
    assert counts == [2, 0]


def test_a_worker_that_stopped_checking_in_is_not_waited_for(listener: SharedListener) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> list[int]:
        live, stopped = workers
        stopped.acceptor.close()
        row = listener.table.claim(102, clock())  # holds no connection, accepts none
        assert row is not None
        with ExitStack() as stack:
            _connect(listener, stack)
            _connect(listener, stack)
            await _until(lambda: len(live.held) == 1, "the first made")
            assert not live.acceptor.may_accept()
            clock.now += STALE_AFTER + 0.5  # its check-ins stopped; the live one's go on
            await _until(lambda: len(live.held) == 2, "the second made")
            return [len(live.held), len(stopped.held)]

    assert _run(listener, scenario) == [2, 0]


def test_a_worker_that_stops_leaves_the_table_and_the_other_takes_every_connection(
    listener: SharedListener,
) -> None:
    async def scenario(workers: list[_Worker], clock: _Clock) -> tuple[set[int], list[int]]:
        staying, leaving = workers
        leaving.acceptor.close()
        left = {row.pid for row in listener.table.claimed()}
        with ExitStack() as stack:
            for _ in range(3):
                _connect(listener, stack)
            await _until(lambda: len(staying.held) == 3, "all made")
            return left, [len(w.held) for w in workers]

    left, counts = _run(listener, scenario)

    assert left == {101}
    assert counts == [3, 0]


def test_rows_are_claimed_once_each_and_a_full_table_says_so() -> None:
    table = ConnectionTable.create(rows=2)
    try:
        first, second = table.claim(1, 5.0), table.claim(2, 5.0)
        full = table.claim(3, 5.0)
        assert first is not None
        table.release(first)
        again = table.claim(4, 6.0)

        assert {first, second} == {0, 1}
        assert full is None
        assert again == first
        assert sorted((row.pid, row.connections) for row in table.claimed()) == [(2, 0), (4, 0)]
        assert table.others(second, since=5.5) == [0]  # row 4 checked in at 6.0
        assert table.others(second, since=6.5) == []
        table.forget(4)  # its supervisor reaped it
        assert [row.pid for row in table.claimed()] == [2]
    finally:
        table.close()
