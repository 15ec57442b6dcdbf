"""Running the API under uvicorn: a listening socket per worker where the kernel balances
connections between them, and a supervisor that is patient with workers a busy host slows.

uvicorn's ``--workers N`` binds one socket in the parent and hands the same socket to every
worker; whichever worker wakes first accepts all the connections waiting. Clients that keep
their connections open (load balancers, the API clients of a store, ``bench/intake.py``)
then stay where they landed: in bench/intake.py's runs, all 32 connections went to one of
the two workers in some runs and the other worker idled (docs/performance.md).

On Linux each worker gets a socket of its own instead, bound to the same address with
``SO_REUSEPORT``: the kernel spreads new connections over the workers' sockets by a hash of
each connection's addresses. uvicorn still supervises the workers (restarts, signals); only
the socket it passes them changes. The parent binds the address first (so a port in use
fails at once, and port 0 picks one port for all), and never listens on it; a bound socket
that does not listen gets no connections. Elsewhere (macOS and the BSDs do not balance such
sockets) uvicorn's one shared socket is passed instead. With one worker, uvicorn runs as it
always does.

uvicorn's supervisor pings each worker every half second and kills one that does not answer
within 5 seconds, starting or not; a worker answers from a thread it starts only once its
process has started and unpickled what the parent sent it. On a busy host that takes longer
than 5 seconds, so each new worker was killed before it could answer, and the next one too
(25 in a row in one review, the other worker serving alone for four minutes), each logged
only as "died". ``WorkerSupervisor`` keeps one ping in flight per worker and waits
``STARTUP_GRACE`` seconds for a new worker's first answer and ``SILENCE_LIMIT`` seconds for
later ones before it kills the worker, and it logs why each worker it replaces went: its
exit code or signal, or how long it was silent. (What a worker imports before it can answer
is kept small as well: ``oms.cli`` and ``oms.api.http_protocol`` load no framework.)
"""

from __future__ import annotations

import functools
import logging
import pickle
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from oms.api.http_protocol import HttpProtocol

__all__ = [
    "SILENCE_LIMIT",
    "STARTUP_GRACE",
    "WorkerListener",
    "WorkerSupervisor",
    "WorkerWatch",
    "balances_workers",
    "how_a_worker_ended",
    "listener_at",
    "serve",
]

log = logging.getLogger("uvicorn.error")


