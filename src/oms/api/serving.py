"""Running the API under uvicorn: workers that share their connections evenly, and a
supervisor that is patient with workers a busy host slows.

uvicorn's ``--workers N`` binds one socket in the parent and hands the same socket to every
worker; whichever worker wakes first accepts all the connections waiting. Clients that keep
their connections open (load balancers, the API clients of a store, ``bench/intake.py``)
then stay where they landed: in bench/intake.py's runs, all 32 connections went to one of
the two workers in some runs and the other worker idled (docs/performance.md). Sockets of
their own bound with ``SO_REUSEPORT`` (which this module gave the workers before) let the
kernel spread connections by a hash of their addresses, which split a handful of them
unevenly as often as not, and the fuller worker's requests waited longer (docs/performance.md,
the seventh session of 2026-12-07).

Here the parent binds and listens (so a port in use fails at once, and port 0 picks one
port for all), and the workers share its socket, each accepting from it only while no other
worker holds fewer open connections (``oms.api.connection_balance``): 8 connections land 4
and 4. A worker still starting accepts none (connections wait in the backlog, or go to the
workers that have started). Off POSIX systems uvicorn's one shared socket is passed as is.
With one worker, uvicorn runs as it always does.

uvicorn's supervisor pings each worker every half second and kills one that does not answer
within 5 seconds, starting or not; a worker answers from a thread it starts only once its
process has started and unpickled what the parent sent it. On a busy host that takes longer
than 5 seconds, so each new worker was killed before it could answer, and the next one too
(25 in a row in one review, the other worker serving alone for four minutes), each logged
only as "died". ``WorkerSupervisor`` keeps one ping in flight per worker and waits
``STARTUP_GRACE`` seconds for a new worker's first answer and ``SILENCE_LIMIT`` seconds for
later ones before it kills the worker, and it logs why each worker it replaces went: its
exit code or signal, or how long it was silent; it clears a worker's row of the connection
table once it has reaped the worker, so the others do not wait for it. (What a worker
imports before it can answer is kept small as well: ``oms.cli``, ``oms.api.http_protocol``
and ``oms.api.connection_balance`` load no framework.)
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from oms.api.http_protocol import HttpProtocol

if TYPE_CHECKING:  # fcntl, which it needs, is POSIX only
    from oms.api.connection_table import ConnectionTable

__all__ = [
    "SILENCE_LIMIT",
    "STARTUP_GRACE",
    "WorkerSupervisor",
    "WorkerWatch",
    "balances_workers",
    "how_a_worker_ended",
    "serve",
]

log = logging.getLogger("uvicorn.error")


def balances_workers() -> bool:
    """Whether the workers share their connections evenly here (POSIX systems; tested on
    Linux): shared memory, record locks and a socket passed to each worker."""
    return os.name == "posix"


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
        table: ConnectionTable | None = None,
    ) -> None:
        super().__init__(config, sockets)
        self.table = table  # the workers' connection table, if they share connections
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
            if self.table is not None and process.pid is not None:
                self.table.forget(process.pid)  # the other workers need not wait for it
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
    it); with several workers, supervised by ``WorkerSupervisor``, sharing one socket and
    its connections evenly (``oms.api.connection_balance``)."""
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
    options["timeout_worker_healthcheck"] = int(STARTUP_GRACE)
    if not balances_workers():
        config = uvicorn.Config(app, **options)
        _supervise(config, config.bind_socket())
        return
    from oms.api.connection_balance import SharedListener
    from oms.api.connection_table import ConnectionTable

    # The workers run on a loop whose create_server, given the shared socket, accepts in
    # turn with the others (oms.api.connection_balance).
    config = uvicorn.Config(app, **options, loop="oms.api.connection_balance:new_event_loop")
    # Rows for the workers, their replacements starting beside them, and a few more.
    table = ConnectionTable.create(rows=2 * workers + 2)
    try:
        listener = SharedListener.bind_to(host, port, backlog=config.backlog, table=table)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)
    log.info(
        "Uvicorn running on http://%s:%d (%d workers sharing its connections evenly)",
        host,
        listener.getsockname()[1],
        workers,
    )
    try:
        _supervise(config, listener, table)
    finally:
        table.close()


def _supervise(
    config: uvicorn.Config, listener: socket.socket, table: ConnectionTable | None = None
) -> None:
    try:
        WorkerSupervisor(config, sockets=[listener], table=table).run()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
