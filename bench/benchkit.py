"""What the HTTP benchmarks share: the ``oms`` processes, scratch databases and CPU accounting.

``bench/intake.py`` and ``bench/fulfilment.py`` import it as ``benchkit`` (they run as
``python bench/<name>.py``, so this folder is on ``sys.path``). Every benchmark creates its
own database on a loopback PostgreSQL server, runs ``oms db upgrade`` and ``oms tenant
create`` against it with :func:`run_oms`, starts ``oms serve`` in its own process group with
:func:`start_server`, waits for ``/readyz`` with :func:`wait_ready`, measures (optionally with
a :class:`CpuMeter`) and stops the server with :func:`stop_server`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import httptools
import psycopg

__all__ = [
    "BIN",
    "CLOCK_TICKS",
    "OMS",
    "REQUEST_TIMEOUT",
    "ROOT",
    "SERVER_START_TIMEOUT",
    "CpuMeter",
    "CpuUse",
    "KeepAlive",
    "api_headers",
    "database_url",
    "drop_database",
    "free_port",
    "json_body",
    "listening_sockets",
    "percentile",
    "recreate_database",
    "run_oms",
    "start_server",
    "stop_server",
    "wait_ready",
]

ROOT = Path(__file__).resolve().parent.parent
"""The project root: the working directory of ``oms serve``."""
BIN = Path(sys.executable).parent
"""The scripts folder of the running interpreter (the project's ``.venv/bin``)."""
OMS = str(BIN / "oms")
"""The ``oms`` command of that environment."""
SERVER_START_TIMEOUT = 60.0
"""Seconds :func:`wait_ready` waits for ``/readyz`` unless told otherwise."""
REQUEST_TIMEOUT = 60.0
"""Seconds one HTTP request of a benchmark may take."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
"""Clock ticks per second, the unit of the CPU times in ``/proc``."""


# --- CPU accounting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent during a phase, by whom."""

    server: float
    postgres: float
    client: float
    other: float


_Snapshot = tuple[dict[int, float], dict[int, float], float, float]


class CpuMeter:
    """CPU used by the server's process group, the PostgreSQL backends of ``database``, this
    client and the rest of the machine between ``start`` and ``stop`` (Linux ``/proc``; else
    None).

    A backend counts when its command line names ``database``; only the backends still alive
    at ``stop`` are counted, so the PostgreSQL figure is a lower bound.
    """

    def __init__(self, server_group: int, database: str) -> None:
        self.server_group = server_group
        self.database = database
        self._start: _Snapshot | None = None

    @staticmethod
    def _stat(pid: str) -> tuple[int, float] | None:
        """(process group, user + system CPU seconds) of a process."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def _snapshot(self) -> _Snapshot:
        server: dict[int, float] = {}
        postgres: dict[int, float] = {}
        marker = f" {self.database} ".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            stat = self._stat(entry.name)
            if stat is None:
                continue
            group, seconds = stat
            if group == self.server_group:
                server[int(entry.name)] = seconds
                continue
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres: ") and marker in command:
                postgres[int(entry.name)] = seconds
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS  # all but idle and iowait
        return server, postgres, time.process_time(), busy

    def start(self) -> None:
        self._start = self._snapshot() if Path("/proc/stat").exists() else None

    def stop(self) -> CpuUse | None:
        if self._start is None:
            return None
        before, after = self._start, self._snapshot()

        def spent(start: dict[int, float], end: dict[int, float]) -> float:
            return sum(seconds - start.get(pid, 0.0) for pid, seconds in end.items())

        server = spent(before[0], after[0])
        postgres = spent(before[1], after[1])
        client = after[2] - before[2]
        other = max(0.0, after[3] - before[3] - server - postgres - client)
        return CpuUse(server=server, postgres=postgres, client=client, other=other)


# --- databases ---------------------------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    """``server_url`` with its database replaced by ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (closing its connections) if it exists, and create it empty."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (closing its connections) if it exists."""
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the oms processes -------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_oms(args: Sequence[str], env: dict[str, str], timeout: float = 120) -> str:
    """``oms *args``'s standard output; RuntimeError with its standard error if it fails."""
    done = subprocess.run(
        [OMS, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"oms {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """``oms serve`` in its own process group, so it and its workers can be stopped together."""
    return subprocess.Popen(
        [OMS, "serve", "--workers", str(workers), "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group; SIGKILL it if it has not exited after 15 s."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    except ProcessLookupError:
        pass


async def wait_ready(
    base: str, server: subprocess.Popen[bytes], timeout: float = SERVER_START_TIMEOUT
) -> None:
    """Poll ``{base}/readyz`` until it answers 200 and every worker of ``server`` accepts;
    RuntimeError if the server exits first or is not ready after ``timeout`` seconds.

    A worker accepts once it has started (its warm-up included, ``oms.api.app``). The first
    answer comes from the first worker up: connections opened before the others accept
    would all go to it."""
    deadline = time.monotonic() + timeout
    port = urlsplit(base).port
    workers = _workers_of(server)
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"oms serve exited with code {server.returncode}")
            try:
                async with session.get(f"{base}/readyz") as response:
                    if response.status == 200 and (
                        port is None or workers_accepting(server.pid, port) >= workers
                    ):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"oms serve not ready after {timeout:.0f}s")


def _workers_of(server: subprocess.Popen[bytes]) -> int:
    """The ``--workers`` of an ``oms serve`` started by :func:`start_server` (1 elsewhere
    or off Linux, where nothing here can tell the workers apart)."""
    args = [str(arg) for arg in cast(Sequence[Any], server.args)]
    if sys.platform != "linux" or "--workers" not in args:
        return 1
    return int(args[args.index("--workers") + 1])


def workers_accepting(server_pid: int, port: int) -> int:
    """How many workers of the ``oms serve`` whose parent is ``server_pid`` accept: their
    rows in its connection table (``oms.api.connection_table``). With the code before that
    table (``PYTHONPATH`` at an older checkout, for a "before" figure), whose workers had a
    socket each (``SO_REUSEPORT``): the sockets listening on ``port``."""
    try:
        from oms.api.connection_table import server_table
    except ImportError:
        return listening_sockets(port)
    return len(server_table(server_pid) or [])


def listening_sockets(port: int) -> int:
    """How many TCP sockets of this machine listen on ``port`` (``/proc/net/tcp``)."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    # local address "ADDR:PORT" in hex; state 0A is LISTEN
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                        found += 1
        except OSError:
            continue
    return found


# --- HTTP and figures --------------------------------------------------------------------------


class KeepAlive(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends prepared requests one at a time.

    The load generators share the machine with the server and PostgreSQL, so every CPU
    millisecond they spend is one the measured system does not get. aiohttp builds and
    parses headers and runs its session machinery for every request; this client sends
    bytes prepared before the clock starts and parses each answer with httptools (the
    parser uvicorn uses), for a fraction of the CPU (docs/performance.md, item 10).
    Use :meth:`open`, then :meth:`send` for each request, then :meth:`close`.
    """

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self._lost: Exception | None = None

    @classmethod
    async def open(cls, base: str) -> KeepAlive:
        """A connection to the server of ``base`` (``http://host:port``)."""
        address = urlsplit(base)
        if address.hostname is None or address.port is None:
            raise ValueError(f"no host and port in {base!r}")
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, address.hostname, address.port)
        return protocol

    @staticmethod
    def request(method: str, base: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        """The bytes of one request with a body, for :meth:`send`."""
        host = urlsplit(base).netloc
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    @property
    def closed(self) -> bool:
        return self._lost is not None or self._transport is None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one prepared request; its status and body. ConnectionError when the
        connection closes before the answer (the caller opens another)."""
        if self.closed or self._transport is None:
            raise ConnectionError("the connection is closed") from self._lost
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._answer

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # asyncio.Protocol and httptools callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's does not subclass asyncio.Transport).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"bad HTTP answer: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError("the server closed the connection"))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer, self._answer = self._answer, None
        body, self._body = b"".join(self._body), []
        if answer is not None and not answer.done():
            answer.set_result((self._parser.get_status_code(), body))

    def _fail(self, error: Exception) -> None:
        self._lost = error
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(error)


def api_headers(api_key: str) -> dict[str, str]:
    """The headers of every API request: the key and a JSON body."""
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


def json_body(value: Any) -> bytes:
    """``value`` as compact JSON bytes, ready to send."""
    return json.dumps(value, separators=(",", ":")).encode()


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
