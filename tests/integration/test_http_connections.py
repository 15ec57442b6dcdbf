"""``oms serve``'s connections, spoken to over raw sockets on loopback: an answer that does not
say ``Connection: close`` leaves the connection serving; a client that goes silent in the
middle of a request gets 408 and a closed connection; a request head over the limit is
refused with 431.

One server runs for the module, on a database that was never migrated: every route that
touches a table fails there, which is how these tests get a 500 from a real process.
Bounds on waiting are generous (the server's read timeout is two seconds; a test waits up
to a minute): they only stop a test from hanging, nothing asserts how fast anything is.
Where a test must stay within the timeout it keeps well inside it, and where it must pass
it (but stay within uvicorn's 5 s keep-alive) it sits halfway between.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from oms.api.errors import PROBLEM_TYPE_BASE

OMS = Path(sys.executable).with_name("oms")
WAIT = 60.0  # seconds a test waits for an answer before it fails instead of hanging
HEADER_LIMIT = 16_384  # the server's OMS_MAX_HEADER_BYTES in this module
READ_TIMEOUT = 2.0  # the server's OMS_HTTP_READ_TIMEOUT_SECONDS in this module


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _answers(port: int) -> bool:
    try:
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) as connection:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of an ``oms serve`` on an unmigrated SQLite database."""
    port = _free_port()
    database = tmp_path_factory.mktemp("unmigrated") / "oms.db"
    env = {
        **os.environ,
        "OMS_DATABASE_URL": f"sqlite:///{database}",
        "OMS_ENVIRONMENT": "test",
        "OMS_HTTP_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
        "OMS_MAX_HEADER_BYTES": str(HEADER_LIMIT),
    }
    process = subprocess.Popen(  # noqa: S603 - our own oms command
        [str(OMS), "serve", "--port", str(port), "--log-level", "critical"],
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert process.poll() is None, "oms serve exited"
            assert time.monotonic() < deadline, "oms serve did not start in 120 s"
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(WAIT)
    return sock


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def getheader(self, name: str) -> str | None:
        return self.headers.get(name)


def _answer(sock: socket.socket) -> _Answer:
    """The next whole answer on ``sock``."""
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        return _Answer(response.status, response.headers, response.read())
    finally:
        response.close()  # its reader holds the socket open otherwise


def _exchange(sock: socket.socket, request: bytes) -> _Answer:
    sock.sendall(request)
    return _answer(sock)


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (end of stream or reset) rather than keep it."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _get(path: str, *headers: bytes) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), b"Host: oms", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def test_a_500_answer_leaves_the_connection_serving_the_next_request(server: int) -> None:
    with closing(_connect(server)) as sock:
        failed = _exchange(sock, _get("/v1/orders", b"Authorization: Bearer some-key"))
        then = _exchange(sock, _get("/healthz"))

    assert failed.status == 500
    assert failed.getheader("connection") is None  # so the client keeps the connection
    assert then.status == 200


def test_a_body_shorter_than_its_content_length_is_answered_408_and_the_connection_closed(
    server: int,
) -> None:
    with closing(_connect(server)) as sock:
        sock.sendall(
            b"POST /v1/products HTTP/1.1\r\nHost: oms\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"sku": "TEE"'
        )
        answer = _answer(sock)
        closed = _closed_by_server(sock)

    assert answer.status == 408
    assert answer.getheader("connection") == "close"
    assert answer.getheader("content-type") == "application/problem+json"
    assert json.loads(answer.body)["type"] == PROBLEM_TYPE_BASE + "request_timeout"
    assert closed


def test_a_body_that_keeps_coming_is_read_however_long_it_takes_in_all(server: int) -> None:
    pieces = [b'{"sku": ', b'"TEE", ', b'"name": ', b'"Tee"}']
    head = (
        b"POST /v1/products HTTP/1.1\r\nHost: oms\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % sum(len(p) for p in pieces)
    )
    with closing(_connect(server)) as sock:
        sock.sendall(head)
        for piece in pieces:  # in all longer than the timeout, each piece well within it
            time.sleep(READ_TIMEOUT / 3)
            sock.sendall(piece)
        answer = _answer(sock)

    assert answer.status == 401  # read whole, then refused for want of a key


def test_a_kept_alive_connection_idle_between_requests_is_not_timed_out(server: int) -> None:
    with closing(_connect(server)) as sock:
        first = _exchange(sock, _get("/healthz"))
        time.sleep(READ_TIMEOUT * 1.5)  # past the read timeout, within the 5 s keep-alive
        second = _exchange(sock, _get("/healthz"))

    assert (first.status, second.status) == (200, 200)


def test_a_head_that_stops_half_way_is_answered_408_and_the_connection_closed(
    server: int,
) -> None:
    with closing(_connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: oms\r\nAccept: appli")
        answer = _answer(sock)
        closed = _closed_by_server(sock)

    assert answer.status == 408
    assert closed


def test_a_connection_that_never_sends_a_request_is_closed(server: int) -> None:
    with closing(_connect(server)) as sock:
        assert _closed_by_server(sock)


def test_a_head_over_the_limit_is_refused_with_431_and_the_connection_closed(
    server: int,
) -> None:
    padding = b"X-Padding: " + b"x" * 200_000
    with closing(_connect(server)) as sock:
        answer = _exchange(sock, _get("/healthz", padding))
        closed = _closed_by_server(sock)

    assert answer.status == 431
    assert answer.getheader("connection") == "close"
    assert json.loads(answer.body)["type"] == PROBLEM_TYPE_BASE + "headers_too_large"
    assert closed


def test_a_head_within_the_limit_is_served_and_the_connection_kept(server: int) -> None:
    padding = b"X-Padding: " + b"x" * (HEADER_LIMIT - 200)
    with closing(_connect(server)) as sock:
        first = _exchange(sock, _get("/healthz", padding))
        second = _exchange(sock, _get("/healthz", padding))

    assert (first.status, second.status) == (200, 200)


def test_a_head_over_the_limit_split_over_many_headers_is_refused(server: int) -> None:
    headers = [f"X-Padding-{n}: {'y' * 1_000}".encode() for n in range(HEADER_LIMIT // 1_000 + 1)]
    with closing(_connect(server)) as sock:
        answer = _exchange(sock, _get("/healthz", *headers))

    assert answer.status == 431
