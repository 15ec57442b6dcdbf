"""The webhook sink's HTTP client: many POSTs at once on one asyncio event loop, over
kept-alive HTTP/1.1 connections, with httptools' C parser reading the answers.

Why not httpx from threads: a webhook POST is small and the receiver usually answers at
once, so what a send costs is the client's own CPU, and threads only queue for the GIL
(docs/performance.md). Here one thread (``oms-webhooks``) runs the loop; ``post_all``
hands it a batch and waits for the answers.

    post_all(posts) ──▶ loop thread: per (scheme, address, port, host) a pool of
                        kept-alive connections, at most ``max_connections`` in use
                        ──▶ one Answer per Post, in order

Each request goes to ``Post.address`` (the address the SSRF guard checked) with the URL's
host name in ``Host`` and in TLS's SNI (and the certificate checked against it). Redirects
are answers like any other (never followed); connecting may take ``connect_timeout``, the
whole answer ``read_timeout``; of an answer's body only the first ``max_body`` bytes are
kept (a connection whose answer runs past ``discard_limit`` is closed, not drained).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httptools

__all__ = ["Answer", "Post", "WebhookHttp"]

USER_AGENT = "oms-webhooks/1.0"
_T = TypeVar("_T")
# Characters a request target keeps as they are; anything else (spaces, controls, non-ASCII)
# is percent-encoded, so a URL can never break the request line.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"


@dataclass(frozen=True)
class Post:
    """One POST: connect to ``address``:``port`` (``scheme`` http or https), send
    ``host`` in ``Host`` (``host_header``, with its port) and as the TLS server name."""

    scheme: str
    address: str
    port: int
    host: str
    host_header: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """What came back: the status and the start of the body, or why nothing did
    (``timed_out`` when a timeout ended it)."""

    status: int | None
    body: bytes
    error: str | None
    latency_ms: float
    timed_out: bool = False


class _Failure(Exception):
    def __init__(self, message: str, *, timed_out: bool = False, answered: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.answered = answered  # some of an answer had arrived (not safe to try again)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_body: int, discard_limit: int) -> None:
        self._loop = loop
        self._max_body = max_body
        self._discard_limit = discard_limit
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._body = bytearray()
        self._seen = 0
        self._answered = False
        self.closed = False
        self.reusable = False
        self.requests = 0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing asked: a server talking out of turn
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(_Failure(f"invalid HTTP answer: {error}", answered=True))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._status >= 200:  # an answer ended by closing the connection
                self._waiter.set_result((self._status, bytes(self._body)))
            else:
                reason = f"connection closed: {exc}" if exc else "connection closed"
                self._waiter.set_exception(_Failure(reason, answered=self._answered))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._answered = True
        self._status = 0
        self._body.clear()
        self._seen = 0

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        room = self._max_body - len(self._body)
        if room > 0:
            self._body += body[:room]
        self._seen += len(body)
        if self._seen > self._discard_limit and self._waiter is not None:
            # Enough read to answer; the rest is not worth draining.
            if not self._waiter.done():
                self._waiter.set_result((self._status, bytes(self._body)))
            self.close()

    def on_message_complete(self) -> None:
        if self._status < 200:  # 1xx: the real answer follows
            return
        self.reusable = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((self._status, bytes(self._body)))

    # use
    def _fail(self, failure: _Failure) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(failure)
        self.close()

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()

    async def request(self, data: bytes, read_timeout: float) -> tuple[int, bytes]:
        assert self._transport is not None
        self.requests += 1
        self.reusable = False
        self._status = 0
        self._answered = False
        self._waiter = waiter = self._loop.create_future()
        timer = self._loop.call_later(
            read_timeout,
            self._fail,
            _Failure(f"no answer within {read_timeout:g} s", timed_out=True),
        )
        self._transport.write(data)
        try:
            answer: tuple[int, bytes] = await waiter
            return answer
        finally:
            timer.cancel()
            self._waiter = None


_Key = tuple[str, str, int, str]


class _Pool:
    """The connections to one (scheme, address, port, host): idle ones kept for the next
    request, at most ``limit`` in use at once."""

    def __init__(self, limit: int) -> None:
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(limit)


class WebhookHttp:
    """POSTs webhooks from its own event loop thread (started on first use, stopped by
    ``close``); see the module's docstring."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_connections: int = 64,
        max_body: int = 4096,
        discard_limit: int = 1 << 20,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.max_body = max_body
        self.discard_limit = discard_limit
        self._ssl = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pools: dict[_Key, _Pool] = {}
        self._lock = threading.Lock()

    # the loop thread
    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = _new_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="oms-webhooks", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop()).result()

    def post_all(self, posts: Sequence[Post]) -> list[Answer]:
        """Send every POST, as many at once as the limits allow; their answers in order.
        Blocks the calling thread (never call it from the loop thread)."""
        if not posts:
            return []
        return self._call(self._post_all(posts))

    def close(self) -> None:
        """Close every connection and stop the loop thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def close_all() -> None:
            for pool in self._pools.values():
                for connection in pool.idle:
                    connection.close()
            self._pools.clear()

        asyncio.run_coroutine_threadsafe(close_all(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    # on the loop
    async def _post_all(self, posts: Sequence[Post]) -> list[Answer]:
        return list(await asyncio.gather(*(self.post(p) for p in posts)))

    async def post(self, post: Post) -> Answer:
        """One POST (on the loop thread)."""
        started = time.perf_counter()
        try:
            data = _request_bytes(post)
        except (UnicodeError, ValueError) as error:
            return Answer(None, b"", f"not sent: {error}", 0.0)
        key = (post.scheme, post.address, post.port, post.host)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self.max_connections)
        async with pool.slots:
            try:
                status, body = await self._exchange(pool, post, data)
            except _Failure as failure:
                return Answer(None, b"", str(failure), _since(started), timed_out=failure.timed_out)
            except (OSError, ssl.SSLError) as error:
                return Answer(None, b"", f"{type(error).__name__}: {error}"[:500], _since(started))
        return Answer(status, body, None, _since(started))

    async def _exchange(self, pool: _Pool, post: Post, data: bytes) -> tuple[int, bytes]:
        while pool.idle:
            connection = pool.idle.pop()
            if connection.closed:
                continue
            try:
                answer = await connection.request(data, self.read_timeout)
            except _Failure as failure:
                if failure.answered or failure.timed_out:
                    raise
                continue  # the server had closed the kept-alive connection: a fresh one
            self._release(pool, connection)
            return answer
        connection = await self._connect(post)
        answer = await connection.request(data, self.read_timeout)
        self._release(pool, connection)
        return answer

    def _release(self, pool: _Pool, connection: _Connection) -> None:
        if connection.reusable and not connection.closed:
            pool.idle.append(connection)
        else:
            connection.close()

    async def _connect(self, post: Post) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = post.scheme == "https"
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(loop, self.max_body, self.discard_limit),
                    host=post.address,
                    port=post.port,
                    ssl=self._tls() if tls else None,
                    server_hostname=post.host if tls else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError as error:
            raise _Failure(
                f"could not connect within {self.connect_timeout:g} s", timed_out=True
            ) from error
        return protocol

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl


def _request_bytes(post: Post) -> bytes:
    target = quote(post.target or "/", safe=_TARGET_SAFE)
    lines = [
        f"POST {target} HTTP/1.1",
        f"host: {_header_value(post.host_header)}",
        f"user-agent: {USER_AGENT}",
        f"content-length: {len(post.body)}",
    ]
    lines.extend(f"{name}: {_header_value(value)}" for name, value in post.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + post.body


def _header_value(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError("a header value may not hold line breaks")
    return value


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (it comes with uvicorn[standard])
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
