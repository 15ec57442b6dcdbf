"""Events published to NATS JetStream (``OMS_NATS_URL``), for systems that would rather
read a stream than answer webhooks.

Each event goes to subject ``oms.<tenant_id>.<event type>`` (``oms.<tenant>.order.created``)
with the body a webhook gets, ``{"type", "timestamp", "data"}``, and the header
``Nats-Msg-Id`` = the event id: JetStream drops a second message with the same id inside
the stream's duplicate window, so a retry after a lost acknowledgement stores nothing new.
On first connecting, the stream ``OMS`` on ``oms.>`` is created unless it exists (an
existing stream is left as its operator configured it); its duplicate window is a day, as
long as the worker's retries go on.

nats-py is asynchronous and the worker is not: the publisher runs one event loop on a
thread of its own, keeps one connection there (nats-py reconnects it), and each ``send``
waits for its acknowledgement with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import nats
import orjson
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError

from oms.services.events import Event, EventSink, Outcome
from oms.services.ports import UnitOfWork

__all__ = ["JetStreamPublisher", "NatsSink", "PublishAck", "event_body", "subject_for"]

T = TypeVar("T")
log = logging.getLogger("oms.nats")
STREAM = "OMS"
STREAM_SUBJECTS = ("oms.>",)


def subject_for(event: Event) -> str:
    """``oms.<tenant_id>.<event type>``."""
    return f"oms.{event.tenant_id}.{event.type}"


def event_body(event: Event) -> bytes:
    """The JSON a subscriber reads: the event's type, when it happened, and its resource."""
    body = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data}
    return orjson.dumps(body, default=str)


@dataclass(frozen=True)
class PublishAck:
    stream: str
    seq: int
    duplicate: bool


class JetStreamPublisher:
    """One connection to a NATS server, on an event loop of its own thread."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = STREAM,
        subjects: Sequence[str] = STREAM_SUBJECTS,
        duplicate_window: timedelta = timedelta(days=1),
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self._subjects = list(subjects)
        self._window = duplicate_window
        self.timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="nats-publisher", daemon=True
                )
                self._thread.start()
                self._loop = loop
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    async def _jetstream(self) -> JetStreamContext:
        """The JetStream context, connecting (and ensuring the stream) the first time."""
        if self._js is not None and self._client is not None and not self._client.is_closed:
            return self._js
        # Once connected, nats-py reconnects for ever; the first connection must come
        # within the timeout (else the attempt fails and the next send tries again).
        client = await asyncio.wait_for(
            nats.connect(
                self.url,
                connect_timeout=self.timeout,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                error_cb=_log_error,
            ),
            self.timeout,
        )
        js = client.jetstream(timeout=self.timeout)
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                name=self.stream,
                subjects=self._subjects,
                duplicate_window=self._window.total_seconds(),
            )
        except BaseException:
            await client.close()
            raise
        self._client, self._js = client, js
        return js

    async def _publish(self, subject: str, payload: bytes, msg_id: str) -> PublishAck:
        js = await self._jetstream()
        ack = await js.publish(
            subject, payload, timeout=self.timeout, headers={"Nats-Msg-Id": msg_id}
        )
        return PublishAck(stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))

    def publish(self, subject: str, payload: bytes, *, msg_id: str) -> PublishAck:
        """Publish and wait for JetStream's acknowledgement; raises when there is none."""
        return self._run(self._publish(subject, payload, msg_id), self.timeout * 3)

    def close(self) -> None:
        """Close the connection and stop the loop's thread."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = self._js = None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_shut_down(client), loop).result(self.timeout)
        except (FutureTimeout, NatsError, OSError) as error:
            log.warning("nats: closing the connection failed: %s", error)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(self.timeout)
        loop.close()


async def _log_error(error: Exception) -> None:
    log.warning("nats: %s: %s", type(error).__name__, error)


async def _shut_down(client: Client | None) -> None:
    """Close the connection, then end whatever else still runs on the loop."""
    if client is not None and not client.is_closed:
        await client.close()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class NatsSink(EventSink):
    """Every event, to its subject on JetStream; one subscriber per event (the subject)."""

    def __init__(self, publisher: JetStreamPublisher) -> None:
        self.publisher = publisher

    def close(self) -> None:
        """Close the connection to NATS (``oms worker`` closes its sinks when it stops)."""
        self.publisher.close()

    @property
    def kind(self) -> str:
        return "nats"

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        return [subject_for(event)]

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> bytes:
        return event_body(event)

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        if not isinstance(prepared, bytes):
            return Outcome(delivered=False, error="nothing prepared to publish", final=True)
        began = time.perf_counter()
        try:
            ack = self.publisher.publish(key, prepared, msg_id=str(event.id))
        except (NatsError, JetStreamError, OSError, FutureTimeout, TimeoutError) as error:
            return Outcome(
                delivered=False,
                error=f"{type(error).__name__}: {str(error) or 'no answer in time'}"[:500],
                latency_ms=(time.perf_counter() - began) * 1000,
            )
        note = f"stream {ack.stream} seq {ack.seq}" + (" (duplicate)" if ack.duplicate else "")
        return Outcome(
            delivered=True, response_body=note, latency_ms=(time.perf_counter() - began) * 1000
        )
