"""uvicorn's HTTP protocol (httptools), each response written to the socket at once.

uvicorn writes a response's status line and headers, then its body, as two writes to the
transport; uvloop sends each at once, so every answer costs two ``send`` system calls and
reaches the client as two TCP segments (the connections do not delay small writes). On
loopback each ``send`` also runs the receiving side's TCP work and wakes the reader. Here
the protocol's transport keeps the writes of one turn of the event loop and sends them as
one at the end of the turn: a ``send`` per write was a visible share of an API worker's
time under bench/intake.py (docs/performance.md, item 20).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport"]


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


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
