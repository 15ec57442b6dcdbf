"""Spreading ``oms serve``'s connections evenly over its workers.

The workers share one listening socket, which the parent binds and listens on (as uvicorn's
``--workers`` does). uvicorn's own accept takes every connection waiting whenever its worker
wakes, and a kernel that spreads connections over several sockets (``SO_REUSEPORT``) does
so by a hash of their addresses: either way a handful of kept-alive connections (a load
balancer's pool, a store's API clients, a benchmark's) could land mostly on one worker, and
the fuller worker's requests then queue behind each other.

Here each worker accepts from the shared socket itself, one connection at a time, and only
while no other worker holds fewer open connections (``may_accept``): connections opened one
after another go to the workers in turn, and a burst is dealt out so that no worker holds
more than one more than another. A worker that holds more takes the socket out of its event
loop for ``NAP`` seconds and then looks again; the connection waits in the listen backlog
meanwhile, and the worker holding fewest takes it. Nothing is refused or dropped.

The counts live in a small table in shared memory (``oms.api.connection_table``) that the
parent creates and hands to each worker with its socket. A worker claims a row once it has
started (its warm-up done); only it writes the row: its pid, its open connections (counted
from their accept to their ``connection_lost``) and when it last checked in (every
``HEARTBEAT`` seconds). The others only read it. A worker that has not checked in for
``STALE_AFTER`` seconds (stopped, or hung until its supervisor kills it) is left out, so the
others take the new connections meanwhile; the limit is generous because a busy worker on a
loaded host can miss several check-ins (its first requests, say, before anything is warm).
The supervisor clears the row of a worker that died as soon as it has reaped it
(``oms.api.serving``); a worker still starting has no row and is not waited for either; a
worker that stops leaves the table first.

The socket is shared, not one per worker, because a connection the kernel has queued on one
worker's own socket can only be accepted by that worker: a worker that held back would
leave its queue waiting, and closing its socket would reset what is queued there.

uvicorn hands each worker's sockets to its event loop's ``create_server``. The workers run
on a loop from ``new_event_loop`` (uvloop's, or asyncio's where uvloop is missing; uvicorn's
``loop`` setting names it), whose ``create_server``, given a ``SharedListener``, starts a
``BalancedAcceptor`` and returns it in place of a server; uvicorn closes it at shutdown as it
closes a server. Everything else (the protocol, the connections' shutdown) is uvicorn's.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from multiprocessing.reduction import DupFd
from typing import Any

from oms.api.connection_table import ConnectionTable

__all__ = [
    "HEARTBEAT",
    "NAP",
    "STALE_AFTER",
    "BalancedAcceptor",
    "SharedListener",
    "may_accept",
    "new_event_loop",
]

log = logging.getLogger("uvicorn.error")

HEARTBEAT = 0.25  # seconds between a worker's check-ins in the table
STALE_AFTER = 5.0  # seconds after its last check-in a worker is no longer waited for
NAP = 0.002  # seconds a worker holding more than another leaves the socket alone
_FULL_NAP = 1.0  # after the process ran out of file descriptors (asyncio waits as long)


def may_accept(mine: int, others: Iterable[int]) -> bool:
    """Whether a worker holding ``mine`` open connections takes the next one, given the
    open connections of the other workers that accept: when none of them holds fewer."""
    return all(mine <= theirs for theirs in others)


class SharedListener(socket.socket):
    """The listening socket the workers share, carrying the table their counts go in.

    The parent binds it and listens, so a connection that comes before any worker accepts
    waits in the backlog. A worker unpickles it as the same socket (a copy of the
    descriptor) with the same table."""

    table: ConnectionTable

    @classmethod
    def bind_to(
        cls, host: str, port: int, *, backlog: int, table: ConnectionTable
    ) -> SharedListener:
        """Bound to ``(host, port)`` (port 0 picks a free one) and listening. Raises
        ``OSError`` when the address is taken.

        The protocol is given as TCP: asyncio turns Nagle's algorithm off only on
        connections accepted from a socket that says it is TCP."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(backlog)
        except OSError:
            listener.close()
            raise
        listener.table = table
        return listener

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _shared_listener, (DupFd(self.fileno()), int(self.family), self.table)


def _shared_listener(dup: Any, family: int, table: ConnectionTable) -> SharedListener:
    listener = SharedListener(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, dup.detach())
    listener.table = table
    return listener


