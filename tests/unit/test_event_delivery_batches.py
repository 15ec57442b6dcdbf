"""Delivery in batches, as ``oms worker`` runs it: a fan-out claims the deliveries it
creates and prepares them (no second claim), the batch's resources rendered together,
sends of a sink that ``SendsMany`` made in one call, attempts recorded per batch; on
in-memory ports."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from oms.adapters.memory.events import MemoryEventStore, ScriptedSink
from oms.domain.delivery_schedule import DeliveryStatus
from oms.services.event_catalogue import ResourceRef
from oms.services.event_delivery import (
    SendJob,
    claim_due_batch,
    deliver_due,
    fan_out_and_claim,
    record_batch,
    send_in_turn,
)
from oms.services.events import Outcome
from oms.services.ports import OutboxMessage, UnitOfWork
from oms.worker.runner import BatchSender

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TENANT = UUID(int=1)
LEASE = timedelta(minutes=2)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _render(uow: UnitOfWork, tenant_id: UUID, ref: ResourceRef) -> dict[str, object]:
    return {"id": ref.key, "one_by_one": True}


def _message(topic: str = "order.placed") -> OutboxMessage:
    return OutboxMessage(topic=topic, aggregate_id=uuid4(), payload={}, created_at=START)


def _claim(store: MemoryEventStore, sink: ScriptedSink, clock: Clock, **options: object):
    return fan_out_and_claim(
        uow_factory=store.unit_of_work,
        sinks=[sink],
        render=_render,
        clock=clock,
        limit=100,
        lease=LEASE,
        **options,  # type: ignore[arg-type]
    )


def test_a_fan_out_claims_what_it_creates_and_nobody_else_can_claim_it_meanwhile() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink(keys=("a", "b"))
    event_id = store.add_message(TENANT, _message())

    fanned, batch = _claim(store, sink, clock)

    assert fanned == 1
    assert sorted((job.event.id, job.key, job.attempt) for job in batch.jobs) == [
        (event_id, "a", 1),
        (event_id, "b", 1),
    ]
    others = claim_due_batch(
        uow_factory=store.unit_of_work, sinks={sink.kind: sink}, clock=clock, limit=100
    )
    assert len(others) == 0

    report = record_batch(
        uow_factory=store.unit_of_work,
        sinks={sink.kind: sink},
        batch=batch,
        outcomes=send_in_turn(batch.jobs, clock),
        clock=clock,
        rng=random.Random(1),
    )

    assert (report.claimed, report.delivered) == (2, 2)
    assert {d.view.status for d in store.deliveries.values()} == {DeliveryStatus.DELIVERED}


def test_what_a_worker_claimed_at_fan_out_and_never_recorded_is_sent_when_the_lease_ends() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink()
    event_id = store.add_message(TENANT, _message())
    _claim(store, sink, clock)  # the worker is killed before it sends

    def again() -> int:
        report = deliver_due(
            uow_factory=store.unit_of_work,
            sinks={sink.kind: sink},
            clock=clock,
            rng=random.Random(2),
            limit=100,
        )
        return report.delivered

    clock.now = START + LEASE - timedelta(microseconds=1)
    assert again() == 0
    clock.now = START + LEASE
    assert again() == 1
    assert sink.sent == [(event_id, "subscriber", 1)]


def test_a_batch_is_rendered_at_once_and_what_the_batch_renderer_leaves_out_one_by_one() -> None:
    store, clock = MemoryEventStore(), Clock()
    sink = ScriptedSink()
    first, second = _message(), _message()
    store.add_message(TENANT, first)
    store.add_message(TENANT, second)
    asked: list[Sequence[tuple[UUID, ResourceRef]]] = []

    def render_many(
        uow: UnitOfWork, refs: Sequence[tuple[UUID, ResourceRef]]
    ) -> dict[tuple[UUID, ResourceRef], dict[str, object] | None]:
        asked.append(refs)
        return {
            (tenant_id, ref): {"id": ref.key, "together": True}
            for tenant_id, ref in refs
            if ref.key == str(first.aggregate_id)
        }

    _, batch = _claim(store, sink, clock, render_many=render_many)

    assert len(asked) == 1
    assert {ref.key for _, ref in asked[0]} == {str(first.aggregate_id), str(second.aggregate_id)}
    data = {job.event.aggregate_id: job.event.data for job in batch.jobs}
    assert data[first.aggregate_id] == {"id": str(first.aggregate_id), "together": True}
    assert data[second.aggregate_id] == {"id": str(second.aggregate_id), "one_by_one": True}


class ManyAtOnce(ScriptedSink):
    """A sink that sends its batches itself; records each batch's size."""

    def __init__(self) -> None:
        super().__init__(kind="many")
        self.batches: list[int] = []

    def send_many(self, jobs: Sequence[SendJob]) -> list[Outcome]:
        self.batches.append(len(jobs))
        return [self.send(j.prepared, event=j.event, key=j.key, attempt=j.attempt) for j in jobs]


def test_a_sink_that_sends_many_gets_its_jobs_in_one_call_and_the_others_one_each() -> None:
    store, clock = MemoryEventStore(), Clock()
    many, single = ManyAtOnce(), ScriptedSink(keys=("x",))
    for _ in range(3):
        store.add_message(TENANT, _message())
    _, batch = fan_out_and_claim(
        uow_factory=store.unit_of_work,
        sinks=[many, single],
        render=_render,
        clock=clock,
        limit=100,
    )
    sender = BatchSender(threads=2)
    try:
        outcomes = sender(batch.jobs, clock)
    finally:
        sender.close()

    assert many.batches == [3]
    assert len(single.sent) == 3
    assert all(o is not None and o.delivered for o in outcomes)


def test_a_job_whose_deadline_has_passed_is_not_started() -> None:
    store, clock = MemoryEventStore(), Clock()
    many, single = ManyAtOnce(), ScriptedSink(keys=("x",))
    store.add_message(TENANT, _message())
    _, batch = fan_out_and_claim(
        uow_factory=store.unit_of_work,
        sinks=[many, single],
        render=_render,
        clock=clock,
        limit=100,
    )
    clock.now = max(job.deadline for job in batch.jobs)
    sender = BatchSender(threads=2)
    try:
        outcomes = sender(batch.jobs, clock)
    finally:
        sender.close()

    assert outcomes == [None, None]
    assert (many.sent, single.sent) == ([], [])
