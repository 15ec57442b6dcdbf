"""The transport of ``oms serve``'s HTTP protocol: a turn's writes go out as one."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from oms.api.http_protocol import CoalescingTransport


class _Transport:
    """Records what reaches the socket."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else default


def _wrapped() -> tuple[CoalescingTransport, _Transport]:
    inner = _Transport()
    loop = asyncio.get_running_loop()
    return CoalescingTransport(cast(asyncio.Transport, inner), loop), inner


def test_the_writes_of_one_turn_go_out_as_one_at_its_end() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        transport, inner = _wrapped()
        transport.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        during = list(inner.sent)
        await asyncio.sleep(0)
        return during, inner.sent

    during, after = asyncio.run(scenario())

    assert during == []
    assert after == [b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}"]


def test_writes_of_later_turns_go_out_in_order() -> None:
    async def scenario() -> list[bytes]:
        transport, inner = _wrapped()
        transport.write(b"one")
        await asyncio.sleep(0)
        transport.write(b"two")
        transport.writelines([b"three", bytearray(b"four")])
        await asyncio.sleep(0)
        return inner.sent

    assert asyncio.run(scenario()) == [b"one", b"twothreefour"]


def test_closing_sends_what_is_pending_first_and_aborting_drops_it() -> None:
    async def scenario() -> tuple[_Transport, _Transport]:
        closed, closed_inner = _wrapped()
        closed.write(b"last answer")
        closed.close()
        aborted, aborted_inner = _wrapped()
        aborted.write(b"never sent")
        aborted.abort()
        await asyncio.sleep(0)
        return closed_inner, aborted_inner

    closed, aborted = asyncio.run(scenario())

    assert closed.sent == [b"last answer"]
    assert closed.closed
    assert aborted.sent == []
    assert aborted.aborted


def test_anything_else_is_the_transports_own() -> None:
    async def scenario() -> tuple[Any, bool]:
        transport, _ = _wrapped()
        return transport.get_extra_info("sockname"), transport.is_closing()

    assert asyncio.run(scenario()) == (("127.0.0.1", 8000), False)
