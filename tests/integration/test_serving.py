"""``oms serve --workers N``: a listening socket per worker, balanced by the kernel."""

from __future__ import annotations

import asyncio
import http.client
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import pytest

from oms.api.serving import WorkerListener, balances_workers

pytestmark = pytest.mark.skipif(
    not balances_workers(), reason="only Linux balances connections over SO_REUSEPORT sockets"
)

OMS = Path(sys.executable).with_name("oms")


def _unpickled(listener: WorkerListener) -> socket.socket:
    """What a worker gets: uvicorn pickles its sockets with multiprocessing's pickler."""
    made = ForkingPickler.loads(bytes(ForkingPickler.dumps(listener)))
    assert isinstance(made, socket.socket)
    return made


def _accept_all(listeners: list[socket.socket], expected: int) -> list[int]:
    """How many connections each listener accepts, until ``expected`` in all (5 s at most)."""
    counts = [0] * len(listeners)
    accepted: list[socket.socket] = []
    deadline = time.monotonic() + 5
    while sum(counts) < expected and time.monotonic() < deadline:
        ready, _, _ = select.select(listeners, [], [], 0.5)
        for sock in ready:
            connection, _ = sock.accept()
            accepted.append(connection)
            counts[listeners.index(sock)] += 1
    for connection in accepted:
        connection.close()
    return counts


def test_each_worker_gets_a_listener_of_its_own_and_the_kernel_spreads_connections() -> None:
    with ExitStack() as stack:
        parent = stack.enter_context(closing(WorkerListener.bind_to("127.0.0.1", 0)))
        workers = [stack.enter_context(closing(_unpickled(parent))) for _ in range(2)]
        assert all(w.getsockname() == parent.getsockname() for w in workers)
        assert len({parent.fileno(), *(w.fileno() for w in workers)}) == 3
        for worker in workers:
            worker.listen(128)
        clients = [
            stack.enter_context(closing(socket.create_connection(parent.getsockname())))
            for _ in range(64)
        ]
        counts = _accept_all(workers, len(clients))
    # Every connection reached a worker (none waits on the parent's socket, which does not
    # listen), and both workers got some: by a hash of 64 connections' ports, all on one
    # side has a chance of 2 in 2**64.
    assert sum(counts) == 64
    assert min(counts) > 0, counts


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _sockets(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on local ``port`` in ``state`` (01 connected, 0A listening)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _connections_by_worker(workers: list[int], port: int) -> dict[int, int]:
    """Established connections on ``port``, counted by the worker process holding each."""
    inodes = _sockets(port, "01")
    counts: dict[int, int] = {}
    for pid in workers:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
        counts[pid] = held
    return counts


@pytest.fixture
def two_workers(sqlite_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = {**os.environ, "OMS_DATABASE_URL": sqlite_url, "OMS_ENVIRONMENT": "test"}
    server = subprocess.Popen(  # noqa: S603 - our own oms command
        [str(OMS), "serve", "--workers", "2", "--port", str(port), "--log-level", "warning"],
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        # Both workers listen (each on a socket of its own) and answer.
        while len(_sockets(port, "0A")) < 2 or not _answers(port):
            assert server.poll() is None, "oms serve exited"
            assert time.monotonic() < deadline, "oms serve did not start in 60 s"
            time.sleep(0.2)
        yield server, port
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _children_serving(pid: int) -> list[int]:
    """The uvicorn workers: children that are not multiprocessing's resource tracker."""
    return [
        child
        for child in _children(pid)
        if "resource_tracker" not in Path(f"/proc/{child}/cmdline").read_text()
    ]


def _answers(port: int) -> bool:
    try:
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) as connection:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
    except OSError:
        return False


async def _hold_connections(port: int, count: int, workers: list[int]) -> dict[int, int]:
    """Open ``count`` connections at once, as a load balancer's or a benchmark's pool does,
    ask each for /healthz (kept alive), and count them by the worker holding each."""
    opened = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(count))
    )
    try:
        for _, writer in opened:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: oms\r\n\r\n")
        for reader, _ in opened:
            status = await asyncio.wait_for(reader.readline(), 10)
            assert status.startswith(b"HTTP/1.1 200"), status
        return _connections_by_worker(workers, port)
    finally:
        for _, writer in opened:
            writer.close()


def test_serve_spreads_kept_alive_connections_over_its_workers(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_workers
    # On one shared socket, the first worker to wake would accept all of a burst.
    counts = asyncio.run(_hold_connections(port, 32, _children_serving(server.pid)))
    assert sum(counts.values()) == 32, counts
    assert len(counts) == 2, counts
    assert min(counts.values()) > 0, counts


def test_answers_on_one_kept_alive_connection_arrive_whole_and_in_order(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    _, port = two_workers
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as connection:
        answers = []
        for path in ("/healthz", "/v1/orders", "/healthz"):
            connection.request("GET", path)
            response = connection.getresponse()
            answers.append((response.status, len(response.read()) > 0))

    assert answers == [(200, True), (401, True), (200, True)]


def test_a_port_another_server_listens_on_is_refused_with_one_line(sqlite_url: str) -> None:
    with closing(WorkerListener.bind_to("127.0.0.1", 0)) as other:
        other.listen(8)  # another oms serve, say, whose workers would share its connections
        port = other.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own oms command
            [str(OMS), "serve", "--workers", "2", "--port", str(port)],
            env={**os.environ, "OMS_DATABASE_URL": sqlite_url, "OMS_ENVIRONMENT": "test"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