class BalancedAcceptor:
    """One worker's accepting from a ``SharedListener``: one connection at a time while
    ``may_accept`` says so, each handed to ``protocol_factory``'s protocol on ``loop``.

    It stands in for the ``asyncio.Server`` that uvicorn keeps (``close``, ``wait_closed``).
    ``clock`` gives ``time.monotonic`` seconds; ``pid`` names the worker in the table.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        listener: SharedListener,
        *,
        ssl: Any = None,
        clock: Callable[[], float] = time.monotonic,
        pid: int | None = None,
    ) -> None:
        self._loop = loop
        self._factory = protocol_factory
        self._listener = listener
        self._table = listener.table
        self._ssl = ssl
        self._clock = clock
        self._pid = os.getpid() if pid is None else pid
        self.connections = 0  # open: from their accept to their connection_lost
        self._row: int | None = None
        self._watching = False
        self._closed = False
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._opening: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Claim a row of the table and start accepting."""
        self._listener.setblocking(False)
        self._row = self._table.claim(self._pid, self._clock())
        if self._row is None:
            log.warning(
                "Worker [%d]: every row of the connection table is taken; it accepts "
                "connections without balancing them",
                self._pid,
            )
        self._check_in()
        self._watch()

    def may_accept(self) -> bool:
        """Whether this worker takes the next connection now (see ``may_accept``)."""
        if self._row is None:
            return True
        since = self._clock() - STALE_AFTER
        return may_accept(self.connections, self._table.others(self._row, since=since))

    # uvicorn's side: what it calls on the server it keeps

    def is_serving(self) -> bool:
        return not self._closed

    def close(self) -> None:
        """Stop accepting and leave the table (the connections open stay uvicorn's)."""
        if self._closed:
            return
        self._closed = True
        self._unwatch()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._row is not None:
            self._table.release(self._row)
            self._row = None

    async def wait_closed(self) -> None:
        if self._opening:
            await asyncio.wait(list(self._opening))

    # Accepting

    def _watch(self) -> None:
        if not self._watching and not self._closed:
            self._loop.add_reader(self._listener.fileno(), self._readable)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._listener.fileno())
            self._watching = False

    def _later(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        def run() -> None:
            self._timers.pop(name, None)
            callback()

        self._timers[name] = self._loop.call_later(delay, run)

    def _readable(self) -> None:
        """A connection waits in the backlog: take it, one at a time while this worker
        may, or leave it to a worker holding fewer and look again after a nap."""
        while not self._closed:
            if not self.may_accept():
                self._unwatch()
                self._later("nap", NAP, self._watch)
                return
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # another worker took it
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    raise
                log.error("Worker [%d] cannot accept a connection: %s", self._pid, error)
                self._unwatch()
                self._later("nap", _FULL_NAP, self._watch)
                return
            self._open(connection)

    def _open(self, connection: socket.socket) -> None:
        connection.setblocking(False)
        self.connections += 1
        self._publish()
        task = self._loop.create_task(self._serve(connection))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _serve(self, connection: socket.socket) -> None:
        closed = False

        def lost() -> None:
            nonlocal closed
            if not closed:
                closed = True
                self._lost()

        def protocol() -> asyncio.BaseProtocol:
            made = self._factory()
            its_own = made.connection_lost

            def connection_lost(exc: Exception | None) -> None:
                try:
                    its_own(exc)
                finally:
                    lost()

            made.connection_lost = connection_lost  # type: ignore[method-assign]
            return made

        options = {} if self._ssl is None else {"ssl": self._ssl}
        try:
            await self._loop.connect_accepted_socket(protocol, connection, **options)
        except Exception as error:  # the client went away before its connection was made
            log.debug("Worker [%d]: a connection ended as it opened: %r", self._pid, error)
            connection.close()
            lost()

    def _lost(self) -> None:
        self.connections -= 1
        self._publish()

    # The table

    def _publish(self) -> None:
        if self._row is not None:
            self._table.write(
                self._row, pid=self._pid, connections=self.connections, now=self._clock()
            )

    def _check_in(self) -> None:
        self._publish()
        if not self._closed:
            self._later("check-in", HEARTBEAT, self._check_in)


class _BalancingLoop:
    """The mixin of ``new_event_loop``'s loop: ``create_server`` on a ``SharedListener``
    starts a ``BalancedAcceptor``; anything else is the loop's own."""

    async def create_server(self, protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
        sock = kwargs.get("sock")
        if isinstance(sock, SharedListener):
            loop: Any = self
            acceptor = BalancedAcceptor(loop, protocol_factory, sock, ssl=kwargs.get("ssl"))
            acceptor.start()
            return acceptor
        return await super().create_server(protocol_factory, *args, **kwargs)  # type: ignore[misc]


@functools.cache
def _loop_class() -> type[asyncio.AbstractEventLoop]:
    base: type[asyncio.AbstractEventLoop]
    try:
        import uvloop

        base = uvloop.Loop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        base = asyncio.SelectorEventLoop
    return type("BalancingLoop", (_BalancingLoop, base), {})


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop with ``_BalancingLoop``'s ``create_server``: uvloop's, else asyncio's."""
    return _loop_class()()
