"""Running the API under uvicorn, with a listening socket per worker where the kernel
balances connections between them.

uvicorn's ``--workers N`` binds one socket in the parent and hands the same socket to every
worker; whichever worker wakes first accepts all the connections waiting. Clients that keep
their connections open (load balancers, the API clients of a store, ``bench/intake.py``)
then stay where they landed: in bench/intake.py's runs, all 32 connections went to one of
the two workers in some runs and the other worker idled (docs/performance.md).

On Linux each worker gets a socket of its own instead, bound to the same address with
``SO_REUSEPORT``: the kernel spreads new connections over the workers' sockets by a hash of
each connection's addresses. uvicorn still supervises the workers (restarts, signals,
health checks); only the socket it passes them changes. The parent binds the address first
(so a port in use fails at once, and port 0 picks one port for all), and never listens on
it; a bound socket that does not listen gets no connections. Elsewhere (macOS and the BSDs
do not balance such sockets) and with one worker, uvicorn runs as it always does.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any, TypeVar

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from oms.api.http_protocol import CoalescingHttpToolsProtocol

__all__ = ["WorkerListener", "balances_workers", "listener_at", "serve"]

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


def serve(app: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the ASGI application factory at import path ``app``: ``uvicorn.run``, with a
    socket per worker where the kernel balances them."""
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "access_log": log_level == "debug",
        "http": CoalescingHttpToolsProtocol,
    }
    if workers == 1 or not balances_workers():
        uvicorn.run(app, **options)
        return
    config = uvicorn.Config(app, **options)  # configures uvicorn's logging
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
    try:
        Multiprocess(config, sockets=[listener]).run()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
