"""``oms serve --workers N``: the workers share their connections evenly; workers that a busy
host slows are waited for, and a worker that dies is replaced with a log line saying why."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from pathlib import Path

import pytest

from oms.api.connection_table import server_table

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="counts the workers' connections through /proc"
)

OMS = Path(sys.executable).with_name("oms")


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
        # Both workers accept (each has its row in the table) and the server answers.
        while len(_accepting(server.pid)) < 2 or not _answers(port):
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


def _accepting(server_pid: int) -> dict[int, int]:
    """The open connections of each worker of the server that accepts (its table's rows,
    those of workers that died left out)."""
    rows = server_table(server_pid) or []
    workers = _children_serving(server_pid)
    return {row.pid: row.connections for row in rows if row.pid in workers}


def _quiet(server_pid: int) -> list[int]:
    """The workers, once both accept and hold no connection (the server closes the earlier
    tests' connections as it notices them go)."""
    _wait_for(
        lambda: list(_accepting(server_pid).values()) == [0, 0], "both workers idle", seconds=30
    )
    return sorted(_accepting(server_pid))


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


def test_serve_deals_a_burst_of_kept_alive_connections_out_evenly(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_workers
    workers = _quiet(server.pid)
    # On one shared socket, the first worker to wake would accept all of a burst; sockets of
    # their own would get them by a hash of their addresses.
    counts = asyncio.run(_hold_connections(port, 32, workers))

    assert sorted(counts.values()) == [16, 16], counts


def test_connections_opened_one_after_another_go_to_the_workers_in_turn(
    two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = two_workers
    workers = _quiet(server.pid)
    with ExitStack() as stack:
        for _ in range(8):  # each answered, so accepted and counted, before the next opens
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            stack.enter_context(closing(connection))
            connection.request("GET", "/healthz")
            assert connection.getresponse().read()
        held = _connections_by_worker(workers, port)
        counted = _accepting(server.pid)

    # Counted from the processes' open sockets (/proc), and by the server's own table.
    assert sorted(held.values()) == [4, 4], held
    assert counted == held


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
    with closing(socket.socket()) as other:
        # Another server, even one whose sockets would share the port with others'.
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen(8)
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
_BEFORE_THE_FIRST_ANSWER = (
    "import oms.cli, oms.api.http_protocol, oms.api.connection_balance, uvicorn.supervisors"
)
_FRAMEWORKS = ("sqlalchemy", "fastapi", "starlette", "pydantic", "psycopg", "alembic")


def test_a_worker_loads_no_framework_before_it_can_answer_its_supervisor() -> None:
    listing = f"{_BEFORE_THE_FIRST_ANSWER}; import sys, json; print(json.dumps(list(sys.modules)))"
    done = subprocess.run(  # noqa: S603 - the interpreter running the tests
        [sys.executable, "-c", listing], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    oms_loaded = {name for name in json.loads(done.stdout) if name.startswith("oms.")}

    assert loaded.isdisjoint(_FRAMEWORKS), sorted(loaded & set(_FRAMEWORKS))
    # Besides the CLI, the protocol and the balancing, only the pure domain (stdlib only:
    # tests/unit/test_layers.py) that the CLI's option types name.
    beyond = {
        "oms.cli",
        "oms.api",
        "oms.api.http_protocol",
        "oms.api.connection_balance",
        "oms.api.connection_table",
    }
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
    workers = _quiet(server.pid)
    starved = workers[0]
    os.kill(starved, signal.SIGSTOP)  # as if the host gave it no CPU at all
    try:
        with ExitStack() as stack:
            # The other worker takes them all: one that stopped checking in is not waited for.
            for _ in range(3):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                stack.enter_context(closing(connection))
                connection.request("GET", "/healthz")
                assert connection.getresponse().status == 200
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
    server, _ = fresh_two_workers
    victim = _children_serving(server.pid)[0]
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        workers = _children_serving(server.pid)
        return victim not in workers and len(workers) == 2 and len(_accepting(server.pid)) == 2

    _wait_for(replaced, "a new worker listens")

    said = fresh_log.read_text()
    assert f"Worker [{victim}] was killed by SIGKILL" in said, said
    assert "starting another" in said
