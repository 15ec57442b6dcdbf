"""The API tests' in-process client: Starlette's ``TestClient`` with a one-hop transport.

Starlette's ``TestClient`` runs the app on an event loop in a thread of its own (the
portal) and crosses to it about nine times per request (creating events, a stream, a
cancel scope, starting the app, waiting for the response start, then once per body chunk).
Each crossing is a task on the loop and two thread wake-ups; together they cost about as
much CPU as the app's own work for a simple request (docs/testing.md). ``AppClient`` keeps
everything else of ``TestClient`` (the portal thread, the lifespan, ``portal``, cookies,
redirects followed, the ``testclient`` peer address) and replaces the transport by one that
runs a whole request in a single crossing: the request's body in, the response collected
whole, then handed back.

What a test sees is the same: the status, headers and body the app sent; on an unhandled
error the exception is raised in the test (``raise_server_exceptions=True``, the default)
or the 500 the app sent is returned. Streamed responses are read to their end before the
client returns, as ``TestClient`` users read them anyway (no test streams). WebSockets are
not served (the app has none).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any
from urllib.parse import unquote

import anyio.from_thread
import httpx

with warnings.catch_warnings():
    # Starlette now prefers the httpx2 package, which is not a dependency; httpx still works.
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient
    from starlette.types import ASGIApp, Message

__all__ = ["AppClient"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _OneHopTransport(httpx.BaseTransport):
    """Runs a request through the ASGI app in one call onto the client's event loop."""

    def __init__(
        self,
        owner: AppClient,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool,
        client: tuple[str, int],
    ) -> None:
        self._owner = owner
        self._app = app
        self._raise = raise_server_exceptions
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": "",
            "scheme": url.scheme,
            "query_string": url.query,
            "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.multi_items()],
            "client": self._client,
            "server": [url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[url.scheme]],
            "extensions": {},
            "state": self._owner.app_state.copy(),
        }
        body = request.read()
        loop = self._owner.loop
        if loop is not None:
            future = asyncio.run_coroutine_threadsafe(self._run(scope, body), loop)
            status, headers, chunks = future.result()
        else:  # not entered as a context manager: a portal for this request, as TestClient
            with self._owner._portal_factory() as portal:
                status, headers, chunks = portal.call(self._run, scope, body)
        content = b"" if request.method == "HEAD" else b"".join(chunks)
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(content), request=request
        )

    async def _run(
        self, scope: dict[str, Any], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        request_sent = False
        complete = asyncio.Event()
        started: list[Message] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_sent
            if request_sent:  # as TestClient: a disconnect once the response is complete
                await complete.wait()
                return {"type": "http.disconnect"}
            request_sent = True
            return {"type": "http.request", "body": body}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                assert not started, 'Received multiple "http.response.start" messages.'
                started.append(message)
            elif message["type"] == "http.response.body":
                assert started, 'Received "http.response.body" without "http.response.start".'
                assert not complete.is_set(), 'Received "http.response.body" after completion.'
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    complete.set()

        try:
            await self._app(scope, receive, send)
        except BaseException:
            if self._raise or not started:
                raise
        finally:
            complete.set()
        if not started:
            raise AssertionError("The app sent no response.")
        return started[0]["status"], list(started[0].get("headers", [])), chunks


class AppClient(TestClient):
    """``TestClient`` whose requests each cross to the app's event loop once."""

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        super().__init__(app, raise_server_exceptions=raise_server_exceptions, client=client)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._transport = _OneHopTransport(
            self, self.app, raise_server_exceptions=raise_server_exceptions, client=client
        )

    def __enter__(self) -> AppClient:
        super().__enter__()
        portal: anyio.from_thread.BlockingPortal | None = self.portal
        assert portal is not None
        self.loop = portal.call(asyncio.get_running_loop)
        return self

    def __exit__(self, *args: Any) -> None:
        self.loop = None
        super().__exit__(*args)
