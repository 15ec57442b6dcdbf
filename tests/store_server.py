"""What the loopback fake stores (WooCommerce, Magento) share: a threaded HTTP server whose
handler hands every request to the store's ``answer`` method, and a record of requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

__all__ = ["Answer", "Request", "StoreApp", "store_running"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class StoreApp(Protocol):
    base_url: str

    def answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Answer: ...


@contextmanager
def store_running(store: StoreApp) -> Iterator[Any]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            found = store.answer(self.command, url.path, parse_qs(url.query), headers, body)
            out = json.dumps(found.body).encode()
            self.send_response(found.status)
            for key, value in {"Content-Type": "application/json", **found.headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    store.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()
