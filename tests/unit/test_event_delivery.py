"""The delivery use cases on in-memory ports: fan-out, leases, the retry schedule with its
jitter, dead and cancelled deliveries, endpoints disabled after three days of failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from oms.adapters.memory.events import MemoryEventStore, ScriptedSink
from oms.domain.delivery_schedule import (
    JITTER,
    LONGEST_WAIT,
    MAX_ATTEMPTS,
    DeliveryStatus,
    base_delay,
    retry_delay,
    schedule_table,
)
from oms.domain.webhooks import WebhookEndpoint
from oms.services.deliveries import AttemptRecord
from oms.services.event_catalogue import ResourceRef
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.events import Outcome
from oms.services.ports import OutboxMessage, UnitOfWork
from oms.services.webhook_endpoints import EndpointHealth, record_endpoint_health

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TENANT = UUID(int=1)
FAIL = Outcome(delivered=False, status_code=500, error="answered 500")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _render(uow: UnitOfWork, tenant_id: UUID, ref: ResourceRef) -> dict[str, object]:
    return {"id": ref.key, "kind": ref.kind}


def _message(topic: str = "order.placed", **payload: object) -> OutboxMessage:
    return OutboxMessage(topic=topic, aggregate_id=uuid4(), payload=payload, created_at=START)


def _cycle(store: MemoryEventStore, sink: ScriptedSink, clock: Clock, rng: random.Random):
    fan_out(uow_factory=store.unit_of_work, sinks=[sink], render=_render, clock=clock, limit=100)
    return deliver_due(
        uow_factory=store.unit_of_work, sinks={sink.kind: sink}, clock=clock, rng=rng, limit=100
    )


def test_public_messages_are_fanned_out_to_every_subscriber_and_the_rest_to_nobody() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(keys=("a", "b"))
    created = store.add_message(TENANT, _message("order.placed"))
    store.add_message(TENANT, _message("fulfillment_order.picked"))

    report = _cycle(store, sink, clock, random.Random(1))

    assert sorted(sink.sent) == [(created, "a", 1), (created, "b", 1)]
    assert report.delivered == 2
    assert all(row.published_at == START for row in store.outbox.values())


def test_a_subscriber_failing_three_times_gets_the_event_on_the_fourth_attempt() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(answers=[FAIL, FAIL, FAIL])
    event_id = store.add_message(TENANT, _message())
    rng = random.Random(2)

    statuses = []
    for _ in range(4):
        statuses.extend(_cycle(store, sink, clock, rng).statuses.values())
        clock.now += LONGEST_WAIT * (1 + JITTER)

    assert statuses == [DeliveryStatus.PENDING] * 3 + [DeliveryStatus.DELIVERED]
    assert sink.sent == [(event_id, "subscriber", n) for n in (1, 2, 3, 4)]


def test_nothing_is_attempted_before_its_retry_is_due() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(answers=[FAIL])
    store.add_message(TENANT, _message())
    rng = random.Random(3)
    _cycle(store, sink, clock, rng)
    [delivery] = store.deliveries.values()
    due = delivery.next_attempt_at
    assert due is not None

    clock.now = due - timedelta(microseconds=1)
    assert _cycle(store, sink, clock, rng).claimed == 0
    clock.now = due
    assert _cycle(store, sink, clock, rng).delivered == 1


def test_after_the_last_attempt_of_the_schedule_the_delivery_is_dead() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(answers=[FAIL] * MAX_ATTEMPTS)
    store.add_message(TENANT, _message())
    for _ in range(MAX_ATTEMPTS + 2):
        _cycle(store, sink, clock, random.Random(4))
        clock.now += LONGEST_WAIT * (1 + JITTER)

    [delivery] = store.deliveries.values()
    assert (delivery.view.status, delivery.view.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert len(sink.sent) == MAX_ATTEMPTS


def test_a_manual_retry_of_a_dead_delivery_starts_the_schedule_again() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(answers=[FAIL] * (MAX_ATTEMPTS + 1))
    store.add_message(TENANT, _message())
    for _ in range(MAX_ATTEMPTS):
        _cycle(store, sink, clock, random.Random(4))
        clock.now += LONGEST_WAIT * (1 + JITTER)
    [delivery] = store.deliveries.values()
    with store.unit_of_work() as uow:
        assert uow.deliveries.retry(TENANT, delivery.view.id, at=clock())
        uow.commit()

    report = _cycle(store, sink, clock, random.Random(4))

    assert report.retrying == 1  # attempt 9 failed: the new round has seven retries left


def test_a_subscriber_that_is_gone_ends_its_deliveries_cancelled_without_a_send() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(gone={"subscriber"})
    store.add_message(TENANT, _message())

    report = _cycle(store, sink, clock, random.Random(5))

    assert (report.cancelled, sink.sent) == (1, [])


def test_an_expired_lease_lets_another_worker_take_the_delivery_and_fences_the_first() -> None:
    store, clock = MemoryEventStore(), Clock()
    store.add_message(TENANT, _message())
    fan_out(
        uow_factory=store.unit_of_work,
        sinks=[ScriptedSink()],
        render=_render,
        clock=clock,
        limit=10,
    )
    with store.unit_of_work() as uow:
        [first] = uow.deliveries.claim_due(
            now=clock(), lease_until=clock() + timedelta(minutes=2), limit=10
        )
        uow.commit()
    with store.unit_of_work() as uow:
        assert (
            uow.deliveries.claim_due(
                now=clock() + timedelta(minutes=1), lease_until=clock(), limit=10
            )
            == []
        )

    clock.now += timedelta(minutes=2)
    sink = ScriptedSink()
    report = deliver_due(
        uow_factory=store.unit_of_work,
        sinks={sink.kind: sink},
        clock=clock,
        rng=random.Random(6),
        limit=10,
    )
    with store.unit_of_work() as uow:
        late = uow.deliveries.record(
            [AttemptRecord(first, FAIL, clock(), DeliveryStatus.PENDING, clock())]
        )
        uow.commit()

    assert report.delivered == 1
    assert late == 0  # the first worker's lease was taken: its outcome is not stored
    [delivery] = store.deliveries.values()
    # The first worker's attempt was never recorded (it lost its lease): one attempt counted.
    assert (delivery.view.status, delivery.view.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_a_routing_step_that_spreads_an_order_over_two_locations_says_order_split() -> None:
    store, clock = MemoryEventStore(), Clock()

    def spread(uow: UnitOfWork, tenant_id: UUID, ref: ResourceRef) -> dict[str, object]:
        return {
            "id": ref.key,
            "allocations": [
                {"location_id": "A", "quantity": 1, "fulfilled": 0},
                {"location_id": "B", "quantity": 0, "fulfilled": 1},
            ],
        }

    store.add_message(TENANT, _message("order.released"))
    sink = ScriptedSink()
    for _ in range(2):
        fan_out(uow_factory=store.unit_of_work, sinks=[sink], render=spread, clock=clock, limit=10)

    assert sorted(r.event_type or "" for r in store.outbox.values()) == [
        "order.released",
        "order.split",
    ]


@pytest.mark.parametrize("failed", range(1, MAX_ATTEMPTS))
def test_each_wait_is_its_step_of_the_schedule_within_the_jitter(failed: int) -> None:
    rng = random.Random(failed)
    waits = [retry_delay(failed, rng) for _ in range(200)]

    base = base_delay(failed)
    assert all(w is not None and base * (1 - JITTER) <= w <= base * (1 + JITTER) for w in waits)
    assert len(set(waits)) > 1


def test_the_schedule_runs_from_seconds_to_a_day() -> None:
    table = schedule_table()

    assert table[0] == (2, timedelta(seconds=5))
    assert table[-1] == (MAX_ATTEMPTS, LONGEST_WAIT) or table[-1][1] <= LONGEST_WAIT
    assert [wait for _, wait in table] == sorted(wait for _, wait in table)
    assert retry_delay(MAX_ATTEMPTS, random.Random(1)) is None


def _endpoint(store: MemoryEventStore) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        tenant_id=TENANT,
        id=uuid4(),
        url="https://example.com/hooks",
        event_types=("*",),
        description=None,
        secret="whsec_" + "A" * 32,
        created_at=START,
    )
    store.endpoints[TENANT, endpoint.id] = endpoint
    return endpoint


def _verdict(
    store: MemoryEventStore, endpoint: WebhookEndpoint, delivered: bool, at: datetime
) -> None:
    with store.unit_of_work() as uow:
        record_endpoint_health(uow, [EndpointHealth(TENANT, endpoint.id, delivered)], at)
        uow.commit()


def test_an_endpoint_failing_for_three_days_is_disabled_once_and_its_tenant_told() -> None:
    store = MemoryEventStore()
    endpoint = _endpoint(store)
    _verdict(store, endpoint, False, START)
    _verdict(store, endpoint, False, START + timedelta(days=2, hours=23))
    assert store.endpoints[TENANT, endpoint.id].disabled_at is None

    _verdict(store, endpoint, False, START + timedelta(days=3))
    _verdict(store, endpoint, False, START + timedelta(days=4))

    found = store.endpoints[TENANT, endpoint.id]
    assert found.disabled_at == START + timedelta(days=3)
    told = [r.entry for r in store.outbox.values() if r.entry.topic == "webhook_endpoint.disabled"]
    assert [(m.aggregate_id, m.tenant_id) for m in told] == [(endpoint.id, TENANT)]


def test_one_success_between_failures_starts_the_three_days_again() -> None:
    store = MemoryEventStore()
    endpoint = _endpoint(store)
    _verdict(store, endpoint, False, START)
    _verdict(store, endpoint, True, START + timedelta(days=2))
    _verdict(store, endpoint, False, START + timedelta(days=2, hours=1))
    _verdict(store, endpoint, False, START + timedelta(days=4))

    found = store.endpoints[TENANT, endpoint.id]
    assert (found.disabled_at, found.failing_since) == (None, START + timedelta(days=2, hours=1))
