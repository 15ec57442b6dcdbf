"""``oms serve``'s HTTP protocol: uvicorn's httptools one, with four changes.

- **One write per turn.** uvicorn writes a response's status line and headers, then its
  body, as two writes to the transport; uvloop sends each at once, so every answer costs two
  ``send`` system calls and reaches the client as two TCP segments (the connections do not
  delay small writes). On loopback each ``send`` also runs the receiving side's TCP work and
  wakes the reader. Here the protocol's transport keeps the writes of one turn of the event
  loop and sends them as one at the end of the turn: a ``send`` per write was a visible
  share of an API worker's time under bench/intake.py (docs/performance.md, item 20).
- **An error after a whole answer keeps the connection.** Starlette answers an unexpected
  error with the API's 500 and then raises it again for the server's sake; uvicorn then
  closes the connection, although the answer went out whole without ``Connection: close``,
  so a client's next request on it met a reset. Here an error raised after the answer was
  complete is logged and the connection serves on; an error before the answer is complete
  is uvicorn's as before (a 500 that says ``Connection: close``, or a closed connection
  when the answer is cut short).
- **A read timeout.** uvicorn waits for a request's bytes for ever: a client that sends a
  body shorter than its ``Content-Length`` (or half a head, or nothing at all on a new
  connection) holds a connection and the request's task until it goes away. Here a
  request's head must arrive within ``read_timeout`` seconds of its first byte, and each
  piece of its body within ``read_timeout`` of the previous one (a new connection must
  start its first request within ``read_timeout`` too). A client that goes silent is
  answered ``408`` with ``Connection: close``; the request's task sees the client go away.
  The clock does not run while the server itself keeps the client waiting (reading paused
  because the application has not taken the body yet, ``Expect: 100-continue`` not yet
  answered, or an earlier pipelined answer still being written).
- **A limit on the head.** uvicorn (and httptools) take a request line and headers of any
  size. Here more than ``max_header_bytes`` of them is refused with ``431``: the bytes are
  fed to the parser no more than the limit at a time, so a longer head is refused as soon
  as the limit is passed, whether in one header or many. (A head pipelined behind another
  request's body in the same read is counted from the next read on.)

Both refusals are problem+json (``oms.api.errors``'s problem types) and say
``Connection: close``; the connection is then closed for writing, and what the client still
sends is read and dropped until it closes its side or ``read_timeout`` passes, so the client
reads the answer rather than a reset.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "CoalescingTransport",
    "HttpProtocol",
]

DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_HEADER_BYTES = 32_768
# The type base of the API's problems (oms.api.errors.PROBLEM_TYPE_BASE; that module
# imports the framework, which a worker must not load before it answers its supervisor).
_PROBLEM_TYPE_BASE = "https://oms.dev/problems/"


class CoalescingTransport:
    """A transport whose writes within one turn of ``loop`` go out as one write.

    Everything else is the wrapped transport's; closing sends what is pending first,
    aborting drops it (as the transport itself drops its buffer).
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what was written so far (at the end of the turn, or before closing)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the changes the module docstring lists.

    ``read_timeout`` and ``max_header_bytes`` come from ``OMS_HTTP_READ_TIMEOUT_SECONDS``
    and ``OMS_MAX_HEADER_BYTES`` (``oms.api.serving.serve`` binds them).
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.read_timeout = read_timeout
        self.max_header_bytes = max_header_bytes
        self._in_request = False  # between a request's first byte and its last
        self._reading_head = True  # what arrives next belongs to a request's head
        self._head_bytes = 0  # of the head being read
        # The client must send more by ``_deadline`` (event-loop time; None: we wait for
        # nothing). One timer per connection checks it, moved on only when it fires, so a
        # request costs no timer of its own.
        self._deadline: float | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._refusing = False  # answered 408 or 431: what arrives is dropped
        self._deferred_refusal: tuple[int, str, str] | None = None

    # The connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._expect_bytes()  # its first request must begin in time

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            return
        if self._in_request and not self._reading_head:
            self._expect_bytes()  # the body moves: its silence starts again
        while data and self._reading_head:
            room = self.max_header_bytes - self._head_bytes
            if room <= 0:
                self._refuse(
                    431,
                    "headers_too_large",
                    f"A request's line and headers are limited to {self.max_header_bytes} bytes",
                )
                return
            piece, data = (data, b"") if len(data) <= room else (data[:room], data[room:])
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self._refusing or self.transport.is_closing():
                return
        if data:
            super().data_received(data)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_request = True
        self._expect_bytes()  # the head must be whole within the timeout

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._reading_head = False
        self._expect_bytes()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_request = False
        self._reading_head = True
        self._head_bytes = 0
        self._deadline = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._deferred_refusal is not None and not self.transport.is_closing():
            self._send_refusal(*self._deferred_refusal)

    # Running the application

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        super()._start_asgi_task(cycle, _keeping_the_connection_after_an_answer(app, cycle))

    # The read timeout

    def _expect_bytes(self) -> None:
        """The client must send more within ``read_timeout`` from now."""
        self._deadline = self.loop.time() + self.read_timeout
        if self._read_timer is None:
            self._read_timer = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self._deadline is None or self.transport.is_closing():
            return
        left = self._deadline - self.loop.time()
        if left > 0:  # bytes came meanwhile: check again when the new deadline passes
            self._read_timer = self.loop.call_later(left, self._read_timed_out)
            return
        if not self._in_request:  # a new connection that never sent a request
            self.transport.close()
            return
        cycle = self.cycle
        answering = cycle is not None and not cycle.response_complete
        if self.flow.read_paused or (
            answering
            and (self._reading_head or cycle.waiting_for_100_continue or cycle.response_started)
        ):
            self._expect_bytes()  # the client waits for us, not we for it
            return
        if cycle is not None and cycle.response_complete and not self._reading_head:
            # Answered already (without the whole body): nothing more to say.
            self.transport.close()
            return
        self._refuse(
            408,
            "request_timeout",
            f"The request stopped arriving: nothing came for {self.read_timeout:g} s",
        )

    # Refusing a request

    def _refuse(self, status: int, code: str, detail: str) -> None:
        """Answer ``status`` and close: now, or once an earlier pipelined answer is out."""
        self._refusing = True
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if self._reading_head:  # that answer belongs to an earlier request
                self._deferred_refusal = (status, code, detail)
                return
            # The application must not answer this request too; a receive it waits in ends.
            cycle.disconnected = True
            cycle.message_event.set()
        self._send_refusal(status, code, detail)

    def _send_refusal(self, status: int, code: str, detail: str) -> None:
        self._deferred_refusal = None
        body = json.dumps(
            {
                "type": _PROBLEM_TYPE_BASE + code,
                "title": STATUS_LINE[status].decode("ascii").split(" ", 2)[2].strip(),
                "status": status,
                "detail": detail,
                "code": code,
            }
        ).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join([*head, body]))
        if self.transport.can_write_eof():
            # Closed for writing only: the client reads the answer, then closes its side
            # (which closes ours); a client that keeps sending is cut off after the timeout.
            self.transport.write_eof()
            self.loop.call_later(self.read_timeout, self.transport.close)
        else:
            self.transport.close()


def _keeping_the_connection_after_an_answer(
    app: ASGI3Application, cycle: RequestResponseCycle
) -> ASGI3Application:
    """``app``, whose errors after ``cycle``'s answer was complete are logged, not raised."""

    async def run(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            if not cycle.response_complete:
                raise
            cycle.logger.error(
                "Exception in ASGI application after its answer was sent whole "
                "(the connection stays open)",
                exc_info=True,
            )

    return run
