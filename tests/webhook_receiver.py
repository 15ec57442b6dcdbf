"""A merchant's webhook receiver on loopback, for tests: it verifies every request with the
``standardwebhooks`` library (as a receiver would) and records what arrived.

``answers`` scripts the status codes of the first requests (then 200). With ``clock`` the
library's five-minute tolerance is judged against that clock instead of the wall clock
(tests run the worker on an injected clock).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import standardwebhooks.webhooks as standard
from standardwebhooks import Webhook

__all__ = ["Arrival", "Receiver", "receiving"]


@dataclass(frozen=True)
class Arrival:
    """One request as it arrived, and whether its signature verified."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    error: str | None

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def _verify(
    secret: str, body: bytes, headers: dict[str, str], clock: Callable[[], datetime] | None
) -> None:
    """The library's own verification; with ``clock``, its idea of now is that clock's."""
    if clock is None:
        Webhook(secret).verify(body, headers)
        return
    now = clock()

    class _Now(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]  # noqa: ARG003
            return now

    with mock.patch.object(standard, "datetime", _Now):
        Webhook(secret).verify(body, headers)


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


@dataclass
class Receiver:
    secrets: list[str]
    answers: list[int] = field(default_factory=list)
    clock: Callable[[], datetime] | None = None
    # Judge each attempt's freshness by its own webhook-timestamp: for a sender in another
    # process (a real ``oms worker``), whose clock no test can set; the signature is
    # verified all the same.
    own_stamp: bool = False
    delay: float = 0.0  # seconds each answer takes (a slow receiver)
    arrivals: list[Arrival] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, headers: dict[str, str]) -> str | None:
        """None when one of the secrets verifies the request, else why not."""
        errors = []
        clock = self.clock
        if self.own_stamp:
            stamp = int(headers.get("webhook-timestamp") or 0)
            clock = _fixed(datetime.fromtimestamp(stamp, UTC))
        for secret in self.secrets:
            try:
                _verify(secret, body, headers, clock)
                return None
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
        return "; ".join(errors) or "no secret"

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        error = self.verify(body, headers)
        with self.lock:
            self.arrivals.append(
                Arrival(
                    webhook_id=headers.get("webhook-id", ""),
                    timestamp=headers.get("webhook-timestamp", ""),
                    signature=headers.get("webhook-signature", ""),
                    body=body,
                    verified=error is None,
                    error=error,
                )
            )
            return self.answers.pop(0) if self.answers else 200

    def ids(self) -> list[str]:
        with self.lock:
            return [a.webhook_id for a in self.arrivals]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    """Serve ``receiver`` on 127.0.0.1 (its ``url`` set) while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer(body, headers)
            answer = b'{"ok": true}' if status < 300 else b"not now" * 1000
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            return  # a sender killed mid-request (the kill -9 test) is no error here

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
