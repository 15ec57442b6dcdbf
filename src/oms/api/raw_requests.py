"""Reading a request in raw ASGI middleware that may still hand it on: the lanes
(``oms.api.intake_lane``, ``oms.api.webhook_lane``) read the body themselves and, when they
do not answer, give the framework a ``receive`` that replays it message for message."""

from __future__ import annotations

from starlette.types import Message, Receive

__all__ = ["read_body", "replaying"]


async def read_body(receive: Receive, limit: int, received: list[Message]) -> bytes | None:
    """The whole body, or None when it is over ``limit`` or the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(received: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been read: the kept messages first, then the rest."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
