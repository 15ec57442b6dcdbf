"""The webhook sink's event-loop HTTP client (``WebhookHttp``) against real receivers on
loopback: a batch sent at once and verified by the ``standardwebhooks`` library, at most
``max_connections`` to one address, kept-alive and closed connections, timeouts,
truncated answers, redirects answered and not followed, chunked answers, the checked
address connected to with the name kept in ``Host``."""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import pytest

from oms.adapters.webhooks.addresses import AddressGuard
from oms.adapters.webhooks.http import Post, WebhookHttp
from oms.adapters.webhooks.sink import PreparedWebhook, WebhookSink
from oms.services.event_delivery import SendJob
from oms.services.events import Event
from tests.webhook_receiver import Receiver, receiving

WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"a test secret of 24 bytes").decode()


def _event() -> Event:
    return Event(
        id=uuid4(),
        tenant_id=uuid4(),
        type="order.created",
        created_at=WHEN,
        data={"id": str(uuid4()), "number": 1001},
        topic="order.placed",
        aggregate_id=uuid4(),
        detail={},
    )


def _jobs(sink: WebhookSink, url: str, count: int) -> list[SendJob]:
    return [
        SendJob(
            sink=sink,
            prepared=PreparedWebhook(url, (SECRET,)),
            event=_event(),
            key="endpoint",
            attempt=1,
            deadline=datetime.max.replace(tzinfo=UTC),
        )
        for _ in range(count)
    ]


@pytest.fixture
def http() -> Iterator[WebhookHttp]:
    made = WebhookHttp(max_connections=8, read_timeout=5.0, connect_timeout=5.0)
    yield made
    made.close()


def _sink(http: WebhookHttp, *, max_stored_body: int = 2048) -> WebhookSink:
    return WebhookSink(
        transport=http,
        guard=AddressGuard(allow_private=True),
        clock=lambda: WHEN,
        max_stored_body=max_stored_body,
    )


