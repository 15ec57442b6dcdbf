"""Events published to the machine's NATS server (JetStream on 127.0.0.1:4222, or
``OMS_TEST_NATS_URL``): the subject names tenant and type, the body is the webhook's, and
the same event published twice is stored once. Skipped, saying so, when no server answers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import nats
import pytest

from oms.adapters.broker.nats_sink import STREAM, JetStreamPublisher, NatsSink
from oms.services.events import Event

NATS_URL = os.environ.get("OMS_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 4222), timeout=1):
            return True
    except OSError:
        return False


_UNREACHABLE = f"NATS not reachable at {NATS_URL} (JetStream needed)"
if os.environ.get("OMS_REQUIRE_NATS") == "1" and not _reachable(NATS_URL):
    # CI (.ci/run) starts the server when it is not running: missing there is a failure.
    raise RuntimeError(_UNREACHABLE)
pytestmark = pytest.mark.skipif(not _reachable(NATS_URL), reason=_UNREACHABLE)


@pytest.fixture
def sink() -> Iterator[NatsSink]:
    publisher = NatsSink(JetStreamPublisher(NATS_URL))
    yield publisher
    publisher.close()


def _event(**overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "id": uuid4(),
        "tenant_id": uuid4(),
        "type": "order.created",
        "created_at": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        "data": {"id": str(uuid4()), "number": 1001, "total": "40.00", "currency": "EUR"},
        "topic": "order.placed",
        "aggregate_id": uuid4(),
        "detail": {},
    }
    return Event(**(fields | overrides))


async def _stored(subject: str) -> tuple[int, Any]:
    """How many messages the stream holds on ``subject``, and the last; then purges them."""
    client = await nats.connect(NATS_URL)
    try:
        js = client.jetstream()
        info = await js.stream_info(STREAM, subjects_filter=subject)
        count = (info.state.subjects or {}).get(subject, 0)
        last = await js.get_last_msg(STREAM, subject) if count else None
        await js.purge_stream(STREAM, subject=subject)
        return count, last
    finally:
        await client.close()


def test_an_event_published_twice_is_stored_once(sink: NatsSink) -> None:
    event = _event()
    [subject] = sink.subscribers(None, event)  # type: ignore[arg-type]  # reads nothing

    first = sink.send(sink.prepare(None, event, subject), event=event, key=subject, attempt=1)  # type: ignore[arg-type]
    retry = sink.send(sink.prepare(None, event, subject), event=event, key=subject, attempt=2)  # type: ignore[arg-type]
    count, last = asyncio.run(_stored(subject))

    assert subject == f"oms.{event.tenant_id}.order.created"
    assert (first.delivered, retry.delivered) == (True, True)
    assert "duplicate" in (retry.response_body or "")
    assert count == 1
    assert last.headers["Nats-Msg-Id"] == str(event.id)
    assert json.loads(last.data) == {
        "type": "order.created",
        "timestamp": "2026-12-03T09:30:00+00:00",
        "data": event.data,
    }


def test_different_events_are_each_stored_on_their_tenants_subjects(sink: NatsSink) -> None:
    tenant = uuid4()
    events = [_event(tenant_id=tenant), _event(tenant_id=tenant, type="shipment.delivered")]

    for event in events:
        [subject] = sink.subscribers(None, event)  # type: ignore[arg-type]
        body = sink.prepare(None, event, subject)  # type: ignore[arg-type]
        assert sink.send(body, event=event, key=subject, attempt=1).delivered

    counts = [asyncio.run(_stored(f"oms.{tenant}.{e.type}"))[0] for e in events]
    assert counts == [1, 1]


def test_a_server_that_does_not_answer_is_retried_later() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening
        sink = NatsSink(JetStreamPublisher(f"nats://127.0.0.1:{port}", timeout=0.5))
        event = _event()
        try:
            outcome = sink.send(b"{}", event=event, key="oms.x.order.created", attempt=1)
        finally:
            sink.publisher.close()

    assert (outcome.delivered, outcome.final) == (False, False)
    assert outcome.error
