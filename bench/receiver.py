"""A webhook receiver for the benchmarks: a process of its own on loopback that answers 200
at once and verifies every request's signature with the ``standardwebhooks`` library.

    python bench/receiver.py --port 9000 --secret whsec_...

It prints ``ready`` once listening and, when stopped with SIGTERM or SIGINT, one JSON line:
``{"received": n, "verified": n, "refused": n, "seconds": s}``. It is kept cheap (uvloop,
httptools' parser, kept-alive HTTP/1.1, about 11 us to verify a signature) so that the
benchmark measures the worker, not the receiver; ``--cpu`` adds the CPU seconds it used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from typing import cast

import httptools
from standardwebhooks import Webhook

_OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


class Counts:
    def __init__(self, secret: str | None) -> None:
        self.webhook = Webhook(secret) if secret else None
        self.received = 0
        self.verified = 0
        self.refused = 0
        self.first: float | None = None
        self.last: float | None = None


class Hook(asyncio.Protocol):
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.parser = httptools.HttpRequestParser(self)
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.headers = {}
        self.body = bytearray()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        counts = self.counts
        counts.received += 1
        now = time.perf_counter()
        counts.first = counts.first or now
        counts.last = now
        if counts.webhook is not None:
            try:
                counts.webhook.verify(bytes(self.body), self.headers)
                counts.verified += 1
            except Exception:
                counts.refused += 1
        assert self.transport is not None
        self.transport.write(_OK)


async def serve(port: int, counts: Counts) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Hook(counts), "127.0.0.1", port, backlog=1024)
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    print("ready", flush=True)
    await stopped.wait()
    server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", help="the endpoint's whsec_ secret (else nothing verified)")
    args = parser.parse_args()
    counts = Counts(args.secret)
    try:
        import uvloop

        uvloop.run(serve(args.port, counts))
    except ImportError:
        asyncio.run(serve(args.port, counts))
    cpu = os.times()
    print(
        json.dumps(
            {
                "received": counts.received,
                "verified": counts.verified,
                "refused": counts.refused,
                "seconds": (counts.last or 0) - (counts.first or 0),
                "cpu_seconds": round(cpu.user + cpu.system, 2),
                "at": datetime.now(UTC).isoformat(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