Answer = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def _serving(answer: Answer, *, keep_alive: bool = True) -> Iterator[dict[str, int]]:
    """A receiver on loopback whose answers ``answer`` writes; counts its connections and
    requests (``url`` is its address, in ``seen["port"]``)."""
    seen = {"connections": 0, "requests": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def setup(self) -> None:
            super().setup()
            with lock:
                seen["connections"] += 1

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                seen["requests"] += 1
            answer(self)

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            return

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    seen["port"] = server.server_address[1]
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def _reply(status: int, body: bytes = b"ok", **headers: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def _url(seen: dict[str, int]) -> str:
    return f"http://127.0.0.1:{seen['port']}/hooks"


def test_a_batch_goes_out_at_once_signed_as_the_library_verifies(http: WebhookHttp) -> None:
    sink = _sink(http)
    with receiving(Receiver(secrets=[SECRET], clock=lambda: WHEN)) as receiver:
        jobs = _jobs(sink, receiver.url, 40)
        outcomes = sink.send_many(jobs)

    assert [o.delivered for o in outcomes] == [True] * 40
    assert all(a.verified for a in receiver.arrivals), receiver.arrivals[0].error
    assert sorted(receiver.ids()) == sorted(str(job.event.id) for job in jobs)
    assert {a.timestamp for a in receiver.arrivals} == {str(int(WHEN.timestamp()))}


def test_no_more_requests_to_one_address_at_once_than_allowed() -> None:
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()
    together = threading.Barrier(2, timeout=5)

    def answer(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()  # two at once are let through together
        with lock:
            in_flight["now"] -= 1
        _reply(200)(handler)

    http = WebhookHttp(max_connections=2)
    try:
        sink = _sink(http)
        with _serving(answer) as seen:
            outcomes = sink.send_many(_jobs(sink, _url(seen), 10))
    finally:
        http.close()

    assert all(o.delivered for o in outcomes)
    assert in_flight["most"] == 2
    assert seen["connections"] <= 2  # kept alive and reused
    assert seen["requests"] == 10


def test_an_answer_that_does_not_come_in_time_is_a_timed_out_attempt() -> None:
    release = threading.Event()

    def never(handler: BaseHTTPRequestHandler) -> None:
        release.wait(10)

    http = WebhookHttp(read_timeout=0.2)
    try:
        sink = _sink(http)
        with _serving(never) as seen:
            outcome = sink.send_many(_jobs(sink, _url(seen), 1))[0]
            release.set()
    finally:
        http.close()

    assert not outcome.delivered
    assert outcome.status_code is None
    assert (outcome.error or "").startswith("timed out")


def test_a_refused_connection_is_a_failed_attempt(http: WebhookHttp) -> None:
    with _serving(_reply(200)) as seen:
        url = _url(seen)
    sink = _sink(http)  # the receiver is gone: nothing listens on its port

    outcome = sink.send_many(_jobs(sink, url, 1))[0]

    assert not outcome.delivered
    assert outcome.error


@pytest.mark.parametrize("discard_limit", [1 << 20, 1000])
def test_a_long_answer_is_kept_truncated(discard_limit: int) -> None:
    http = WebhookHttp(max_connections=1, discard_limit=discard_limit)
    try:
        sink = _sink(http, max_stored_body=100)
        with _serving(_reply(500, b"x" * 100_000)) as seen:
            first, second = (sink.send_many(_jobs(sink, _url(seen), 1))[0] for _ in range(2))
    finally:
        http.close()

    assert (first.status_code, first.delivered, first.response_body) == (500, False, "x" * 100)
    assert second.response_body == "x" * 100
    # Read to its end, an answer leaves its connection for the next request; one too long
    # to be worth reading closes it.
    assert seen["connections"] == (1 if discard_limit > 100_000 else 2)


def test_a_redirect_is_an_answer_never_followed(http: WebhookHttp) -> None:
    sink = _sink(http)
    with _serving(_reply(302, b"", location="http://169.254.169.254/")) as seen:
        outcome = sink.send_many(_jobs(sink, _url(seen), 1))[0]

    assert (outcome.delivered, outcome.status_code, seen["requests"]) == (False, 302, 1)


def test_a_chunked_answer_is_read(http: WebhookHttp) -> None:
    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(202)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")

    sink = _sink(http)
    with _serving(chunked) as seen:
        outcomes = [sink.send_many(_jobs(sink, _url(seen), 1))[0] for _ in range(3)]

    assert [(o.delivered, o.status_code, o.response_body) for o in outcomes] == [
        (True, 202, "hello world")
    ] * 3
    assert seen["connections"] == 1


def test_a_receiver_that_closes_each_connection_gets_every_request(http: WebhookHttp) -> None:
    sink = _sink(http)
    with _serving(_reply(200), keep_alive=False) as seen:
        outcomes = [o for _ in range(3) for o in sink.send_many(_jobs(sink, _url(seen), 4))]

    assert all(o.delivered for o in outcomes)
    assert seen["requests"] == seen["connections"] == 12


def test_the_checked_address_is_connected_to_with_the_name_kept_in_host(
    http: WebhookHttp,
) -> None:
    hosts: list[str] = []

    def answer(handler: BaseHTTPRequestHandler) -> None:
        hosts.append(handler.headers["host"])
        _reply(204, b"")(handler)

    with _serving(answer) as seen:
        post = Post(
            scheme="http",
            address="127.0.0.1",
            port=seen["port"],
            host="hooks.example.com",
            host_header=f"hooks.example.com:{seen['port']}",
            target="/in?x=1",
            headers=(("content-type", "application/json"),),
            body=b"{}",
        )
        (answer_,) = http.post_all([post])

    assert answer_.status == 204
    assert hosts == [f"hooks.example.com:{seen['port']}"]


def test_a_header_with_a_line_break_is_never_sent(http: WebhookHttp) -> None:
    with _serving(_reply(200)) as seen:
        post = Post(
            scheme="http",
            address="127.0.0.1",
            port=seen["port"],
            host="127.0.0.1",
            host_header="127.0.0.1\r\nx-injected: 1",
            target="/hooks",
            headers=(),
            body=b"{}",
        )
        (answer,) = http.post_all([post])

    assert answer.status is None
    assert "not sent" in (answer.error or "")
    assert seen["requests"] == 0
