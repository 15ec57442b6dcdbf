"""``oms serve --workers N``: a listening socket per worker, balanced by the kernel; workers
that a busy host slows are waited for, and a worker that dies is replaced with a log line
saying why."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
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


@contextmanager
def _serving(sqlite_url: str, log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``oms serve --workers 2`` on a free port, its stderr (uvicorn's log) to ``log_path``."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = {**os.environ, "OMS_DATABASE_URL": sqlite_url, "OMS_ENVIRONMENT": "test"}
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own oms command
            [str(OMS), "serve", "--workers", "2", "--port", str(port), "--log-level", "warning"],
            env=env,
            stderr=log,
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


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the ``two_workers`` server's stderr (uvicorn's log) goes."""
    return tmp_path_factory.mktemp("serve") / "serve.log"


@pytest.fixture(scope="module")
def two_workers(sqlite_url: str, server_log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """One server for the module's tests that leave it as they found it (a starved worker
    is kept; each of them checks the log and the workers it relies on): starting
    ``oms serve`` is three processes importing the app."""
    with _serving(sqlite_url, server_log) as served:
        yield served


@pytest.fixture
def fresh_log(tmp_path: Path) -> Path:
    return tmp_path / "serve.log"


@pytest.fixture
def fresh_two_workers(
    sqlite_url: str, fresh_log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A server of the test's own, for a test that kills one of its workers."""
    with _serving(sqlite_url, fresh_log) as served:
        yield served


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


# What a worker loads before it can answer its supervisor's health checks: the parent's main
# module (the ``oms`` script imports ``oms.cli``) and the protocol its configuration names.
_BEFORE_THE_FIRST_ANSWER = "import oms.cli, oms.api.http_protocol, uvicorn.supervisors"
_FRAMEWORKS = ("sqlalchemy", "fastapi", "starlette", "pydantic", "psycopg", "alembic")


def test_a_worker_loads_no_framework_before_it_can_answer_its_supervisor() -> None:
    listing = f"{_BEFORE_THE_FIRST_ANSWER}; import sys, json; print(json.dumps(list(sys.modules)))"
    done = subprocess.run(  # noqa: S603 - the interpreter running the tests
        [sys.executable, "-c", listing], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    oms_loaded = {name for name in json.loads(done.stdout) if name.startswith("oms.")}

    assert loaded.isdisjoint(_FRAMEWORKS), sorted(loaded & set(_FRAMEWORKS))
    # Besides the CLI and the protocol, only the pure domain (stdlib only: tests/unit/
    # test_layers.py) that the CLI's option types name.
    beyond = {"oms.cli", "oms.api", "oms.api.http_protocol"}
    extra = {n for n in oms_loaded - beyond if not n.startswith(("oms.cli_", "oms.domain"))}
    assert beyond <= oms_loaded
    assert extra == set(), sorted(extra)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.2)


def test_a_worker_the_host_starves_for_longer_than_uvicorns_5_s_check_is_kept(
    two_workers: tuple[subprocess.Popen[bytes], int], server_log: Path
) -> None:
    server, port = two_workers
    workers = sorted(_children_serving(server.pid))
    starved = workers[0]
    os.kill(starved, signal.SIGSTOP)  # as if the host gave it no CPU at all
    try:
        time.sleep(8)  # uvicorn's supervisor kills a worker silent for 5 s
    finally:
        with suppress(ProcessLookupError):  # gone if it was killed meanwhile
            os.kill(starved, signal.SIGCONT)
    _wait_for(lambda: _answers(port), "the server answers")

    assert sorted(_children_serving(server.pid)) == workers
    assert "Worker [" not in server_log.read_text()


def test_a_worker_that_dies_is_replaced_and_the_log_says_why(
    fresh_two_workers: tuple[subprocess.Popen[bytes], int], fresh_log: Path
) -> None:
    server, port = fresh_two_workers
    victim = _children_serving(server.pid)[0]
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        workers = _children_serving(server.pid)
        return victim not in workers and len(workers) == 2 and len(_sockets(port, "0A")) == 2

    _wait_for(replaced, "a new worker listens")

    said = fresh_log.read_text()
    assert f"Worker [{victim}] was killed by SIGKILL" in said, said
    assert "starting another" in said