def balances_workers() -> bool:
    """Whether this system spreads connections over sockets bound with ``SO_REUSEPORT``."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listener_at(family: int, address: tuple[Any, ...]) -> socket.socket:
    """A new TCP socket bound to ``address`` with ``SO_REUSEPORT``, not yet listening.

    The protocol is given as TCP: asyncio turns Nagle's algorithm off only on connections
    accepted from a socket that says it is TCP.
    """
    tcp = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock = _bind_reusing_port(tcp, address)
    sock.set_inheritable(True)
    return sock


_S = TypeVar("_S", bound=socket.socket)


def _bind_reusing_port(sock: _S, address: tuple[Any, ...]) -> _S:
    """``sock`` bound to ``address`` with ``SO_REUSEPORT``; closed if it cannot be."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class WorkerListener(socket.socket):
    """The parent's bound socket: each worker that unpickles it gets a new socket of its
    own on the same address (``listener_at``), which the worker then listens on.

    uvicorn passes its sockets to each worker it starts (restarts too) by pickling them.
    """

    @classmethod
    def bind_to(cls, host: str, port: int) -> WorkerListener:
        """Bound to ``(host, port)``; port 0 picks a free one. Raises ``OSError`` when the
        address is taken, also by another server that uses ``SO_REUSEPORT`` (which would
        otherwise share its connections with this one)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
            address = probe.getsockname()
        return _bind_reusing_port(cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP), address)

    def __reduce__(self) -> tuple[Any, tuple[int, tuple[Any, ...]]]:
        return listener_at, (int(self.family), self.getsockname())


STARTUP_GRACE = 120.0  # seconds a new worker may take to answer its first health check
SILENCE_LIMIT = 30.0  # seconds a worker that has answered may then leave a ping unanswered


@dataclass
class WorkerWatch:
    """One worker's health checks as its supervisor keeps them: one ping in flight at a
    time, and how long the worker has been silent (times are ``time.monotonic`` seconds)."""

    started_at: float
    answered_at: float | None = None
    pinged_at: float | None = None  # the ping in flight was sent then

    def answered(self, now: float) -> None:
        """The ping in flight was answered at ``now``."""
        self.answered_at = now
        self.pinged_at = None

    def hung(self, now: float, *, startup_grace: float, silence_limit: float) -> str | None:
        """Why the worker counts as hung at ``now``; None while it is within its limits."""
        if self.answered_at is None:
            if now - self.started_at > startup_grace:
                return f"did not answer a health check within {startup_grace:g} s of starting"
            return None
        if self.pinged_at is not None and now - self.pinged_at > silence_limit:
            return f"left a health check unanswered for {now - self.pinged_at:.0f} s"
        return None


def how_a_worker_ended(exitcode: int | None) -> str:
    """What a worker's exit code says about its end, for the log."""
    if exitcode is None:
        return "ended (exit code unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        oom = " (the kernel's out-of-memory killer sends it too)" if name == "SIGKILL" else ""
        return f"was killed by {name}{oom}"
    if exitcode == STARTUP_FAILURE:
        return f"failed to start (exit code {exitcode}; its error is logged above)"
    return f"exited with code {exitcode}"


class WorkerSupervisor(Multiprocess):
    """uvicorn's supervisor, with health checks that wait for busy workers (``WorkerWatch``)
    and a log line saying why each worker it replaces went (``how_a_worker_ended``).

    Signals, restarts and shutdown are uvicorn's. A worker that fails to start (exit code
    ``STARTUP_FAILURE``) stops the server, as in uvicorn: it would fail the same way again.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        sockets: list[socket.socket],
        *,
        startup_grace: float = STARTUP_GRACE,
        silence_limit: float = SILENCE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(config, sockets)
        self.startup_grace = startup_grace
        self.silence_limit = silence_limit
        self._clock = clock
        self._watches: dict[Process, WorkerWatch] = {}

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        now = self._clock()
        self._watches = {
            process: self._watches.get(process) or WorkerWatch(started_at=now)
            for process in self.processes
        }
        for index, process in enumerate(self.processes):
            if process.process.is_alive():
                hung = self._check(process, self._watches[process], now)
                if hung is None:
                    continue
                process.kill()
                process.join()
                log.error("Worker [%s] %s: killed it; starting another", process.pid, hung)
            else:
                process.join()
                if process.exitcode == STARTUP_FAILURE:
                    log.error(
                        "Worker [%s] %s; stopping", process.pid, how_a_worker_ended(STARTUP_FAILURE)
                    )
                    self.should_exit.set()
                    return
                ended = how_a_worker_ended(process.exitcode)
                log.error("Worker [%s] %s; starting another", process.pid, ended)
            if self.should_exit.is_set():
                return
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[index] = replacement

    def _check(self, process: Process, watch: WorkerWatch, now: float) -> str | None:
        """Take the answer to the ping in flight if it came, send the next ping if none is
        in flight, and say why the worker counts as hung (None: it does not)."""
        pipe = process.parent_conn
        try:
            if watch.pinged_at is not None and pipe.poll():
                pipe.recv()
                watch.answered(now)
            if watch.pinged_at is None:
                pipe.send(b"ping")
                watch.pinged_at = now
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            return f"broke its health-check pipe ({error!r})"
        return watch.hung(now, startup_grace=self.startup_grace, silence_limit=self.silence_limit)


def serve(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    read_timeout: float,
    max_header_bytes: int,
) -> None:
    """Serve the ASGI application factory at import path ``app``: ``uvicorn.run`` with
    ``oms.api.http_protocol``'s protocol (``read_timeout`` and ``max_header_bytes`` bound to
    it); with several workers, supervised by ``WorkerSupervisor``, each with a socket of its
    own where the kernel balances them."""
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "access_log": log_level == "debug",
        "http": functools.partial(
            HttpProtocol, read_timeout=read_timeout, max_header_bytes=max_header_bytes
        ),
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    # uvicorn's own wait for a worker's readiness (left only in its SIGHUP restarts) is as
    # patient as WorkerSupervisor's; configuring also sets up uvicorn's logging.
    config = uvicorn.Config(app, **options, timeout_worker_healthcheck=int(STARTUP_GRACE))
    if not balances_workers():
        _supervise(config, config.bind_socket())
        return
    try:
        listener = WorkerListener.bind_to(host, port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)
    log.info(
        "Uvicorn running on http://%s:%d (%d workers, a socket each: SO_REUSEPORT)",
        host,
        listener.getsockname()[1],
        workers,
    )
    _supervise(config, listener)


def _supervise(config: uvicorn.Config, listener: socket.socket) -> None:
    try:
        WorkerSupervisor(config, sockets=[listener]).run()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
